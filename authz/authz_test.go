package authz_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authz"
)

func newAuthz(t *testing.T, sink audit.Sink) *authz.Authorizer {
	t.Helper()
	a, err := authz.New(authz.Options{
		RolePermissions: map[string][]string{
			"admin": {"users:read", "users:delete", "posts:write"},
			"user":  {"posts:write"},
		},
		AdminRole: "admin",
		Audit:     sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	alice = &authn.Principal{Subject: "alice", Method: "jwt", Roles: []string{"admin"}, Scopes: []string{"read", "write"}}
	bob   = &authn.Principal{Subject: "bob", Method: "jwt", Roles: []string{"user"}, Scopes: []string{"read"}}
)

func serve(t *testing.T, guard func(http.Handler) http.Handler, p *authn.Principal) *httptest.ResponseRecorder {
	t.Helper()
	h := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	r := httptest.NewRequest("GET", "/x", nil)
	if p != nil {
		r = authn.WithPrincipal(r, p)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestGuards(t *testing.T) {
	sink := audit.NewMemory()
	a := newAuthz(t, sink)
	cases := []struct {
		name      string
		guard     func(http.Handler) http.Handler
		p         *authn.Principal
		want      int
		challenge string
	}{
		{"permission granted", a.RequirePermission("users:read"), alice, 204, ""},
		{"permission missing", a.RequirePermission("users:read"), bob, 403, ""},
		{"all permissions needed", a.RequirePermission("posts:write", "users:delete"), bob, 403, ""},
		{"no principal", a.RequirePermission("users:read"), nil, 401, `Bearer realm="api"`},
		{"role granted", a.RequireRole("admin"), alice, 204, ""},
		{"role missing", a.RequireRole("admin"), bob, 403, ""},
		{"scope granted", a.RequireScope("write"), alice, 204, ""},
		{"scope missing", a.RequireScope("write"), bob, 403, `Bearer realm="api", error="insufficient_scope", scope="write"`},
		{"scope missing, bearer in AllOf", a.RequireScope("write"), &authn.Principal{Subject: "svc", Method: "mtls+jwt", Scopes: []string{"read"}}, 403, `Bearer realm="api", error="insufficient_scope", scope="write"`},
		{"scope missing, API key", a.RequireScope("write"), &authn.Principal{Subject: "ci", Method: "apikey", Scopes: []string{"read"}}, 403, ""},
		{"scope missing, Basic", a.RequireScope("write"), &authn.Principal{Subject: "bob", Method: "basic", Scopes: []string{"read"}}, 403, ""},
	}
	denials := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, tc.guard, tc.p)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if tc.want >= 400 {
				denials++
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				var body map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["status"] != float64(tc.want) {
					t.Errorf("body %s", w.Body)
				}
			}
		})
	}
	if got := len(sink.Events()); got != denials {
		t.Errorf("%d audit events for %d denials", got, denials)
	}
}

func TestOwnership(t *testing.T) {
	a := newAuthz(t, nil)
	if !a.CanModify(bob, "bob") || a.CanModify(bob, "alice") || !a.CanModify(alice, "bob") || a.CanModify(nil, "bob") {
		t.Fatal("ownership rules wrong")
	}
	if a.CanModify(&authn.Principal{}, "") {
		t.Fatal("an empty subject must not own resources with an empty owner")
	}
	w := httptest.NewRecorder()
	r := authn.WithPrincipal(httptest.NewRequest("PUT", "/api/posts/1", nil), bob)
	if a.RequireOwner(w, r, "alice") || w.Code != 403 {
		t.Fatalf("bob changed alice's post: %d", w.Code)
	}
}

func TestPermissions(t *testing.T) {
	a := newAuthz(t, nil)
	if got := strings.Join(a.Permissions(alice), ","); got != "posts:write,users:delete,users:read" {
		t.Fatalf("Permissions = %s", got)
	}
}

func TestInvalidConfig(t *testing.T) {
	if _, err := authz.New(authz.Options{RolePermissions: map[string][]string{"admin": {"users read"}}}); err == nil {
		t.Fatal("permission with a space accepted")
	}
}

// TestChallengesAreRFC9110QuotedStrings: the realm and scope parameters are
// RFC 9110 quoted-strings (quotes and backslashes escaped, controls
// dropped), not Go-escaped strings.
func TestChallengesAreRFC9110QuotedStrings(t *testing.T) {
	a, err := authz.New(authz.Options{Realm: "my \"api\"\\\x7f\t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    *authn.Principal
		want string
	}{
		{bob, `Bearer realm="my \"api\"\\", error="insufficient_scope", scope="write admin:all"`},
		{nil, `Bearer realm="my \"api\"\\"`},
	} {
		w := serve(t, a.RequireScope("write", "admin:all"), tc.p)
		if got := w.Header().Get("WWW-Authenticate"); got != tc.want {
			t.Errorf("WWW-Authenticate %s, want %s", got, tc.want)
		}
	}
}

// TestRequireValidatesRules: Require refuses, with a message, rules that
// ask nothing and names outside the grammar (scopes outside RFC 6750's
// scope-token charset); the shortcuts never panic, and a rule Require
// would refuse refuses everyone — even a token that carries the odd names
// (a verifier takes the claim's strings as they are).
func TestRequireValidatesRules(t *testing.T) {
	a := newAuthz(t, nil)
	odd := &authn.Principal{Subject: "odd", Method: "jwt", Roles: []string{""}, Scopes: []string{"read write", `a"b`, `a\b`, "", "caf\u00e9", "tab\t", "read", "x\x7f"}}
	if w := serve(t, a.RequireRole(""), odd); w.Code != 500 {
		t.Errorf(`RequireRole("") answered %d, want 500`, w.Code)
	}
	for _, scopes := range [][]string{{"read write"}, {`a"b`}, {`a\b`}, {""}, {"caf\u00e9"}, {"tab\t"}, {"read", "x\x7f"}, nil} {
		if err := authz.ValidateScopes(scopes...); err == nil {
			t.Errorf("ValidateScopes(%q) accepted", scopes)
		}
		if _, err := a.Require(authz.Rule{Scopes: scopes}); err == nil {
			t.Errorf("Require(Scopes %q) accepted", scopes)
		}
		if len(scopes) == 0 {
			continue
		}
		if w := serve(t, a.RequireScope(scopes[0], scopes[1:]...), odd); w.Code != 500 {
			t.Errorf("RequireScope(%q) answered %d, want the misconfiguration's 500", scopes, w.Code)
		}
	}
	for _, rule := range []authz.Rule{{}, {Roles: []string{""}}, {Permissions: []string{"users read"}}, {Roles: []string{`a"b`}}} {
		if _, err := a.Require(rule); err == nil {
			t.Errorf("Require(%+v) accepted", rule)
		}
	}
	if err := authz.ValidateScopes("read", "users:write", "https://api.example.com/items.read", "!#[]~"); err != nil {
		t.Fatal(err)
	}
}

// TestRuleAndCheck: a rule's categories all apply (any role, every
// permission, every scope), and Check is Handler's decision.
func TestRuleAndCheck(t *testing.T) {
	a := newAuthz(t, nil)
	q, err := a.Require(authz.Rule{Roles: []string{"admin", "user"}, Permissions: []string{"posts:write"}, Scopes: []string{"write"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p      *authn.Principal
		status int
		reason string
	}{
		{alice, 0, ""},
		{bob, 403, "insufficient_scope"},
		{&authn.Principal{Subject: "eve", Roles: []string{"guest"}, Scopes: []string{"write"}}, 403, "missing_role"},
		{nil, 401, "no_principal"},
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		if tc.p != nil {
			r = authn.WithPrincipal(r, tc.p)
		}
		r2, prob := q.Check(r)
		if r2 != r || (prob == nil) != (tc.status == 0) || prob != nil && (prob.Status != tc.status || prob.Reason != tc.reason) {
			t.Fatalf("%v: Check = %v", tc.p, prob)
		}
		w := serve(t, q.Handler, tc.p)
		if want := max(tc.status, 204); w.Code != want {
			t.Fatalf("%v: Handler answered %d, want %d", tc.p, w.Code, want)
		}
	}
}
