package authn_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// headerAuth authenticates "X-User: name" and refuses "X-User: bad".
type headerAuth struct {
	header, method, scheme string
}

func (a headerAuth) Authenticate(r *http.Request) (*authn.Principal, error) {
	v := r.Header.Get(a.header)
	switch v {
	case "":
		return nil, authn.ErrNoCredentials
	case "bad":
		return nil, problem.New(401, problem.TypeInvalidToken, "the token has expired").WithReason("token_expired")
	case "malformed":
		return nil, problem.New(400, problem.TypeBadRequest, "two tokens").WithReason("token_invalid_request")
	case "down":
		return nil, &store.UnavailableError{Op: "get", Err: errors.New("timeout")}
	case "weird":
		return nil, errors.New("boom")
	}
	return &authn.Principal{Subject: v, Method: a.method, Roles: []string{"user"}, Scopes: []string{"read"}}, nil
}

func (a headerAuth) Challenge(realm string) string {
	if a.scheme == "" {
		return problem.Challenge("Bearer", realm)
	}
	return problem.Challenge(a.scheme, realm)
}

var (
	tokenAuth = headerAuth{header: "X-Token", method: "jwt"}
	keyAuth   = headerAuth{header: "X-Key", method: "apikey", scheme: "ApiKey"}
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, found := authn.FromContext(r.Context())
	if found {
		w.Header().Set("X-Principal", p.Method+":"+p.Subject)
	}
	w.WriteHeader(200)
})

func serve(h http.Handler, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api/protected", nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRequire(t *testing.T) {
	sink := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: tokenAuth, Realm: `demo "api"`, Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require(ok)
	tests := []struct {
		name      string
		token     string
		status    int
		challenge string
		reason    string
	}{
		{"authenticated", "alice", 200, "", ""},
		{"missing", "", 401, `Bearer realm="demo \"api\""`, "token_missing"},
		{"invalid", "bad", 401, `Bearer realm="demo \"api\"", error="invalid_token", error_description="the token has expired"`, "token_expired"},
		{"malformed request", "malformed", 400, `Bearer realm="demo \"api\"", error="invalid_request", error_description="two tokens"`, "token_invalid_request"},
		{"store down", "down", 503, "", "authn_unavailable"},
		{"unexpected error", "weird", 401, `Bearer realm="demo \"api\""`, "authn_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.Events())
			w := serve(h, map[string]string{"X-Token": tc.token})
			if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.challenge {
				t.Fatalf("%d %q, want %d %q", w.Code, w.Header().Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
			evs := sink.Events()[before:]
			if tc.status == 200 {
				if w.Header().Get("X-Principal") != "jwt:alice" || len(evs) != 0 {
					t.Fatalf("principal %q, %d events", w.Header().Get("X-Principal"), len(evs))
				}
				return
			}
			if w.Header().Get("Content-Type") != problem.ContentType {
				t.Fatalf("content type %q", w.Header().Get("Content-Type"))
			}
			if len(evs) != 1 || evs[0].Reason != tc.reason || evs[0].Status != tc.status || evs[0].Guard != "authn" {
				t.Fatalf("audit %+v, want one event with reason %s", evs, tc.reason)
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["status"] != float64(tc.status) {
				t.Fatalf("body %s", w.Body)
			}
			if strings.Contains(w.Body.String(), "boom") || strings.Contains(w.Body.String(), "timeout") {
				t.Fatalf("internal error leaked: %s", w.Body)
			}
		})
	}
}

func TestOptional(t *testing.T) {
	g, err := authn.New(authn.Options{Authenticator: tokenAuth})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Optional(ok)
	if w := serve(h, nil); w.Code != 200 || w.Header().Get("X-Principal") != "" {
		t.Fatalf("anonymous: %d %q", w.Code, w.Header().Get("X-Principal"))
	}
	if w := serve(h, map[string]string{"X-Token": "bob"}); w.Code != 200 || w.Header().Get("X-Principal") != "jwt:bob" {
		t.Fatalf("authenticated: %d %q", w.Code, w.Header().Get("X-Principal"))
	}
	if w := serve(h, map[string]string{"X-Token": "bad"}); w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("invalid token downgraded to anonymous: %d", w.Code)
	}
}

func TestAnyOf(t *testing.T) {
	either := authn.AnyOf(tokenAuth, keyAuth)
	g, _ := authn.New(authn.Options{Authenticator: either})
	h := g.Require(ok)
	if w := serve(h, map[string]string{"X-Key": "svc"}); w.Header().Get("X-Principal") != "apikey:svc" {
		t.Fatalf("second authenticator not tried: %d", w.Code)
	}
	if w := serve(h, map[string]string{"X-Token": "bad", "X-Key": "svc"}); w.Code != 401 {
		t.Fatalf("an invalid token was masked by a valid key: %d", w.Code)
	}
	w := serve(h, nil)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="api", ApiKey realm="api"` {
		t.Fatalf("no credentials: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if _, err := either.Authenticate(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, authn.ErrNoCredentials) {
		t.Fatalf("err %v", err)
	}
}

func TestAllOf(t *testing.T) {
	all := authn.AllOf(keyAuth, tokenAuth)
	req := func(h map[string]string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	p, err := all.Authenticate(req(map[string]string{"X-Key": "svc", "X-Token": "alice"}))
	if err != nil || p.Method != "apikey+jwt" || p.Subject != "svc" {
		t.Fatalf("p=%+v err=%v", p, err)
	}
	if ps, ok := authn.Claim[[]*authn.Principal](p, "authn.all"); !ok || len(ps) != 2 || ps[1].Subject != "alice" {
		t.Fatalf("authn.all %v", ps)
	}
	if _, err := all.Authenticate(req(map[string]string{"X-Key": "svc"})); err == nil || errors.Is(err, authn.ErrNoCredentials) {
		t.Fatalf("partial credentials: %v", err)
	}
	if _, err := all.Authenticate(req(nil)); !errors.Is(err, authn.ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	if _, err := all.Authenticate(req(map[string]string{"X-Key": "svc", "X-Token": "bad"})); reason(err) != "token_expired" {
		t.Fatalf("one invalid: %v", err)
	}
}

func reason(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	return ""
}

func TestNewRefusesNilAuthenticator(t *testing.T) {
	if _, err := authn.New(authn.Options{}); err == nil || !strings.Contains(err.Error(), "Authenticator is required") {
		t.Fatalf("New: %v", err)
	}
}

func TestCheckIsThePureDecision(t *testing.T) {
	g, _ := authn.New(authn.Options{Authenticator: tokenAuth})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Token", "carol")
	r2, prob := g.Check(r)
	if p, ok := authn.FromContext(r2.Context()); prob != nil || !ok || p.Subject != "carol" {
		t.Fatalf("p=%v prob=%v", p, prob)
	}
	if _, ok := authn.FromContext(r.Context()); ok {
		t.Fatal("Check changed the request it was given")
	}
	anon := httptest.NewRequest("GET", "/", nil)
	r2, prob = g.Check(anon)
	if prob == nil || prob.Status != 401 || prob.Header("WWW-Authenticate") == "" || r2 != anon {
		t.Fatalf("prob=%v", prob)
	}
	if r2, prob = g.CheckOptional(anon); prob != nil || r2 != anon {
		t.Fatalf("optional, anonymous: %v", prob)
	}
	bad := httptest.NewRequest("GET", "/", nil)
	bad.Header.Set("X-Token", "bad")
	if _, prob = g.CheckOptional(bad); prob == nil || prob.Status != 401 {
		t.Fatalf("optional, bad token: %v", prob)
	}
}

func TestBearerErrorAndRealm(t *testing.T) {
	g, err := authn.New(authn.Options{Authenticator: tokenAuth, Realm: "bulwark-demo"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Realm() != "bulwark-demo" {
		t.Fatalf("Realm() = %q", g.Realm())
	}
	w := serve(g.Require(ok), map[string]string{"X-Token": "bad"})
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="bulwark-demo", error="invalid_token", error_description="the token has expired"` {
		t.Fatalf("challenge %s", got)
	}
}

// TestCheckLeavesTheRequest: Check and CheckOptional never change the
// request they are given — not even a request state an identity guard
// attached, which the guard's handlers write in place — so a guard
// evaluated in shadow authenticates nobody.
func TestCheckLeavesTheRequest(t *testing.T) {
	g, err := authn.New(authn.Options{Authenticator: tokenAuth})
	if err != nil {
		t.Fatal(err)
	}
	id, err := clientip.New(clientip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inner *http.Request
	id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner = r })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	inner.Header.Set("X-Token", "mallory")
	for _, check := range []func(*http.Request) (*http.Request, *problem.Problem){g.Check, g.CheckOptional} {
		r2, prob := check(inner)
		if p, ok := authn.FromContext(r2.Context()); prob != nil || !ok || p.Subject != "mallory" {
			t.Fatalf("Check: %v %v", p, prob)
		}
		if clientip.RequestID(r2.Context()) != clientip.RequestID(inner.Context()) {
			t.Fatal("the copy lost the request ID")
		}
		if p, ok := authn.FromContext(inner.Context()); ok {
			t.Fatalf("Check authenticated the request it was given as %v", p.Subject)
		}
	}
}
