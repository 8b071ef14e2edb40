package jwt_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
)

// TestPrincipalRecordsSourceAndKey: the principal says where its token was
// found (header, cookie, query) and which key verified it, cached or not,
// and one token presented from two places gets the right source each time.
func TestPrincipalRecordsSourceAndKey(t *testing.T) {
	tok := jwttest.HSToken(t, jwttest.Claims(nil))
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) {
		o.Sources = []jwt.TokenSource{{From: jwt.FromHeader}, {From: jwt.FromCookie, Name: "auth_token"}, {From: jwt.FromQuery, Name: "access_token"}}
	})
	header := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	cookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth_token", Value: tok}) }
	query := func(r *http.Request) { r.URL.RawQuery = "access_token=" + tok }
	seen := map[authn.CredentialSource]*authn.Principal{}
	for round := range 2 { // the second round is served from the cache
		for _, tc := range []struct {
			mod  func(*http.Request)
			want authn.CredentialSource
		}{{header, authn.SourceHeader}, {cookie, authn.SourceCookie}, {query, authn.SourceQuery}} {
			r := httptest.NewRequest("POST", "/api/logout", nil)
			tc.mod(r)
			p, err := v.Authenticate(r)
			if err != nil {
				t.Fatal(err)
			}
			if p.Source != tc.want || p.Subject != "alice" {
				t.Fatalf("round %d: source %v, want %v", round, p.Source, tc.want)
			}
			if k, ok := jwt.KeyOf(p); !ok || k.ID != "hs" || k.Alg != jwt.HS256 || k.Secret != "[redacted]" {
				t.Fatalf("KeyOf = %+v, %v", k, ok)
			}
			if round == 1 && seen[tc.want] != p {
				t.Fatalf("round 1: %v principal not served from the cache", tc.want)
			}
			seen[tc.want] = p
			// What a CSRF guard reads.
			guard, _ := authn.New(authn.Options{Authenticator: v})
			var got authn.CredentialSource
			h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = authn.SourceOf(r.Context()) }))
			r2 := httptest.NewRequest("POST", "/api/logout", nil)
			tc.mod(r2)
			h.ServeHTTP(httptest.NewRecorder(), r2)
			if got != tc.want {
				t.Fatalf("SourceOf = %v, want %v", got, tc.want)
			}
		}
	}
	p, err := v.Verify(bg, tok)
	if err != nil || p.Source != authn.SourceUnknown {
		t.Fatalf("Verify: source %v, err %v", p.Source, err)
	}
	if authn.SourceOf(httptest.NewRequest("GET", "/", nil).Context()) != authn.SourceUnknown {
		t.Fatal("anonymous request has a source")
	}
	// AllOf: one cookie credential makes the combined principal cookie-borne.
	both := authn.AllOf(authn.AuthenticatorFunc(func(*http.Request) (*authn.Principal, error) {
		return &authn.Principal{Subject: "svc", Method: "mtls"}, nil
	}), v)
	r := httptest.NewRequest("POST", "/", nil)
	cookie(r)
	if p, err := both.Authenticate(r); err != nil || p.Source != authn.SourceCookie {
		t.Fatalf("AllOf: %v %v", p, err)
	}
}
