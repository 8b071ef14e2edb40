package jwt_test

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/problem"
)

// documentedReasons reads the table of refusal reasons in the package
// documentation: each reason with the client's detail (the first quoted
// line after it).
func documentedReasons(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entry := regexp.MustCompile(`^//\t([a-z_]+)\s{2,}\S`)
	detail := regexp.MustCompile(`^//\t\s+"([^"]+)"$`)
	out := map[string]string{}
	in, last := false, ""
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "// Reasons, by the step"):
			in = true
		case strings.HasPrefix(line, "// Besides these"):
			in = false
		case !in:
		case entry.MatchString(line):
			last = entry.FindStringSubmatch(line)[1]
			out[last] = ""
		case detail.MatchString(line) && last != "" && out[last] == "":
			out[last] = detail.FindStringSubmatch(line)[1]
		}
	}
	if len(out) == 0 {
		t.Fatal("no reason table in doc.go")
	}
	return out
}

// TestReasonTable: the package documentation lists every reason a
// Verifier refuses a token with, each with the detail the client gets.
func TestReasonTable(t *testing.T) {
	doc, code := documentedReasons(t), jwt.RefusalDetails()
	for r, d := range code {
		if doc[r] != d {
			t.Errorf("reason %s: the client gets %q, the documentation says %q", r, d, doc[r])
		}
	}
	for r := range doc {
		if _, ok := code[r]; !ok {
			t.Errorf("documented reason %s is never used", r)
		}
	}
}

// TestRefusalReasons sends attack tokens of every class through an
// authn.Guard and checks each refusal: 401, the documented audit reason
// with the precise error, the documented detail as the problem's detail
// and as the challenge's error_description, and error="invalid_token".
func TestRefusalReasons(t *testing.T) {
	rsaKey, _, _ := jwttest.Keys(t)
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	now := func() time.Time { return jwttest.Now }
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Store = jwttest.MemStore(t, nil) })
	typed := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Type = jwt.TypeAccess })
	mixed := jwttest.Verifier(t, jwt.VerifierOptions{
		Keys:     []*jwt.Key{jwttest.Key(t, "rs", jwt.RS256, &rsaKey.PublicKey), jwttest.Key(t, "hs", jwt.HS256, jwttest.HMACSecret)},
		Issuers:  []string{"https://issuer.test"},
		Audience: []string{"api"},
		Now:      now,
	})
	rsOnly := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{jwttest.Key(t, "rs", jwt.RS256, &rsaKey.PublicKey)}, Audience: []string{"api"}, Now: now})

	claims := func(extra map[string]any) []byte { return jwttest.JSON(t, jwttest.Claims(extra)) }
	hs := func(header string, payload []byte) string {
		return jwttest.Craft(t, "HS256", jwttest.HMACSecret, []byte(header), payload)
	}
	std := `{"alg":"HS256","kid":"hs"}`
	valid := hs(std, claims(nil))
	parts := strings.Split(valid, ".")
	unsigned := func(header string) string { return jwttest.B64([]byte(header)) + "." + parts[1] + "." }
	// Raw claims: the valid ones with one member added at the end.
	withRaw := func(member string) []byte {
		b := claims(nil)
		return append(b[:len(b)-1], []byte(","+member+"}")...)
	}

	tests := []struct {
		name   string
		v      *jwt.Verifier
		tok    string
		reason string
	}{
		{"garbage", v, "not-a-jwt", "token_malformed"},
		{"five segments (JWE)", v, "a.b.c.d.e", "token_malformed"},
		{"standard base64 alphabet", v, strings.NewReplacer("-", "+", "_", "/").Replace(parts[0]+"."+parts[1]) + "." + parts[2] + "+", "token_malformed"},
		{"header not JSON", v, hs(`{"alg":"HS256"`, claims(nil)), "token_malformed"},
		{"claims not an object", v, hs(std, []byte(`[1]`)), "token_malformed"},
		{"claims nested too deeply", v, hs(std, withRaw(`"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))), "token_malformed"},
		{"oversized", v, parts[0] + "." + strings.Repeat("A", 9000) + "." + parts[2], "token_too_large"},
		{"alg none, no signature", v, unsigned(`{"alg":"none"}`), "alg_not_allowed"},
		{"alg nOnE, signed", v, hs(`{"alg":"nOnE","kid":"hs"}`, claims(nil)), "alg_not_allowed"},
		{"alg not in the allowlist", v, jwttest.Craft(t, "HS512", []byte(strings.Repeat("k", 64)), []byte(`{"alg":"HS512","kid":"hs"}`), claims(nil)), "alg_not_allowed"},
		{"HS256 with the RSA public key, RS256-only verifier", rsOnly, hs(`{"alg":"HS256","kid":"rs"}`, claims(nil)), "alg_not_allowed"},
		{"no alg", v, hs(`{"kid":"hs"}`, claims(nil)), "header_invalid"},
		{"duplicate alg member", v, hs(`{"alg":"none","alg":"HS256","kid":"hs"}`, claims(nil)), "header_invalid"},
		{"kid not a string", v, hs(`{"alg":"HS256","kid":7}`, claims(nil)), "header_invalid"},
		{"jku", v, hs(`{"alg":"HS256","kid":"hs","jku":"https://attacker.test/jwks.json"}`, claims(nil)), "header_invalid"},
		{"embedded jwk", v, hs(`{"alg":"HS256","kid":"hs","jwk":{"kty":"oct","k":"AAAA"}}`, claims(nil)), "header_invalid"},
		{"JWE enc", v, hs(`{"alg":"HS256","kid":"hs","enc":"A256GCM"}`, claims(nil)), "header_invalid"},
		{"nested JWT", v, hs(`{"alg":"HS256","kid":"hs","cty":"JWT"}`, claims(nil)), "header_invalid"},
		{"crit", v, hs(`{"alg":"HS256","kid":"hs","crit":["exp"]}`, claims(nil)), "crit_unsupported"},
		{"unknown kid", v, hs(`{"alg":"HS256","kid":"other"}`, claims(nil)), "key_unknown"},
		{"kid path traversal", v, hs(`{"alg":"HS256","kid":"../../../../dev/null"}`, claims(nil)), "key_unknown"},
		{"HS256 with the RSA public key (PEM) as secret", mixed, jwttest.Craft(t, "HS256", pubPEM, []byte(`{"alg":"HS256","kid":"rs"}`), claims(nil)), "key_alg_mismatch"},
		{"HS256 with the RSA public key (DER) as secret", mixed, jwttest.Craft(t, "HS256", der, []byte(`{"alg":"HS256","kid":"rs"}`), claims(nil)), "key_alg_mismatch"},
		{"RS256 naming the HMAC key", mixed, jwttest.Craft(t, "RS256", rsaKey, []byte(`{"alg":"RS256","kid":"hs"}`), claims(nil)), "key_alg_mismatch"},
		{"HS256 with the RSA public key, no kid", mixed, jwttest.Craft(t, "HS256", pubPEM, []byte(`{"alg":"HS256"}`), claims(nil)), "signature_invalid"},
		{"altered signature", v, parts[0] + "." + parts[1] + "." + flip(parts[2], 5), "signature_invalid"},
		{"tampered payload", v, parts[0] + "." + jwttest.B64(claims(map[string]any{"roles": []string{"superadmin"}})) + "." + parts[2], "signature_invalid"},
		{"another secret", v, jwttest.Craft(t, "HS256", []byte(strings.Repeat("x", 32)), []byte(std), claims(nil)), "signature_invalid"},
		{"wrong typ", typed, valid, "type_invalid"},
		{"no typ", typed, hs(`{"alg":"HS256","kid":"hs"}`, claims(nil)), "type_invalid"},
		{"refresh token as access token (typ)", v, hs(`{"alg":"HS256","kid":"hs","typ":"refresh+jwt"}`, claims(nil)), "token_wrong_type"},
		{"refresh token as access token (token_use)", v, hs(std, claims(map[string]any{"token_use": "refresh"})), "token_wrong_type"},
		{"exp twice, the last valid", v, hs(std, withRaw(`"exp":4102444800`)), "claims_duplicate"},
		{"exp twice, the first valid", v, hs(std, []byte(`{"sub":"alice","iss":"https://issuer.test","aud":"api","exp":4102444800,"exp":1000000000}`)), "claims_duplicate"},
		{"role twice", v, hs(std, []byte(`{"sub":"alice","iss":"https://issuer.test","aud":"api","exp":4102444800,"role":"user","role":"admin"}`)), "claims_duplicate"},
		{"escaped duplicate", v, hs(std, withRaw(`"\u0073ub":"root"`)), "claims_duplicate"},
		{"nested duplicate", v, hs(std, withRaw(`"realm_access":{"roles":["user"],"roles":["admin"]}`)), "claims_duplicate"},
		{"missing exp", v, hs(std, claims(map[string]any{"exp": nil})), "claim_missing"},
		{"missing iss", v, hs(std, claims(map[string]any{"iss": nil})), "claim_missing"},
		{"missing aud", v, hs(std, claims(map[string]any{"aud": nil})), "claim_missing"},
		{"exp as a string", v, hs(std, claims(map[string]any{"exp": "2099-01-01"})), "claim_invalid"},
		{"roles not strings", v, hs(std, claims(map[string]any{"roles": []any{"admin", 1}})), "claim_invalid"},
		{"jti too long", v, hs(std, claims(map[string]any{"jti": strings.Repeat("j", 300)})), "claim_invalid"},
		{"expired", v, hs(std, claims(map[string]any{"exp": jwttest.Now.Add(-2 * time.Minute).Unix()})), "token_expired"},
		{"not yet valid", v, hs(std, claims(map[string]any{"nbf": jwttest.Now.Add(2 * time.Minute).Unix()})), "token_not_yet_valid"},
		{"issued in the future", v, hs(std, claims(map[string]any{"iat": jwttest.Now.Add(2 * time.Minute).Unix()})), "token_not_yet_valid"},
		{"wrong iss", v, hs(std, claims(map[string]any{"iss": "https://evil.test"})), "issuer_invalid"},
		{"wrong aud", v, hs(std, claims(map[string]any{"aud": []string{"other-api"}})), "audience_invalid"},
		{"aud for a verifier naming none", jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Audience = nil }), valid, "audience_invalid"},
		{"revoked token", v, revoked(t, v, "revoked-jti", ""), "token_revoked"},
		{"revoked session", v, revoked(t, v, "", "revoked-sid"), "token_revoked"},
		{"certificate-bound token, binding unchecked", v, hs(std, claims(map[string]any{"cnf": map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}})), "token_binding_unchecked"},
	}
	documented := documentedReasons(t)
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			covered[tc.reason] = true
			detail, ok := documented[tc.reason]
			if !ok {
				t.Fatalf("reason %s is not documented", tc.reason)
			}
			sink := audit.NewMemory()
			g, err := authn.New(authn.Options{Authenticator: tc.v, Audit: sink})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/api/protected", nil)
			r.Header.Set("Authorization", "Bearer "+tc.tok)
			w := httptest.NewRecorder()
			g.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the handler ran") })).ServeHTTP(w, r)
			evs := sink.Events()
			if w.Code != 401 || len(evs) != 1 || evs[0].Reason != tc.reason {
				t.Fatalf("status %d, events %+v, want 401 and one event with reason %s", w.Code, evs, tc.reason)
			}
			if !slices.ContainsFunc(evs[0].Attrs, func(a slog.Attr) bool { return a.Key == "error" && strings.HasPrefix(a.Value.String(), "jwt: ") }) {
				t.Errorf("event %+v has no error", evs[0])
			}
			want := problem.Challenge("Bearer", "api", "error", "invalid_token", "error_description", detail)
			if got := w.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("challenge %s, want %s", got, want)
			}
			var body struct{ Detail string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Detail != detail {
				t.Errorf("problem detail %q (%v), want %q", body.Detail, err, detail)
			}
		})
	}
	if missing := slices.DeleteFunc(slices.Sorted(maps.Keys(documented)), func(r string) bool { return covered[r] }); len(missing) > 0 {
		t.Errorf("no attack token tests reasons %v", missing)
	}
}

// revoked returns a valid token carrying jti or sid, verified once (so
// that it is cached) and then revoked.
func revoked(t *testing.T, v *jwt.Verifier, jti, sid string) string {
	t.Helper()
	c := jwttest.Claims(map[string]any{"jti": nil})
	if jti != "" {
		c["jti"] = jti
	}
	if sid != "" {
		c["sid"] = sid
	}
	tok := jwttest.HSToken(t, c)
	p, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if jti != "" {
		err = v.Revoke(bg, p)
	} else {
		err = v.RevokeSession(bg, sid, jwttest.Now.Add(time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
