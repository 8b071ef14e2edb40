package jwt_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/problem"
)

// FuzzVerify drives the whole verification path (size and shape checks,
// header parsing, key selection, signature, claims decoding and
// validation) with mutated tokens. It checks that nothing panics, that
// every refusal is a 401 problem with a documented reason and that
// reason's detail, and that whatever is accepted really carries our HMAC
// over its signing input and an allowed header.
func FuzzVerify(f *testing.F) {
	seedHS := func(header string, c map[string]any) string {
		return jwttest.Craft(f, "HS256", jwttest.HMACSecret, []byte(header), jwttest.JSON(f, c))
	}
	f.Add(jwttest.HSToken(f, jwttest.Claims(nil)))
	f.Add(seedHS(`{"alg":"HS256","kid":"hs","typ":"at+jwt"}`, jwttest.Claims(map[string]any{"nested": map[string]any{"a": []any{1, "x", nil, true}}})))
	f.Add(seedHS(`{"alg":"HS256","kid":"hs","crit":["exp"]}`, jwttest.Claims(nil)))
	f.Add(seedHS(`{"alg":"HS256","kid":"hs","jku":"https://x"}`, jwttest.Claims(nil)))
	f.Add(seedHS(`{"alg":"HS256","kid":"h\u0073"}`, jwttest.Claims(map[string]any{"sub": "é😀"})))
	f.Add(seedHS(`{"alg":"HS256"}`, jwttest.Claims(map[string]any{"exp": 1.5e9, "nbf": "x"})))
	f.Add(jwttest.B64([]byte(`{"alg":"none"}`)) + "." + jwttest.B64([]byte(`{"sub":"a"}`)) + ".")
	f.Add(jwttest.Craft(f, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), nested(20)))
	f.Add(jwttest.Craft(f, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), []byte(`{"sub":"a","aud":"api","iss":"https://issuer.test","exp":1000000000,"exp":4102444800}`)))
	f.Add(jwttest.Craft(f, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), []byte(`{"sub":"a","aud":"api","iss":"https://issuer.test","exp":4102444800,"x":{"role":"user","r\u006fle":"admin"}}`)))
	f.Add("a.b.c")
	f.Add("....")
	f.Add("")
	v := jwttest.HSVerifier(f, func(o *jwt.VerifierOptions) { o.CacheSize = -1 })
	details := jwt.RefusalDetails()
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(bg, tok)
		if err != nil {
			pr, ok := problem.As(err)
			if !ok || pr.Status != 401 || pr.Type != problem.TypeInvalidToken {
				t.Fatalf("refusal %v is not a 401 invalid-token problem", err)
			}
			if d, documented := details[pr.Reason]; !documented || pr.Detail != d {
				t.Fatalf("refusal %v: reason %q, detail %q; documented detail %q", err, pr.Reason, pr.Detail, d)
			}
			return
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token with %d segments", len(parts))
		}
		mac := hmac.New(sha256.New, jwttest.HMACSecret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if parts[2] != base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) {
			t.Fatalf("accepted a token whose signature is not ours: %q", tok)
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var h map[string]any
		if err := json.Unmarshal(hdr, &h); err != nil || h["alg"] != "HS256" || h["crit"] != nil || h["jku"] != nil {
			t.Fatalf("accepted header %s", hdr)
		}
		if p == nil || !p.ExpiresAt.Add(time.Minute).After(jwttest.Now) {
			t.Fatalf("accepted an expired token: %+v", p)
		}
	})
}

// FuzzParseJWK checks that JWK and JWKS parsing never panics and never
// yields a key that is not bound to a supported algorithm.
func FuzzParseJWK(f *testing.F) {
	f.Add([]byte(`{"kty":"oct","alg":"HS256","k":"` + jwttest.B64(jwttest.HMACSecret) + `"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}`))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add([]byte(`{"kty":"RSA","alg":"RS256","n":"AQAB","e":"AQAB"}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","alg":"HS256","k":"` + jwttest.B64(jwttest.HMACSecret) + `"},{"kty":"EC","use":"enc"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := jwt.ParseJWK(b, ""); err == nil {
			if k.Alg() == "" || k.Type() == "" {
				t.Fatalf("key without algorithm from %q", b)
			}
		}
		ks, err := jwt.ParseJWKS(b, jwt.JWKSOptions{AllowSymmetric: true, DefaultAlg: jwt.RS256})
		if err == nil {
			for _, k := range ks {
				if k == nil || k.Alg() == "" {
					t.Fatalf("bad key from %q", b)
				}
			}
		}
	})
}

// FuzzAuthenticate fuzzes token extraction from the Authorization header
// and the cookie.
func FuzzAuthenticate(f *testing.F) {
	tok := jwttest.HSToken(f, jwttest.Claims(nil))
	f.Add("Bearer "+tok, "auth_token="+tok)
	f.Add("bearer   "+tok, "")
	f.Add("Basic YTpi", "a=b; auth_token=\""+tok+"\"")
	f.Add("Bearer", "auth_token=")
	v := jwttest.HSVerifier(f, func(o *jwt.VerifierOptions) {
		o.Sources = []jwt.TokenSource{{From: jwt.FromHeader}, {From: jwt.FromCookie, Name: "auth_token"}}
	})
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if cookie != "" {
			r.Header["Cookie"] = []string{cookie}
		}
		p, err := v.Authenticate(r)
		if err == nil && (p == nil || p.Subject != "alice") {
			t.Fatalf("accepted %q / %q as %+v", authz, cookie, p)
		}
	})
}
