package discovery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/discovery"
	"github.com/bulwark-go/bulwark/authn/internal/testas"
	"github.com/bulwark-go/bulwark/authn/introspect"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
)

func TestWellKnownURL(t *testing.T) {
	for _, tc := range []struct{ issuer, kind, want string }{
		{"https://as.example", discovery.KindOAuth, "https://as.example/.well-known/oauth-authorization-server"},
		{"https://as.example/", discovery.KindOAuth, "https://as.example/.well-known/oauth-authorization-server"},
		{"https://as.example/issuer1", discovery.KindOAuth, "https://as.example/.well-known/oauth-authorization-server/issuer1"},
		{"https://as.example/issuer1/", discovery.KindOAuth, "https://as.example/.well-known/oauth-authorization-server/issuer1"},
		{"https://as.example:8443/a/b", discovery.KindOAuth, "https://as.example:8443/.well-known/oauth-authorization-server/a/b"},
		{"https://as.example", discovery.KindOIDC, "https://as.example/.well-known/openid-configuration"},
		{"https://as.example/realms/acme", discovery.KindOIDC, "https://as.example/realms/acme/.well-known/openid-configuration"},
		{"https://as.example/realms/acme/", discovery.KindOIDC, "https://as.example/realms/acme/.well-known/openid-configuration"},
	} {
		got, err := discovery.WellKnownURL(tc.issuer, tc.kind)
		if err != nil || got != tc.want {
			t.Errorf("%s %s: %q %v, want %q", tc.issuer, tc.kind, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "http://as.example", "https://as.example/?q=1", "https://as.example/#f", "ftp://as.example", "as.example"} {
		if _, err := discovery.WellKnownURL(bad, discovery.KindOAuth); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
}

func TestDiscover(t *testing.T) {
	for _, tc := range []struct {
		path, kind, want string
	}{
		{"", "", discovery.KindOAuth},
		{"/tenant1", "", discovery.KindOAuth},
		{"/tenant1", discovery.KindOIDC, discovery.KindOIDC},
		{"/oidc-only", "", discovery.KindOIDC}, // RFC 8414 answers 404: falls back
	} {
		as := testas.Start(t, tc.path, nil)
		md, err := discovery.Discover(context.Background(), discovery.Options{Issuer: as.Issuer, Kind: tc.kind})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if md.Kind != tc.want || md.Issuer != as.Issuer || md.IntrospectionEndpoint != as.URL+"/introspect" || md.JWKSURI != as.URL+"/jwks" {
			t.Fatalf("%s: %+v", tc.path, md)
		}
	}
}

// TestIssuerMismatch: a document naming another issuer is refused, even
// one that differs only by a trailing slash — and so is an introspector
// or a verifier built from it.
func TestIssuerMismatch(t *testing.T) {
	as := testas.Start(t, "/tenant1", nil)
	for _, lie := range []string{as.Issuer + "/", as.URL + "/tenant2", "https://evil.example/tenant1"} {
		as.LieAboutIssuer(lie)
		_, err := discovery.Discover(context.Background(), discovery.Options{Issuer: as.Issuer})
		if !errors.Is(err, discovery.ErrIssuerMismatch) {
			t.Fatalf("%q: %v", lie, err)
		}
		_, err = introspect.New(introspect.Options{Issuer: as.Issuer, ClientID: as.ClientID, ClientSecret: as.ClientSecret})
		if !errors.Is(err, discovery.ErrIssuerMismatch) {
			t.Fatalf("introspect.New with %q: %v", lie, err)
		}
	}
}

func TestDiscoverRefuses(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"not found": http.NotFound,
		"500":       func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) },
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/doc", http.StatusFound)
		},
		"html": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("{}"))
		},
		"huge": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"x":"` + strings.Repeat("a", discovery.DefaultMaxBytes) + `"}`))
		},
		"array":        jsonDoc(`[]`),
		"duplicate":    jsonDoc(`{"issuer":"ISS","issuer":"ISS"}`),
		"wrong type":   jsonDoc(`{"issuer":"ISS","jwks_uri":42}`),
		"http jwks":    jsonDoc(`{"issuer":"ISS","jwks_uri":"http://as.example/jwks"}`),
		"bad array":    jsonDoc(`{"issuer":"ISS","scopes_supported":["a",null]}`),
		"no issuer":    jsonDoc(`{"jwks_uri":"https://as.example/jwks"}`),
		"trailing doc": jsonDoc(`{"issuer":"ISS"} {}`),
	} {
		srv := httptest.NewServer(h)
		// jsonDoc writes ISS as the server's own issuer, so only the defect
		// under test is wrong.
		issuer = srv.URL
		_, err := discovery.Discover(context.Background(), discovery.Options{Issuer: srv.URL})
		srv.Close()
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

var issuer string

func jsonDoc(doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(strings.ReplaceAll(doc, "ISS", issuer)))
	}
}

// TestVerifierFromDiscovery: the discovered jwks_uri feeds jwks.Remote and
// a JWT the AS signs verifies; composed with introspection in
// authn.AnyOf, JWTs are verified locally and opaque tokens introspected.
func TestVerifierFromDiscovery(t *testing.T) {
	as := testas.Start(t, "/tenant1", nil)
	md, err := discovery.Discover(context.Background(), discovery.Options{Issuer: as.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	v, ks, err := md.Verifier(jwt.VerifierOptions{Audience: []string{"api"}}, jwks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if d := v.Describe(); len(d.Algorithms) != 1 || d.Algorithms[0] != "ES256" {
		t.Fatalf("algorithms %v: HS256 and none must never come from a document", d.Algorithms)
	}
	in, err := introspect.New(introspect.Options{Issuer: as.Issuer, ClientID: as.ClientID, ClientSecret: as.ClientSecret, SkipJWT: true})
	if err != nil {
		t.Fatal(err)
	}
	both := authn.AnyOf(in, v)
	req := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}

	p, err := both.Authenticate(req(as.IssueJWT("dave", "read")))
	if err != nil || p.Method != "jwt" || p.Subject != "dave" || !p.HasScope("read") {
		t.Fatalf("JWT: %+v %v", p, err)
	}
	p, err = both.Authenticate(req(as.Issue(3600e9, map[string]any{"sub": "erin", "scope": "write"})))
	if err != nil || p.Method != "introspect" || p.Subject != "erin" || !p.HasScope("write") {
		t.Fatalf("opaque: %+v %v", p, err)
	}
	if n := as.Calls(); n != 1 {
		t.Fatalf("%d introspection calls, want 1 (the JWT is verified locally)", n)
	}
	// A forged JWT is refused by the verifier, not rescued by anything.
	forged := as.IssueJWT("dave", "read")
	forged = forged[:len(forged)-4] + "AAAA"
	if _, err := both.Authenticate(req(forged)); err == nil {
		t.Fatal("forged JWT accepted")
	}
	if _, err := both.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, authn.ErrNoCredentials) {
		t.Fatalf("no token: %v", err)
	}
}
