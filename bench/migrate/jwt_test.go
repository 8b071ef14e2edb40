package migrate

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/jwtauth/v5"
	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
)

var jwtSecret = bytes.Repeat([]byte{9}, 32)

func sign(t *testing.T, m gjwt.SigningMethod, claims gjwt.MapClaims) string {
	t.Helper()
	key := any(jwtSecret)
	if m == gjwt.SigningMethodNone {
		key = gjwt.UnsafeAllowNoneSignatureType
	}
	s, err := gjwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golangJWT is the middleware people write around golang-jwt: parse the
// bearer token with a key function that returns the secret.
func golangJWT(opts ...gjwt.ParserOption) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, err := gjwt.Parse(raw, func(*gjwt.Token) (any, error) { return jwtSecret, nil }, opts...)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ok.ServeHTTP(w, r)
	})
}

// TestJWTAuth proves docs/migrate/jwtauth.md: go-chi/jwtauth's
// Verifier+Authenticator, a golang-jwt parser with default options, the same
// parser with the options the guide names, and jwt.Verifier behind
// authn.Guard.Require, on the same tokens.
func TestJWTAuth(t *testing.T) {
	ja := jwtauth.New("HS256", jwtSecret, nil)
	chi := jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(ok))
	gDefault := golangJWT()
	gStrict := golangJWT(gjwt.WithValidMethods([]string{"HS256"}), gjwt.WithExpirationRequired())
	key, err := jwt.NewHMACKey("k1", jwt.HS256, jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := authn.New(authn.Options{Authenticator: v})
	if err != nil {
		t.Fatal(err)
	}
	bw := guard.Require(ok)

	now := time.Now()
	valid := gjwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()}
	bearer := func(tok string) func() *http.Request {
		return func() *http.Request { return req("GET", "https://api.example.com/me", "Authorization", "Bearer "+tok) }
	}
	cases := []struct {
		name                          string
		mk                            func() *http.Request
		chi, gDefault, gStrict, bwant int
	}{
		{"same: valid HS256 token", bearer(sign(t, gjwt.SigningMethodHS256, valid)), 200, 200, 200, 200},
		{"same: no token", func() *http.Request { return req("GET", "https://api.example.com/me") }, 401, 401, 401, 401},
		{"same: expired an hour ago", bearer(sign(t, gjwt.SigningMethodHS256, gjwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()})), 401, 401, 401, 401},
		{"same: alg none", bearer(sign(t, gjwt.SigningMethodNone, valid)), 401, 401, 401, 401},
		{"same: wrong signature", bearer(sign(t, gjwt.SigningMethodHS256, valid)[:20] + "x" + sign(t, gjwt.SigningMethodHS256, valid)[21:]), 401, 401, 401, 401},
		{"same: token in the query", func() *http.Request {
			return req("GET", "https://api.example.com/me?jwt="+sign(t, gjwt.SigningMethodHS256, valid))
		}, 401, 401, 401, 401},
		{"differs: no exp", bearer(sign(t, gjwt.SigningMethodHS256, gjwt.MapClaims{"sub": "alice"})), 200, 200, 401, 401},
		{"differs: another HMAC algorithm with the same secret", bearer(sign(t, gjwt.SigningMethodHS512, valid)), 401, 200, 401, 401},
		{"differs: token in the jwt cookie", func() *http.Request {
			r := req("GET", "https://api.example.com/me")
			r.AddCookie(&http.Cookie{Name: "jwt", Value: sign(t, gjwt.SigningMethodHS256, valid)})
			return r
		}, 200, 401, 401, 401},
		{"differs: expired 30 s ago (leeway)", bearer(sign(t, gjwt.SigningMethodHS256, gjwt.MapClaims{"sub": "alice", "exp": now.Add(-30 * time.Second).Unix()})), 401, 401, 401, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := [4]int{serve(chi, tc.mk()).Code, serve(gDefault, tc.mk()).Code, serve(gStrict, tc.mk()).Code, serve(bw, tc.mk()).Code}
			if want := [4]int{tc.chi, tc.gDefault, tc.gStrict, tc.bwant}; got != want {
				t.Errorf("jwtauth, golang-jwt default, golang-jwt with options, bulwark: %v, want %v", got, want)
			}
		})
	}

	t.Run("differs: the 401 response", func(t *testing.T) {
		p, b := both(chi, bw, bearer("not.a.token"))
		wantHeader(t, "jwtauth", p, "WWW-Authenticate", "")
		wantProblem(t, "bulwark", b, 401)
		if c := b.Header().Get("WWW-Authenticate"); !strings.HasPrefix(c, "Bearer ") || !strings.Contains(c, `error="invalid_token"`) {
			t.Errorf("bulwark: WWW-Authenticate %q", c)
		}
	})

	t.Run("differs: short secret", func(t *testing.T) {
		short := []byte("secret")
		weak := jwtauth.New("HS256", short, nil)
		_, tok, err := weak.Encode(map[string]any{"sub": "alice"})
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "jwtauth", serve(jwtauth.Verifier(weak)(jwtauth.Authenticator(weak)(ok)), bearer(tok)()), 200)
		if _, err := jwt.NewHMACKey("k1", jwt.HS256, short); err == nil {
			t.Error("bulwark: a 6-byte HS256 secret was accepted")
		}
	})

	t.Run("differs: cookie tokens are marked for CSRF", func(t *testing.T) {
		cv, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}, Sources: []jwt.TokenSource{{From: jwt.FromCookie, Name: "jwt"}}})
		if err != nil {
			t.Fatal(err)
		}
		r := req("GET", "https://api.example.com/me")
		r.AddCookie(&http.Cookie{Name: "jwt", Value: sign(t, gjwt.SigningMethodHS256, valid)})
		p, err := cv.Authenticate(r)
		if err != nil || p.Source != authn.SourceCookie {
			t.Errorf("bulwark: principal %v, error %v, want source cookie", p, err)
		}
	})
}
