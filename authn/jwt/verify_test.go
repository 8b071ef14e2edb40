package jwt_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/problem"
)

func TestVerifyValidToken(t *testing.T) {
	v := jwttest.HSVerifier(t, nil)
	p, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"tenant": "acme", "n": 3})))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "alice" || p.Method != "jwt" || p.TokenID != "token-1" {
		t.Fatalf("principal %+v", p)
	}
	if !p.HasRole("admin") || !p.HasScope("read") || !p.HasScope("write") || p.HasScope("read write") {
		t.Fatalf("roles %v scopes %v", p.Roles, p.Scopes)
	}
	if !p.ExpiresAt.Equal(jwttest.Now.Add(time.Hour)) {
		t.Fatalf("ExpiresAt %v", p.ExpiresAt)
	}
	if tenant, ok := authn.Claim[string](p, "tenant"); !ok || tenant != "acme" {
		t.Fatalf("tenant claim %q %v", tenant, ok)
	}
	if n, ok := authn.Claim[float64](p, "n"); !ok || n != 3 {
		t.Fatalf("numeric claim %v %v", n, ok)
	}
}

func TestRolesAndScopesClaimForms(t *testing.T) {
	v := jwttest.HSVerifier(t, nil)
	tests := []struct {
		name   string
		extra  map[string]any
		roles  []string
		scopes []string
	}{
		{"role string", map[string]any{"roles": nil, "role": "editor"}, []string{"editor"}, []string{"read", "write"}},
		{"scp array", map[string]any{"scope": nil, "scp": []string{"a", "b"}}, []string{"admin"}, []string{"a", "b"}},
		{"scopes array", map[string]any{"scope": nil, "scopes": []string{"x"}}, []string{"admin"}, []string{"x"}},
		{"scp string", map[string]any{"scope": nil, "scp": "p q"}, []string{"admin"}, []string{"p", "q"}},
		{"none", map[string]any{"scope": nil, "roles": nil}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(tc.extra)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(p.Roles, ",") != strings.Join(tc.roles, ",") || strings.Join(p.Scopes, ",") != strings.Join(tc.scopes, ",") {
				t.Fatalf("roles %v scopes %v, want %v %v", p.Roles, p.Scopes, tc.roles, tc.scopes)
			}
		})
	}
}

func TestAsymmetricAlgorithmsRoundTrip(t *testing.T) {
	rsaKey, ecKey, edKey := jwttest.Keys(t)
	for _, tc := range []struct {
		alg      string
		material any
	}{
		{jwt.RS256, rsaKey}, {jwt.RS512, rsaKey}, {jwt.PS256, rsaKey}, {jwt.PS384, rsaKey},
		{jwt.ES256, ecKey}, {jwt.EdDSA, edKey}, {jwt.HS384, []byte(strings.Repeat("k", 48))}, {jwt.HS512, []byte(strings.Repeat("k", 64))},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			key := jwttest.Key(t, "k-"+tc.alg, tc.alg, tc.material)
			iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}, Now: func() time.Time { return jwttest.Now }})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := iss.Issue(jwt.Claims{Subject: "bob", Roles: []string{"user"}, Scopes: []string{"read"}})
			if err != nil {
				t.Fatal(err)
			}
			verifyKey := key.Public()
			if verifyKey == nil {
				verifyKey = key
			}
			v := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{verifyKey}, Issuers: []string{"https://issuer.test"}, Audience: []string{"api"}, Type: "at+jwt", Now: func() time.Time { return jwttest.Now }})
			p, err := v.Verify(bg, tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject != "bob" || !p.HasRole("user") || !p.HasScope("read") || p.TokenID == "" {
				t.Fatalf("principal %+v", p)
			}
			// One flipped bit in the signature is refused.
			parts := strings.Split(tok, ".")
			sig := []byte(parts[2])
			sig[2] ^= 1
			_, err = v.Verify(bg, parts[0]+"."+parts[1]+"."+string(sig))
			jwttest.ExpectRefused(t, err, nil)
		})
	}
}

func TestKeyRotationWithOverlap(t *testing.T) {
	oldKey := jwttest.Key(t, "2025", jwt.HS256, []byte(strings.Repeat("o", 32)))
	newKey := jwttest.Key(t, "2026", jwt.HS256, []byte(strings.Repeat("n", 32)))
	issue := func(k *jwt.Key) string {
		iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, Now: func() time.Time { return jwttest.Now }})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := iss.Issue(jwt.Claims{Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	oldTok, newTok := issue(oldKey), issue(newKey)
	both := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{oldKey, newKey}, Now: func() time.Time { return jwttest.Now }})
	for _, tok := range []string{oldTok, newTok} {
		if _, err := both.Verify(bg, tok); err != nil {
			t.Fatalf("during the overlap: %v", err)
		}
	}
	after := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{newKey}, Now: func() time.Time { return jwttest.Now }})
	if _, err := after.Verify(bg, newTok); err != nil {
		t.Fatal(err)
	}
	_, err := after.Verify(bg, oldTok)
	jwttest.ExpectRefused(t, err, jwt.ErrUnknownKey)
	// A token without kid is tried against every key of its algorithm.
	noKid := jwttest.Craft(t, "HS256", []byte(strings.Repeat("o", 32)), []byte(`{"alg":"HS256"}`), jwttest.JSON(t, map[string]any{"sub": "s", "exp": jwttest.Now.Add(time.Hour).Unix()}))
	if _, err := both.Verify(bg, noKid); err != nil {
		t.Fatalf("token without kid: %v", err)
	}
}

// TestAttacks: every token here must be refused with the named error.
func TestAttacks(t *testing.T) {
	rsaKey, _, _ := jwttest.Keys(t)
	hs := func(header string, c map[string]any) string {
		return jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(header), jwttest.JSON(t, c))
	}
	valid := jwttest.HSToken(t, jwttest.Claims(nil))
	parts := strings.Split(valid, ".")
	unsigned := func(header string) string {
		return jwttest.B64([]byte(header)) + "." + jwttest.B64(jwttest.JSON(t, jwttest.Claims(nil))) + "."
	}
	// RS256 → HS256: the RSA public key, as PEM or DER, used as an HMAC secret.
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsVerifier := jwttest.Verifier(t, jwt.VerifierOptions{
		Keys: []*jwt.Key{jwttest.Key(t, "rs", jwt.RS256, &rsaKey.PublicKey), jwttest.Key(t, "hs", jwt.HS256, jwttest.HMACSecret)},
		Now:  func() time.Time { return jwttest.Now },
	})
	rsOnly := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{jwttest.Key(t, "rs", jwt.RS256, &rsaKey.PublicKey)}, Now: func() time.Time { return jwttest.Now }})
	confusionPEM := jwttest.Craft(t, "HS256", pubPEM, []byte(`{"alg":"HS256","kid":"rs"}`), jwttest.JSON(t, jwttest.Claims(map[string]any{"aud": nil})))
	confusionDER := jwttest.Craft(t, "HS256", der, []byte(`{"alg":"HS256","kid":"rs"}`), jwttest.JSON(t, jwttest.Claims(map[string]any{"aud": nil})))

	v := jwttest.HSVerifier(t, nil)
	tests := []struct {
		name string
		v    *jwt.Verifier
		tok  string
		want error
	}{
		{"alg none", v, unsigned(`{"alg":"none"}`), jwt.ErrAlgorithm},
		{"alg None", v, unsigned(`{"alg":"None"}`), jwt.ErrAlgorithm},
		{"alg NONE", v, unsigned(`{"alg":"NONE"}`), jwt.ErrAlgorithm},
		{"alg nOnE", v, unsigned(`{"alg":"nOnE"}`), jwt.ErrAlgorithm},
		{"alg none with a signature", v, jwttest.B64([]byte(`{"alg":"none","kid":"hs"}`)) + "." + parts[1] + "." + parts[2], jwt.ErrAlgorithm},
		{"alg none signed as HS256", v, hs(`{"alg":"none","kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrAlgorithm},
		{"alg missing", v, hs(`{"kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrAlgorithm},
		{"alg in another case", v, hs(`{"alg":"hs256","kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrAlgorithm},
		{"ALG member name", v, hs(`{"ALG":"HS256","kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrAlgorithm},
		{"alg not allowed", v, jwttest.Craft(t, "HS512", []byte(strings.Repeat("k", 64)), []byte(`{"alg":"HS512","kid":"hs"}`), jwttest.JSON(t, jwttest.Claims(nil))), jwt.ErrAlgorithm},
		{"RS256 to HS256 with PEM public key (HS256 allowed)", rsVerifier, confusionPEM, jwt.ErrAlgorithm},
		{"RS256 to HS256 with DER public key (HS256 allowed)", rsVerifier, confusionDER, jwt.ErrAlgorithm},
		{"RS256 to HS256 with PEM public key (RS256 only)", rsOnly, confusionPEM, jwt.ErrAlgorithm},
		{"stripped signature", v, parts[0] + "." + parts[1] + ".", jwt.ErrAlgorithm},
		{"stripped signature and dot", v, parts[0] + "." + parts[1], jwt.ErrMalformed},
		{"altered signature", v, parts[0] + "." + parts[1] + "." + flip(parts[2], 5), jwt.ErrSignature},
		{"signature of another token", v, parts[0] + "." + parts[1] + "." + strings.Split(jwttest.HSToken(t, jwttest.Claims(map[string]any{"sub": "bob"})), ".")[2], jwt.ErrSignature},
		{"tampered payload", v, parts[0] + "." + jwttest.B64(jwttest.JSON(t, jwttest.Claims(map[string]any{"roles": []string{"superadmin"}}))) + "." + parts[2], jwt.ErrSignature},
		{"tampered header", v, jwttest.B64([]byte(`{"alg":"HS256","kid":"hs","typ":"at+jwt"}`)) + "." + parts[1] + "." + parts[2], jwt.ErrSignature},
		{"unknown kid", v, hs(`{"alg":"HS256","kid":"other"}`, jwttest.Claims(nil)), jwt.ErrUnknownKey},
		{"kid path traversal", v, hs(`{"alg":"HS256","kid":"../../../../dev/null"}`, jwttest.Claims(nil)), jwt.ErrUnknownKey},
		{"kid SQL injection", v, hs(`{"alg":"HS256","kid":"hs' OR '1'='1"}`, jwttest.Claims(nil)), jwt.ErrUnknownKey},
		{"kid with NUL", v, hs(`{"alg":"HS256","kid":"hs\u0000"}`, jwttest.Claims(nil)), jwt.ErrUnknownKey},
		{"kid too long", v, hs(`{"alg":"HS256","kid":"`+strings.Repeat("a", 300)+`"}`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"kid not a string", v, hs(`{"alg":"HS256","kid":7}`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"jku header", v, hs(`{"alg":"HS256","kid":"hs","jku":"https://attacker.test/jwks.json"}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"x5u header", v, hs(`{"alg":"HS256","kid":"hs","x5u":"https://attacker.test/cert.pem"}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"embedded jwk header", v, hs(`{"alg":"HS256","kid":"hs","jwk":{"kty":"oct","k":"AAAA"}}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"crit with an unknown extension", v, hs(`{"alg":"HS256","kid":"hs","crit":["http://example.com/ext"],"http://example.com/ext":true}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"crit b64", v, hs(`{"alg":"HS256","kid":"hs","b64":false,"crit":["b64"]}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"crit empty", v, hs(`{"alg":"HS256","kid":"hs","crit":[]}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"JWE header members", v, hs(`{"alg":"HS256","kid":"hs","enc":"A256GCM"}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"nested JWT", v, hs(`{"alg":"HS256","kid":"hs","cty":"JWT"}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"duplicate alg member", v, hs(`{"alg":"none","alg":"HS256","kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"duplicate kid member", v, hs(`{"alg":"HS256","kid":"x","kid":"hs"}`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"header not an object", v, hs(`["alg","HS256"]`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"header with trailing data", v, hs(`{"alg":"HS256","kid":"hs"} x`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"expired", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Add(-2 * time.Minute).Unix()})), jwt.ErrExpired},
		{"expired long ago", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": 1300819380})), jwt.ErrExpired},
		{"not yet valid", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"nbf": jwttest.Now.Add(2 * time.Minute).Unix()})), jwt.ErrNotYetValid},
		{"issued in the future", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"iat": jwttest.Now.Add(2 * time.Minute).Unix()})), jwt.ErrNotYetValid},
		{"wrong audience", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": "other-api"})), jwt.ErrClaims},
		{"wrong audience array", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": []string{"x", "y"}})), jwt.ErrClaims},
		{"missing audience", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": nil})), jwt.ErrClaims},
		{"wrong issuer", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"iss": "https://evil.test"})), jwt.ErrClaims},
		{"missing issuer", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"iss": nil})), jwt.ErrClaims},
		{"missing exp", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": nil})), jwt.ErrClaims},
		{"exp as a string", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": "2099-01-01"})), jwt.ErrClaims},
		{"exp absurd", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": 1e300})), jwt.ErrClaims},
		{"sub not a string", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"sub": 42})), jwt.ErrClaims},
		{"roles not strings", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"roles": []any{"admin", 1}})), jwt.ErrClaims},
		{"aud not strings", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": []any{"api", true}})), jwt.ErrClaims},
		{"refresh token as access token (typ)", v, hs(`{"alg":"HS256","kid":"hs","typ":"refresh+jwt"}`, jwttest.Claims(nil)), jwt.ErrHeader},
		{"refresh token as access token (token_use)", v, jwttest.HSToken(t, jwttest.Claims(map[string]any{"token_use": "refresh"})), jwt.ErrClaims},
		{"non-canonical base64 signature", v, parts[0] + "." + parts[1] + "." + nonCanonical(parts[2]), jwt.ErrMalformed},
		{"non-canonical base64 header", v, nonCanonical(parts[0]) + "." + parts[1] + "." + parts[2], jwt.ErrMalformed},
		{"padded base64", v, parts[0] + "." + parts[1] + "." + parts[2] + "=", jwt.ErrMalformed},
		{"standard base64 alphabet", v, strings.NewReplacer("-", "+", "_", "/").Replace(parts[0]+"."+parts[1]) + "." + parts[2] + "+", jwt.ErrMalformed},
		{"trailing segment", v, valid + ".", jwt.ErrMalformed},
		{"trailing data segment", v, valid + ".e30", jwt.ErrMalformed},
		{"trailing space", v, valid + " ", jwt.ErrMalformed},
		{"trailing newline", v, valid + "\n", jwt.ErrMalformed},
		{"embedded newline", v, parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2], jwt.ErrMalformed},
		{"two JSON objects as claims", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), append(jwttest.JSON(t, jwttest.Claims(nil)), []byte(`{"sub":"root"}`)...)), jwt.ErrMalformed},
		{"claims with trailing garbage", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), append(jwttest.JSON(t, jwttest.Claims(nil)), []byte(` x`)...)), jwt.ErrMalformed},
		{"claims an array", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), []byte(`[1,2]`)), jwt.ErrMalformed},
		{"claims null", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), []byte(`null`)), jwt.ErrMalformed},
		{"claims empty", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), nil), jwt.ErrMalformed},
		{"claims invalid UTF-8", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), []byte("{\"sub\":\"al\xffice\",\"exp\":9999999999}")), jwt.ErrMalformed},
		{"deeply nested claims", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), nested(100)), jwt.ErrMalformed},
		{"very deeply nested claims", v, jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs"}`), nested(3000)), jwt.ErrMalformed},
		{"deeply nested header", v, hs(`{"alg":"HS256","kid":"hs","x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, jwttest.Claims(nil)), jwt.ErrMalformed},
		{"1 MB token", v, strings.Repeat("a", 1<<20), jwt.ErrTooLarge},
		{"1 MB token of a valid shape", v, parts[0] + "." + strings.Repeat("A", 1<<20) + "." + parts[2], jwt.ErrTooLarge},
		{"token of dots", v, strings.Repeat(".", 8000), jwt.ErrMalformed},
		{"empty token", v, "", jwt.ErrMalformed},
		{"JSON serialization", v, `{"payload":"e30","signatures":[]}`, jwt.ErrMalformed},
		{"five segments (JWE)", v, "a.b.c.d.e", jwt.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(bg, tc.tok)
			jwttest.ExpectRefused(t, err, tc.want)
		})
	}
}

// flip changes the i-th character of a base64url string.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// nonCanonical changes the unused low bits of the last character of an
// unpadded base64url string whose length is not a multiple of 4: the
// decoded bytes are the same, the encoding is not.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		panic("segment has no unused bits")
	}
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func nested(depth int) []byte {
	return []byte(`{"sub":"a","exp":9999999999,"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
}

func TestOversizedTokensAreCheap(t *testing.T) {
	v := jwttest.HSVerifier(t, nil)
	huge := strings.Repeat("a", 1<<20)
	dots := strings.Repeat(".", 8000)
	for name, tok := range map[string]string{"1 MB": huge, "dots": dots} {
		allocs := testing.AllocsPerRun(20, func() { _, _ = v.Verify(bg, tok) })
		if allocs > 4 { // the problem value and its error only
			t.Errorf("%s token: %.0f allocations, want the refusal alone", name, allocs)
		}
	}
}

func TestLeeway(t *testing.T) {
	v := jwttest.HSVerifier(t, nil) // default leeway 60s
	if _, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Add(-30 * time.Second).Unix()}))); err != nil {
		t.Fatalf("exp 30s ago within the 60s leeway: %v", err)
	}
	if _, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"nbf": jwttest.Now.Add(30 * time.Second).Unix()}))); err != nil {
		t.Fatalf("nbf in 30s within the leeway: %v", err)
	}
	strict := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Leeway = -1 })
	_, err := strict.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Add(-time.Second).Unix()})))
	jwttest.ExpectRefused(t, err, jwt.ErrExpired)
	if r := jwttest.Reason(err); r != "token_expired" {
		t.Fatalf("reason %q", r)
	}
	_, err = strict.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Unix()})))
	jwttest.ExpectRefused(t, err, jwt.ErrExpired) // exp is the first invalid instant
}

func TestAudienceRules(t *testing.T) {
	noAud := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Audience = nil })
	_, err := noAud.Verify(bg, jwttest.HSToken(t, jwttest.Claims(nil)))
	jwttest.ExpectRefused(t, err, jwt.ErrClaims) // RFC 7519 §4.1.3
	if _, err := noAud.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": nil}))); err != nil {
		t.Fatalf("no aud on either side: %v", err)
	}
	multi := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Audience = []string{"api", "admin-api"} })
	if _, err := multi.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"aud": []string{"other", "admin-api"}}))); err != nil {
		t.Fatal(err)
	}
}

func TestExplicitTyping(t *testing.T) {
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Type = "at+jwt" })
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt"} {
		tok := jwttest.Craft(t, "HS256", jwttest.HMACSecret, jwttest.JSON(t, map[string]string{"alg": "HS256", "kid": "hs", "typ": typ}), jwttest.JSON(t, jwttest.Claims(nil)))
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatalf("typ %q: %v", typ, err)
		}
	}
	for _, typ := range []string{"JWT", "", "application/jwt"} {
		h := map[string]string{"alg": "HS256", "kid": "hs"}
		if typ != "" {
			h["typ"] = typ
		}
		_, err := v.Verify(bg, jwttest.Craft(t, "HS256", jwttest.HMACSecret, jwttest.JSON(t, h), jwttest.JSON(t, jwttest.Claims(nil))))
		jwttest.ExpectRefused(t, err, jwt.ErrHeader)
	}
	if _, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{jwttest.Key(t, "hs", jwt.HS256, jwttest.HMACSecret)}, Type: "refresh+jwt"}); err == nil {
		t.Fatal("a verifier for refresh tokens was accepted")
	}
}

func TestRequiredClaims(t *testing.T) {
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.RequiredClaims = []string{"exp", "sub", "jti"} })
	_, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"jti": nil})))
	jwttest.ExpectRefused(t, err, jwt.ErrClaims)
	if _, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(nil))); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticateSources(t *testing.T) {
	tok := jwttest.HSToken(t, jwttest.Claims(nil))
	def := jwttest.HSVerifier(t, nil)
	withCookie := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) {
		o.Sources = []jwt.TokenSource{{From: jwt.FromHeader}, {From: jwt.FromCookie, Name: "auth_token"}}
	})
	withQuery := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) {
		o.Sources = []jwt.TokenSource{{From: jwt.FromQuery, Name: "access_token"}}
	})
	custom := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) {
		o.Sources = []jwt.TokenSource{{From: jwt.FromHeader, Name: "X-Auth-Token"}}
	})
	req := func(mod func(*http.Request)) *http.Request {
		r := httptest.NewRequest("GET", "/api/protected", nil)
		mod(r)
		return r
	}
	tests := []struct {
		name   string
		v      *jwt.Verifier
		r      *http.Request
		status int // 0: authenticated; -1: no credentials
	}{
		{"bearer", def, req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }), 0},
		{"bearer lowercase scheme", def, req(func(r *http.Request) { r.Header.Set("Authorization", "bearer "+tok) }), 0},
		{"BEARER and two spaces", def, req(func(r *http.Request) { r.Header.Set("Authorization", "BEARER  "+tok) }), 0},
		{"no header", def, req(func(r *http.Request) {}), -1},
		{"basic scheme is not ours", def, req(func(r *http.Request) { r.SetBasicAuth("a", "b") }), -1},
		{"BearerX is another scheme", def, req(func(r *http.Request) { r.Header.Set("Authorization", "BearerX "+tok) }), -1},
		{"empty bearer", def, req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }), 400},
		{"two authorization headers", def, req(func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer "+tok)
			r.Header.Add("Authorization", "Bearer "+tok)
		}), 400},
		{"garbage bearer", def, req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer not-a-jwt") }), 401},
		{"cookie ignored by default", def, req(func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth_token", Value: tok}) }), -1},
		{"cookie", withCookie, req(func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
			r.AddCookie(&http.Cookie{Name: "auth_token", Value: tok})
		}), 0},
		{"header wins over cookie", withCookie, req(func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer garbage")
			r.AddCookie(&http.Cookie{Name: "auth_token", Value: tok})
		}), 401},
		{"query ignored by default", def, req(func(r *http.Request) { r.URL.RawQuery = "access_token=" + tok }), -1},
		{"query when enabled", withQuery, req(func(r *http.Request) { r.URL.RawQuery = "x=1&access_token=" + tok }), 0},
		{"custom header without scheme", custom, req(func(r *http.Request) { r.Header.Set("X-Auth-Token", tok) }), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.v.Authenticate(tc.r)
			switch tc.status {
			case 0:
				if err != nil || p == nil || p.Subject != "alice" {
					t.Fatalf("p=%v err=%v", p, err)
				}
			case -1:
				if !errors.Is(err, authn.ErrNoCredentials) {
					t.Fatalf("err=%v, want ErrNoCredentials", err)
				}
			default:
				pr, ok := problem.As(err)
				if !ok || pr.Status != tc.status {
					t.Fatalf("err=%v, want status %d", err, tc.status)
				}
			}
		})
	}
}

func TestOptionsRefused(t *testing.T) {
	hs := jwttest.Key(t, "hs", jwt.HS256, jwttest.HMACSecret)
	tests := []struct {
		name string
		opts jwt.VerifierOptions
		msg  string
	}{
		{"no keys", jwt.VerifierOptions{}, "no keys"},
		{"alg none allowed", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Algorithms: []string{"HS256", "none"}}, "never accepted"},
		{"unknown alg", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Algorithms: []string{"HS256", "XS1"}}, "unsupported"},
		{"key alg not allowed", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Algorithms: []string{"RS256"}}, "does not allow"},
		{"key set without algorithms", jwt.VerifierOptions{KeySet: jwttest.KeySet(t, hs)}, "Algorithms is required"},
		{"leeway too large", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Leeway: time.Hour}, "Leeway"},
		{"bad source", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Sources: []jwt.TokenSource{{From: "body"}}}, "From must be"},
		{"cookie without name", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, Sources: []jwt.TokenSource{{From: jwt.FromCookie}}}, "needs a name"},
		{"duplicate kid", jwt.VerifierOptions{Keys: []*jwt.Key{hs, jwttest.Key(t, "hs", jwt.HS384, []byte(strings.Repeat("x", 48)))}}, "two keys"},
		{"huge tokens", jwt.VerifierOptions{Keys: []*jwt.Key{hs}, MaxTokenSize: 2 << 20}, "MaxTokenSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jwt.NewVerifier(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestVerifyJWSReturnsPayload(t *testing.T) {
	v := jwttest.HSVerifier(t, nil)
	tok := jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(`{"alg":"HS256","kid":"hs","typ":"text"}`), []byte("not JSON at all"))
	h, payload, err := v.VerifyJWS(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if string(payload) != "not JSON at all" || h.Alg != "HS256" || h.Kid != "hs" || h.Typ != "text" {
		t.Fatalf("header %+v payload %q", h, payload)
	}
	_, err = v.Verify(bg, tok)
	jwttest.ExpectRefused(t, err, jwt.ErrMalformed) // not a JWT
}
