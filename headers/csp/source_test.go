package csp_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/headers/csp"
)

func TestParseSourceValid(t *testing.T) {
	const h256 = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
	tests := []struct {
		in   string
		kind csp.SourceKind
		want string
	}{
		{"'self'", csp.KindKeyword, "'self'"},
		{"'SELF'", csp.KindKeyword, "'self'"},
		{"'none'", csp.KindNone, "'none'"},
		{"'unsafe-inline'", csp.KindKeyword, "'unsafe-inline'"},
		{"'unsafe-eval'", csp.KindKeyword, "'unsafe-eval'"},
		{"'wasm-unsafe-eval'", csp.KindKeyword, "'wasm-unsafe-eval'"},
		{"'strict-dynamic'", csp.KindKeyword, "'strict-dynamic'"},
		{"'unsafe-hashes'", csp.KindKeyword, "'unsafe-hashes'"},
		{"'report-sample'", csp.KindKeyword, "'report-sample'"},
		{"*", csp.KindWildcard, "*"},
		{"https:", csp.KindScheme, "https:"},
		{"DATA:", csp.KindScheme, "data:"},
		{"blob:", csp.KindScheme, "blob:"},
		{"web+app-1:", csp.KindScheme, "web+app-1:"},
		{"example.com", csp.KindHost, "example.com"},
		{"Example.COM", csp.KindHost, "example.com"},
		{"example.com.", csp.KindHost, "example.com."},
		{"*.example.com", csp.KindHost, "*.example.com"},
		{"https://*.example.com", csp.KindHost, "https://*.example.com"},
		{"HTTPS://cdn.example.com:8443", csp.KindHost, "https://cdn.example.com:8443"},
		{"https://cdn.example.com:*", csp.KindHost, "https://cdn.example.com:*"},
		{"wss://ws.example.com/socket", csp.KindHost, "wss://ws.example.com/socket"},
		{"cdn.example.com/js/", csp.KindHost, "cdn.example.com/js/"},
		{"cdn.example.com/a%20b/C~x@y:z", csp.KindHost, "cdn.example.com/a%20b/C~x@y:z"},
		{"localhost:3000", csp.KindHost, "localhost:3000"},
		{"127.0.0.1", csp.KindHost, "127.0.0.1"},
		{"https://*", csp.KindHost, "https://*"},
		{h256, csp.KindHash, h256},
		{"'SHA256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='", csp.KindHash, h256},
		{"'sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'", csp.KindHash, "'sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'"},
		{"'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb'", csp.KindHash, "'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb'"},
		{"'nonce-QUJDREVGR0hJSktMTU5PUFFSU1RVVg=='", csp.KindNonce, "'nonce-QUJDREVGR0hJSktMTU5PUFFSU1RVVg=='"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := csp.ParseSource(tc.in)
			if err != nil {
				t.Fatalf("ParseSource(%q): %v", tc.in, err)
			}
			if s.Kind != tc.kind || s.String() != tc.want {
				t.Fatalf("ParseSource(%q) = %v %q, want %v %q", tc.in, s.Kind, s, tc.kind, tc.want)
			}
		})
	}
}

func TestParseSourceInvalid(t *testing.T) {
	tests := []struct {
		in      string
		errPart string
	}{
		{"", "empty"},
		{"self", "did you mean 'self'?"},
		{"SELF", "did you mean 'self'?"},
		{"none", "did you mean 'none'?"},
		{"unsafe-inline", "did you mean 'unsafe-inline'?"},
		{"strict-dynamic", "did you mean 'strict-dynamic'?"},
		{"nonce-abc", "must be quoted"},
		{"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "must be quoted"},
		{"data", "did you mean the scheme data:?"},
		{"https", "did you mean the scheme https:?"},
		{"'self", "unbalanced quote"},
		{"'self''", "quote inside"},
		{"'unsafe-everything'", "unknown keyword"},
		{"'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk='", "unknown keyword"},
		{"'sha256-abc'", "is 32 bytes"},
		{"'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=='", "must be base64"},
		{"'sha256-!!!'", "must be base64"},
		{"'sha256-'", "must be base64"},
		{"'nonce-short'", "at least 128 bits"},
		{"'nonce-a b'", "visible ASCII"},
		{"example.com; script-src *", "visible ASCII"},
		{"example.com,evil.com", "visible ASCII"},
		{"a.com\r\nSet-Cookie: x=1", "visible ASCII"},
		{"exa mple.com", "visible ASCII"},
		{"exämple.com", "visible ASCII"},
		{"1http:", "invalid scheme"},
		{"ht_tp://example.com", "invalid scheme"},
		{"https:/example.com", "followed by \"://\""},
		{"https://", "missing host"},
		{"https://:443", "missing host"},
		{"ex*ample.com", "wildcard"},
		{"*example.com", "wildcard"},
		{"foo.*.example.com", "wildcard"},
		{"*.", "no name"},
		{"example..com", "empty label"},
		{"exa_mple.com", "invalid character"},
		{"[::1]", "invalid character"},
		{"example.com:0", "port"},
		{"example.com:65536", "port"},
		{"example.com:+80", "port"},
		{"example.com:", "empty port"},
		{"example.com:http", "port"},
		{"example.com/a b", "visible ASCII"},
		{"example.com/a%zz", "percent-encoding"},
		{"example.com/a\"b", "invalid character"},
		{"example.com/<script>", "invalid character"},
		{strings.Repeat("a", 64) + ".com", "longer than 63"},
		{strings.Repeat("a.", 600) + "com", "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := csp.ParseSource(tc.in)
			if err == nil {
				t.Fatalf("ParseSource(%q) = %q, want an error containing %q", tc.in, s, tc.errPart)
			}
			if !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("ParseSource(%q) error %q does not contain %q", tc.in, err, tc.errPart)
			}
		})
	}
}

func TestHash(t *testing.T) {
	// The empty string's SHA-256, as browsers print it in console errors.
	got, err := csp.Hash("sha256", "")
	if err != nil || got != "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='" {
		t.Fatalf("Hash(sha256, \"\") = %q, %v", got, err)
	}
	for _, alg := range []string{"sha256", "sha384", "sha512"} {
		h, err := csp.Hash(alg, "alert(1)")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := csp.ParseSource(h); err != nil || s.Kind != csp.KindHash {
			t.Fatalf("Hash(%s) = %q does not parse as a hash: %v", alg, h, err)
		}
	}
	if _, err := csp.Hash("md5", "x"); err == nil {
		t.Fatal("Hash(md5) succeeded")
	}
}

// FuzzSource checks that ParseSource never panics, that what it accepts
// cannot break out of a source (no whitespace, ';', ',', control bytes),
// and that the canonical form parses to itself.
func FuzzSource(f *testing.F) {
	for _, s := range []string{
		"'self'", "'none'", "*", "https:", "data:", "example.com", "*.example.com",
		"https://cdn.example.com:443/js/", "https://x.example.com:*", "'strict-dynamic'",
		"'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='", "'nonce-QUJDREVGR0hJSktMTU5PUFFSU1RVVg=='",
		"self", "'self", "a.com;b", "ex*ample.com", "http://[::1]", "example.com:99999", "/path", "'", "''", ":",
		"https://a.com/%41%", "ws://a.b.c.d.e.f.g/~!$&'()*+=:@", "*.", "a..b", "x:", "'sha512-'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := csp.ParseSource(in)
		if err != nil {
			if s != (csp.Source{}) {
				t.Fatalf("error %v with non-zero source %q", err, s)
			}
			return
		}
		v := s.String()
		if v == "" {
			t.Fatalf("ParseSource(%q) accepted an empty source", in)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
				t.Fatalf("ParseSource(%q) = %q contains %q", in, v, c)
			}
		}
		again, err := csp.ParseSource(v)
		if err != nil || again != s {
			t.Fatalf("canonical form %q of %q reparses as %q, %v", v, in, again, err)
		}
		if !strings.EqualFold(v, in) && s.Kind != csp.KindHost && s.Kind != csp.KindHash && s.Kind != csp.KindNonce {
			t.Fatalf("canonical %q differs from %q beyond case", v, in)
		}
	})
}
