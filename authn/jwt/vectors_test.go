package jwt_test

// Published test vectors: RFC 7515 Appendix A, RFC 7519, the RFC 7520
// cookbook and RFC 8037, and Project Wycheproof. The files are not ours and
// are never copied into the repository: the tests read them in place from
// $BULWARK_VECTORS, by default ../shared/vectors beside the repository
// root. Where they are absent the tests skip, except under CI, where they
// fail.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
)

// vectorsDir returns the vectors directory, or skips (fails under CI).
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BULWARK_VECTORS")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			t.Fatal("cannot locate the test file")
		}
		root := filepath.Dir(file)
		for {
			if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/bulwark-go/bulwark\n") {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatal("cannot find the repository root (go.mod of github.com/bulwark-go/bulwark)")
			}
			root = parent
		}
		dir = filepath.Join(root, "..", "shared", "vectors")
	}
	if _, err := os.Stat(dir); err != nil {
		missing(t, "test vectors directory %s is absent (set BULWARK_VECTORS): %v", dir, err)
	}
	return dir
}

func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format+" — vectors are required in CI", args...)
	}
	t.Skipf(format, args...)
}

func readVector(t *testing.T, parts ...string) []byte {
	t.Helper()
	path := filepath.Join(append([]string{vectorsDir(t)}, parts...)...)
	data, err := os.ReadFile(path)
	if err != nil {
		missing(t, "vector file %s is absent: %v", path, err)
	}
	return data
}

// jwsVerifier verifies with one key (its public half when it has one)
// and only its algorithm.
func jwsVerifier(t *testing.T, k *jwt.Key, now time.Time, issuers ...string) *jwt.Verifier {
	t.Helper()
	vk := k.Public()
	if vk == nil {
		vk = k
	}
	return jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{vk}, Issuers: issuers, Now: func() time.Time { return now }, CacheSize: -1})
}

// TestRFC7515AppendixA: the examples of RFC 7515 Appendix A (which RFC 7519
// §3.1 and §6.1 repeat) verify as the RFCs say, and the deterministic
// signatures (HS256, RS256) are reproduced by our signing path.
func TestRFC7515AppendixA(t *testing.T) {
	var doc struct {
		Items map[string]map[string]string `json:"items"`
	}
	if err := json.Unmarshal(readVector(t, "rfc7515_appendix_a", "rfc7515_src.json"), &doc); err != nil {
		t.Fatal(err)
	}
	beforeExp := time.Unix(1300819380-600, 0) // the examples expired in 2011
	cases := []struct {
		item, prefix, alg string
		jwt               bool // the payload is a JWT claims set
		deterministic     bool
	}{
		{"a.1", "a.1.1", jwt.HS256, true, true},
		{"a.2", "a.2.1", jwt.RS256, true, true},
		{"a.3", "a.3.1", jwt.ES256, true, false},
		{"a.4", "a.4.1", jwt.ES512, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.item, func(t *testing.T) {
			it := doc.Items[tc.item]
			if it == nil {
				t.Fatalf("item %s missing from the vector file", tc.item)
			}
			key, err := jwt.ParseJWK([]byte(it[tc.prefix+".jwk+json"]), tc.alg)
			if err != nil {
				t.Fatalf("key: %v", err)
			}
			compact := it[tc.prefix+".compact"]
			v := jwsVerifier(t, key, beforeExp, "joe")
			h, payload, err := v.VerifyJWS(bg, compact)
			if err != nil {
				t.Fatalf("VerifyJWS: %v", err)
			}
			if h.Alg != tc.alg || string(payload) != it[tc.prefix+".payload"] {
				t.Fatalf("header %+v payload %q", h, payload)
			}
			if tc.deterministic {
				expectSignature(t, key, it[tc.prefix+".signing-input"], it[tc.prefix+".signature-b64"])
			}
			if !tc.jwt {
				_, err := v.Verify(bg, compact)
				jwttest.ExpectRefused(t, err, jwt.ErrMalformed) // "Payload" is no claims set
				return
			}
			p, err := v.Verify(bg, compact)
			if err != nil {
				t.Fatalf("Verify before exp: %v", err)
			}
			if root, _ := authn.Claim[bool](p, "http://example.com/is_root"); !root || p.ExpiresAt.Unix() != 1300819380 {
				t.Fatalf("principal %+v", p)
			}
			late := jwsVerifier(t, key, time.Unix(1300819380+61, 0), "joe")
			_, err = late.Verify(bg, compact)
			jwttest.ExpectRefused(t, err, jwt.ErrExpired)
			// A flipped bit anywhere is refused.
			for _, i := range []int{3, len(compact) / 2, len(compact) - 3} {
				_, err := v.Verify(bg, flip(compact, i))
				jwttest.ExpectRefused(t, err, nil)
			}
		})
	}
	t.Run("a.5 unsecured", func(t *testing.T) {
		it := doc.Items["a.5"]
		key, err := jwt.ParseJWK([]byte(doc.Items["a.1"]["a.1.1.jwk+json"]), jwt.HS256)
		if err != nil {
			t.Fatal(err)
		}
		v := jwsVerifier(t, key, beforeExp)
		_, _, err = v.VerifyJWS(bg, it["a.5.compact"])
		jwttest.ExpectRefused(t, err, jwt.ErrAlgorithm)
		_, err = v.Verify(bg, it["a.5.compact"])
		jwttest.ExpectRefused(t, err, jwt.ErrAlgorithm)
	})
	// RFC 7519 §3.1's example JWT is Appendix A.1's token, and §6.1's
	// unsecured JWT is A.5's: the checks above cover RFC 7519 too.
	const rfc7519Example = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const rfc7519Unsecured = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
	if doc.Items["a.1"]["a.1.1.compact"] != rfc7519Example || doc.Items["a.5"]["a.5.compact"] != rfc7519Unsecured {
		t.Fatal("RFC 7519 §3.1/§6.1 examples no longer match RFC 7515 A.1/A.5")
	}
}

type cookbook struct {
	Title string `json:"title"`
	Input struct {
		Payload string          `json:"payload"`
		Key     json.RawMessage `json:"key"`
		Alg     json.RawMessage `json:"alg"`
	} `json:"input"`
	Signing json.RawMessage `json:"signing"`
	Output  struct {
		Compact  string          `json:"compact"`
		JSON     json.RawMessage `json:"json"`
		JSONFlat json.RawMessage `json:"json_flat"`
	} `json:"output"`
}

type cookbookSigning struct {
	ProtectedB64 string `json:"protected_b64u"`
	SigInput     string `json:"sig-input"`
	Sig          string `json:"sig"`
}

// loadCookbook reads a cookbook example.
func loadCookbook(t *testing.T, parts ...string) cookbook {
	t.Helper()
	var c cookbook
	if err := json.Unmarshal(readVector(t, append([]string{"rfc7520_cookbook"}, parts...)...), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// signing is the example's signing step (for an example with one signature).
func (c *cookbook) signing(t *testing.T) cookbookSigning {
	t.Helper()
	var s cookbookSigning
	if err := json.Unmarshal(c.Signing, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// singleKey returns the key of an example with one signature, its
// algorithm and a verifier for it.
func (c *cookbook) singleKey(t *testing.T) (*jwt.Key, string, *jwt.Verifier) {
	t.Helper()
	var alg string
	if err := json.Unmarshal(c.Input.Alg, &alg); err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseJWK(c.Input.Key, alg)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	return key, alg, jwsVerifier(t, key, jwttest.Now)
}

// expectSignature checks that our signature of input with a
// deterministic algorithm is the published one (base64url).
func expectSignature(t *testing.T, key *jwt.Key, input, want string) {
	t.Helper()
	sig, err := jwt.SignRaw(key, input)
	if err != nil {
		t.Fatal(err)
	}
	if jwttest.B64(sig) != want {
		t.Fatalf("our %s signature differs from the published one", key.Alg())
	}
}

// TestRFC7520Cookbook: the machine-readable RFC 7520 §4 and RFC 8037 JWS
// examples verify as JWS; JSON serializations (which Bulwark does not
// accept: tokens are compact) and RFC 7797 unencoded payloads are refused.
func TestRFC7520Cookbook(t *testing.T) {
	for _, tc := range []struct {
		path          []string
		deterministic bool
	}{
		{[]string{"jws", "4_1.rsa_v15_signature.json"}, true},
		{[]string{"jws", "4_2.rsa-pss_signature.json"}, false},
		{[]string{"jws", "4_3.ecdsa_signature.json"}, false},
		{[]string{"jws", "4_4.hmac-sha2_integrity_protection.json"}, true},
		{[]string{"curve25519", "jws.json"}, true}, // RFC 8037 A.4
	} {
		t.Run(tc.path[len(tc.path)-1], func(t *testing.T) {
			c := loadCookbook(t, tc.path...)
			key, alg, v := c.singleKey(t)
			h, payload, err := v.VerifyJWS(bg, c.Output.Compact)
			if err != nil {
				t.Fatalf("%s: %v", c.Title, err)
			}
			if h.Alg != alg || string(payload) != c.Input.Payload {
				t.Fatalf("header %+v payload %q", h, payload)
			}
			if tc.deterministic {
				s := c.signing(t)
				expectSignature(t, key, s.SigInput, s.Sig)
			}
			_, _, err = v.VerifyJWS(bg, flip(c.Output.Compact, len(c.Output.Compact)-5))
			jwttest.ExpectRefused(t, err, nil)
			for _, js := range []json.RawMessage{c.Output.JSON, c.Output.JSONFlat} {
				_, _, err := v.VerifyJWS(bg, string(js))
				jwttest.ExpectRefused(t, err, jwt.ErrMalformed)
			}
		})
	}
	t.Run("4_5 detached content", func(t *testing.T) {
		c := loadCookbook(t, "jws", "4_5.signature_with_detached_content.json")
		_, _, v := c.singleKey(t)
		// The detached form signs a payload it does not carry: refused as is...
		_, _, err := v.VerifyJWS(bg, c.Output.Compact)
		jwttest.ExpectRefused(t, err, jwt.ErrSignature)
		// ...and verifies once the payload is put back.
		parts := strings.Split(c.Output.Compact, ".")
		_, payload, err := v.VerifyJWS(bg, parts[0]+"."+jwttest.B64([]byte(c.Input.Payload))+"."+parts[2])
		if err != nil || string(payload) != c.Input.Payload {
			t.Fatalf("re-attached: %v", err)
		}
	})
	t.Run("4_6 protecting specific header fields", func(t *testing.T) {
		c := loadCookbook(t, "jws", "4_6.protecting_specific_header_fields.json")
		_, _, v := c.singleKey(t)
		// The compact form of the protected part verifies (the kid was unprotected).
		s := c.signing(t)
		if _, _, err := v.VerifyJWS(bg, s.SigInput+"."+s.Sig); err != nil {
			t.Fatal(err)
		}
		_, _, err := v.VerifyJWS(bg, string(c.Output.JSON))
		jwttest.ExpectRefused(t, err, jwt.ErrMalformed)
	})
	t.Run("4_7 protecting content only", func(t *testing.T) {
		c := loadCookbook(t, "jws", "4_7.protecting_content_only.json")
		_, _, v := c.singleKey(t)
		// No protected header: the algorithm is unauthenticated, refused.
		s := c.signing(t)
		_, _, err := v.VerifyJWS(bg, s.SigInput+"."+s.Sig)
		jwttest.ExpectRefused(t, err, jwt.ErrMalformed)
	})
	t.Run("4_8 multiple signatures", func(t *testing.T) {
		c := loadCookbook(t, "jws", "4_8.multiple_signatures.json")
		var algs []string
		var keys []json.RawMessage
		var signing []cookbookSigning
		if err := json.Unmarshal(c.Input.Alg, &algs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(c.Input.Key, &keys); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(c.Signing, &signing); err != nil {
			t.Fatal(err)
		}
		verified := 0
		for i := range algs {
			key, err := jwt.ParseJWK(keys[i], algs[i])
			if err != nil {
				t.Fatal(err)
			}
			v := jwsVerifier(t, key, jwttest.Now)
			tok := signing[i].ProtectedB64 + "." + strings.SplitN(signing[i].SigInput, ".", 2)[1] + "." + signing[i].Sig
			var hdr map[string]any
			raw, _ := base64.RawURLEncoding.DecodeString(signing[i].ProtectedB64)
			_ = json.Unmarshal(raw, &hdr)
			_, _, err = v.VerifyJWS(bg, tok)
			if hdr["alg"] == algs[i] {
				if err != nil {
					t.Fatalf("signature %d (%s): %v", i, algs[i], err)
				}
				verified++
			} else {
				// alg only in the unprotected header: not authenticated, refused.
				jwttest.ExpectRefused(t, err, nil)
			}
		}
		if verified < 2 {
			t.Fatalf("only %d signatures verified", verified)
		}
		_, _, err := jwsVerifier(t, jwttest.Key(t, "", jwt.HS256, jwttest.HMACSecret), jwttest.Now).VerifyJWS(bg, string(c.Output.JSON))
		jwttest.ExpectRefused(t, err, jwt.ErrMalformed)
	})
	t.Run("RFC 7797 b64 false", func(t *testing.T) {
		c := loadCookbook(t, "rfc7797", "hmac-sha2_b64_false.json")
		_, _, v := c.singleKey(t)
		_, _, err := v.VerifyJWS(bg, c.Output.Compact)
		jwttest.ExpectRefused(t, err, jwt.ErrMalformed) // the unencoded payload has spaces
		// Even re-encoded, the crit b64 header is refused.
		parts := strings.SplitN(c.Output.Compact, ".", 3)
		_, _, err = v.VerifyJWS(bg, parts[0]+"."+jwttest.B64([]byte(parts[1]))+"."+parts[2])
		jwttest.ExpectRefused(t, err, jwt.ErrHeader)
	})
}
