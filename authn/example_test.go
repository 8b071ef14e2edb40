package authn_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/problem"
)

// A guard requires authentication, then a scope; handlers read the
// principal from the context and never decode credentials again.
func ExampleGuard() {
	// Any Authenticator works; see authn/jwt for JSON Web Tokens.
	staticKey := authn.AuthenticatorFunc(func(r *http.Request) (*authn.Principal, error) {
		switch r.Header.Get("X-API-Key") {
		case "":
			return nil, authn.ErrNoCredentials
		case "demo-read-key-0001":
			return &authn.Principal{Subject: "reader", Method: "apikey", Scopes: []string{"read"}}, nil
		}
		return nil, problem.New(401, problem.TypeInvalidCredentials, "unknown API key").WithReason("apikey_invalid")
	})
	guard, err := authn.New(authn.Options{Authenticator: staticKey, Realm: "api", Audit: audit.NewMemory()})
	if err != nil {
		panic(err)
	}
	items := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})
	scopes, _ := authz.New(authz.Options{Realm: "api"}) // scopes, roles and permissions live in authz
	mux := http.NewServeMux()
	mux.Handle("GET /api/items", guard.Require(scopes.RequireScope("read")(items)))
	mux.Handle("POST /api/items", guard.Require(scopes.RequireScope("write")(items)))

	for _, tc := range []struct{ method, key string }{{"GET", ""}, {"GET", "demo-read-key-0001"}, {"POST", "demo-read-key-0001"}} {
		r := httptest.NewRequest(tc.method, "/api/items", strings.NewReader("{}"))
		if tc.key != "" {
			r.Header.Set("X-API-Key", tc.key)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %d %s", tc.method, w.Code, w.Header().Get("WWW-Authenticate"))))
	}
	// An API-key caller's 403 carries no Bearer insufficient_scope
	// challenge: that error belongs to bearer tokens.

	// Output:
	// GET 401 Bearer realm="api"
	// GET 200
	// POST 403
}

// Optional authentication: anonymous callers pass, but a bad credential
// is still refused.
func ExampleGuard_Optional() {
	auth := authn.AuthenticatorFunc(func(r *http.Request) (*authn.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authn.ErrNoCredentials
		}
		return nil, problem.New(401, problem.TypeInvalidToken, "the token has expired").WithReason("token_expired")
	})
	guard, err := authn.New(authn.Options{Authenticator: auth})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, loggedIn := authn.FromContext(r.Context())
		fmt.Fprint(w, loggedIn)
	}))
	for _, authz := range []string{"", "Bearer expired"} {
		r := httptest.NewRequest("GET", "/api/posts", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%d %s", w.Code, w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 401 Bearer realm="api", error="invalid_token", error_description="the token has expired"
}
