package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// request builds a request with an identity state (client IP, principal).
func request(ip, principal string) *http.Request {
	r := httptest.NewRequest("POST", "/api/login", nil)
	r.RemoteAddr = "192.0.2.250:4444" // the proxy, when ip is set
	if ip != "" || principal != "" {
		ctx, st := reqctx.New(r.Context())
		if ip != "" {
			st.ClientIP = mustAddr(ip)
		}
		st.PrincipalID = principal
		r = r.WithContext(ctx)
	}
	return r
}

func keyOf(k ratelimit.KeySpec, r *http.Request) string {
	return string(ratelimit.AppendKey(k, nil, r))
}

func TestKeys(t *testing.T) {
	withHeader := func(r *http.Request, name, value string) *http.Request {
		r.Header.Set(name, value)
		return r
	}
	routed := request("203.0.113.7", "")
	routed.Pattern = "POST /api/login"
	tests := []struct {
		name string
		key  ratelimit.KeySpec
		r    *http.Request
		want string
	}{
		{"ip from identity", ratelimit.ByIP(), request("203.0.113.7", ""), "ip:203.0.113.7"},
		{"ipv4-mapped", ratelimit.ByIP(), request("::ffff:203.0.113.7", ""), "ip:203.0.113.7"},
		{"ipv6 grouped by /64", ratelimit.ByIP(), request("2001:db8:1:2:aaaa::1", ""), "ip:2001:db8:1:2::/64"},
		{"ipv6 same /64", ratelimit.ByIP(), request("2001:db8:1:2:ffff:ffff:ffff:ffff", ""), "ip:2001:db8:1:2::/64"},
		{"ip from peer without identity", ratelimit.ByIP(), request("", ""), "ip:192.0.2.250"},
		{"ip prefix", ratelimit.ByIPPrefix(24, 48), request("203.0.113.7", ""), "ip:203.0.113.0/24"},
		{"ip prefix v6", ratelimit.ByIPPrefix(24, 48), request("2001:db8:1:2::1", ""), "ip:2001:db8:1::/48"},
		{"principal", ratelimit.ByPrincipal(), request("203.0.113.7", "alice"), "p:alice"},
		{"anonymous principal is the ip", ratelimit.ByPrincipal(), request("203.0.113.7", ""), "ip:203.0.113.7"},
		{"header", ratelimit.ByHeader("x-tenant"), withHeader(request("", ""), "X-Tenant", "acme"), "h:acme"},
		{"missing header shares one bucket", ratelimit.ByHeader("X-Tenant"), request("", ""), "h!"},
		{"route pattern", ratelimit.ByRoute(), routed, "rt:POST /api/login"},
		{"route without pattern: one bucket, never the path", ratelimit.ByRoute(), request("", ""), "rt!"},
		{"func", ratelimit.ByFunc(func(*http.Request) (string, bool) { return "x", true }), request("", ""), "f:x"},
		{"func without key", ratelimit.ByFunc(func(*http.Request) (string, bool) { return "", false }), request("", ""), "f!"},
		{"compose", ratelimit.Compose(ratelimit.ByRoute(), ratelimit.ByIP()), routed, "rt:POST /api/login|ip:203.0.113.7"},
		{"missing api key", ratelimit.ByAPIKey("X-API-Key"), request("", ""), "ak!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyOf(tc.key, tc.r); got != tc.want {
				t.Fatalf("key = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeyNoPeerAddress(t *testing.T) {
	r := request("", "")
	r.RemoteAddr = "not an address"
	if got := keyOf(ratelimit.ByIP(), r); got != "ip!" {
		t.Fatalf("key = %q", got)
	}
}

func TestKeyAPIKeyIsHashed(t *testing.T) {
	secret := "demo-write-key-0002"
	r := request("", "")
	r.Header.Set("X-API-Key", secret)
	k := keyOf(ratelimit.ByAPIKey("X-API-Key"), r)
	if strings.Contains(k, secret) || strings.Contains(k, "0002") || !strings.HasPrefix(k, "ak:") || len(k) != 3+22 {
		t.Fatalf("api key not hashed: %q", k)
	}
	r.Header.Set("X-API-Key", "demo-read-key-0001")
	if k2 := keyOf(ratelimit.ByAPIKey("X-API-Key"), r); k2 == k {
		t.Fatal("two API keys share a key")
	}
}

// Values a client controls cannot forge another part's key or break out
// of the Redis hash tag: they are used as is only when short and plain.
func TestKeyUnsafeValuesAreDigested(t *testing.T) {
	for _, v := range []string{"acme|ip:203.0.113.7", "x}y", "{x}", "tab\there", "é", "#x", strings.Repeat("a", 65)} {
		r := request("", "")
		r.Header.Set("X-Tenant", v)
		k := keyOf(ratelimit.ByHeader("X-Tenant"), r)
		if !strings.HasPrefix(k, "h:#") || len(k) != 3+22 || strings.ContainsAny(k, "{}|") {
			t.Errorf("value %q gave key %q", v, k)
		}
	}
	r := request("", "")
	r.Header.Set("X-Tenant", strings.Repeat("a", 64))
	if k := keyOf(ratelimit.ByHeader("X-Tenant"), r); k != "h:"+strings.Repeat("a", 64) {
		t.Errorf("64-byte plain value: %q", k)
	}
}

func TestKeyBuildingAllocatesNothing(t *testing.T) {
	r := request("2001:db8::1", "alice")
	r.Pattern = "GET /api/items"
	r.Header.Set("X-API-Key", "demo-read-key-0001")
	buf := make([]byte, 0, 256)
	for _, k := range []ratelimit.KeySpec{ratelimit.ByIP(), ratelimit.ByPrincipal(), ratelimit.ByAPIKey("X-API-Key"),
		ratelimit.Compose(ratelimit.ByRoute(), ratelimit.ByIP())} {
		if n := testing.AllocsPerRun(100, func() { ratelimit.AppendKey(k, buf[:0], r) }); n != 0 {
			t.Errorf("%s: %v allocs", k, n)
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, s := range []string{"ip", "ip/24/48", "principal", "apikey:X-Api-Key", "header:X-Tenant", "route", "route+ip", "principal+header:X-Tenant"} {
		k, err := ratelimit.ParseKey(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if k.String() != s {
			t.Errorf("%q round-trips to %q", s, k.String())
		}
		var u ratelimit.KeySpec
		if err := u.UnmarshalText([]byte(s)); err != nil || u.String() != s {
			t.Errorf("UnmarshalText(%q) = %q, %v", s, u.String(), err)
		}
	}
	for _, s := range []string{"", "ip:x", "ip/7/64", "ip/24", "ip/a/b", "header", "header:", "header:bad name", "user", "route+", "func"} {
		if _, err := ratelimit.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if _, err := ratelimit.ByFunc(func(*http.Request) (string, bool) { return "", true }).MarshalText(); err == nil {
		t.Error("a ByFunc key marshalled")
	}
	if _, err := ratelimit.ByHeader("a+b").MarshalText(); err == nil {
		t.Error("a key whose text does not parse back marshalled")
	}
	if b, err := ratelimit.Compose(ratelimit.ByRoute(), ratelimit.ByIP()).MarshalText(); err != nil || string(b) != "route+ip" {
		t.Errorf("route+ip marshalled to %q, %v", b, err)
	}
	if !ratelimit.ByFunc(nil).IsZero() {
		t.Error("ByFunc(nil) is not the zero key")
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"ip", "ip/24/48", "route+ip", "apikey:X-API-Key", "header:X-Tenant+principal", "+", "ip/99/999", "header:a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ratelimit.ParseKey(s)
		if err != nil {
			return
		}
		again, err := ratelimit.ParseKey(k.String())
		if err != nil || again.String() != k.String() {
			t.Fatalf("%q parsed to %q, which does not round-trip: %v", s, k.String(), err)
		}
	})
}

// Whatever a client sends, the key is bounded, printable and free of the
// characters that delimit parts and Redis hash tags.
func FuzzKeyFromRequest(f *testing.F) {
	f.Add("acme", "alice", "/api/items", "203.0.113.7:1")
	f.Add("a|b{c}", "", "/x\x00y", "[2001:db8::1]:443")
	f.Add(strings.Repeat("z", 300), "p|q", "", "garbage")
	f.Fuzz(func(t *testing.T, header, principal, path, remote string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		r.RemoteAddr = remote
		r.Header["X-Tenant"] = []string{header}
		r.Header["X-Api-Key"] = []string{header}
		ctx, st := reqctx.New(r.Context())
		st.PrincipalID = principal
		r = r.WithContext(ctx)
		k := ratelimit.Compose(ratelimit.ByHeader("X-Tenant"), ratelimit.ByPrincipal(), ratelimit.ByRoute(),
			ratelimit.ByAPIKey("X-API-Key"), ratelimit.ByIP())
		got := keyOf(k, r)
		if len(got) > 5*(4+64) {
			t.Fatalf("key of %d bytes", len(got))
		}
		if strings.Count(got, "|") != 4 {
			t.Fatalf("key %q does not have 5 parts", got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 || c > 0x7e || c == '{' || c == '}' {
				t.Fatalf("key %q has byte %#x", got, c)
			}
		}
	})
}
