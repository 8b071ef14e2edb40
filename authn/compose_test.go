package authn_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/problem"
)

// apiKeyStub stands in for package authn/apikey: X-API-Key "good-key"
// authenticates, any other value is refused, none is no credential.
type apiKeyStub struct{}

func (apiKeyStub) Authenticate(r *http.Request) (*authn.Principal, error) {
	switch v := r.Header.Get("X-API-Key"); v {
	case "":
		return nil, authn.ErrNoCredentials
	case "good-key":
		return &authn.Principal{Subject: "key1", Method: "apikey", Scopes: []string{"read"}, Source: authn.SourceHeader}, nil
	}
	return nil, problem.Unauthorized(problem.TypeInvalidCredentials, "", "invalid API key").WithReason("apikey_invalid")
}

func (apiKeyStub) Challenge(realm string) string { return problem.Challenge("ApiKey", realm) }

// compose builds the real authenticators: JWT (Bearer), Basic, and the
// API-key stub, in that order.
func compose(t *testing.T) (authn.Authenticator, string) {
	t.Helper()
	key, err := jwt.NewKey("k1", jwt.HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key})
	tok, err := iss.Issue(jwt.Claims{Subject: "alice", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	fast := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	pv, _ := password.NewVerifier(password.Options{Params: fast})
	h, _ := password.HashWith("wonderland-2026", fast)
	b, err := basic.New(basic.Options{Users: map[string]basic.User{"alice": {Hash: h}}, Verifier: pv})
	if err != nil {
		t.Fatal(err)
	}
	return authn.AnyOf(v, b, apiKeyStub{}), tok
}

func basicValue(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

const combined = `Bearer realm="api", Basic realm="api", charset="UTF-8", ApiKey realm="api"`

// AnyOf over Bearer, Basic and ApiKey: one WWW-Authenticate listing every
// scheme; every credential presented must be good — a bad one is refused
// with its own reason, not rescued by another credential of a later
// authenticator, nor by falling through to anonymous under Optional.
func TestAnyOfComposition(t *testing.T) {
	any, tok := compose(t)
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: any, Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	var method string
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found := authn.FromContext(r.Context())
		method = "anonymous"
		if found {
			method = p.Method
		}
	})
	cases := []struct {
		name          string
		hdr           map[string]string
		status        int
		method        string
		reason, chall string
	}{
		{"none", nil, 401, "", "token_missing", combined},
		{"bearer", map[string]string{"Authorization": "Bearer " + tok}, 200, "jwt", "", ""},
		{"basic", map[string]string{"Authorization": basicValue("alice", "wonderland-2026")}, 200, "basic", "", ""},
		{"api key", map[string]string{"X-API-Key": "good-key"}, 200, "apikey", "", ""},
		{"bad basic, good key", map[string]string{"Authorization": basicValue("alice", "x"), "X-API-Key": "good-key"}, 401, "", "bad_credentials", combined},
		{"malformed basic, good key", map[string]string{"Authorization": "Basic %%", "X-API-Key": "good-key"}, 401, "", "basic_malformed", combined},
		{"bad key", map[string]string{"X-API-Key": "stolen"}, 401, "", "apikey_invalid", combined},
		{"bad bearer, good key", map[string]string{"Authorization": "Bearer x.y.z", "X-API-Key": "good-key"}, 401, "", "token_malformed", ""},
	}
	for _, c := range cases {
		for _, optional := range []bool{false, true} {
			h := g.Require(ok)
			if optional {
				h = g.Optional(ok)
			}
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range c.hdr {
				r.Header.Set(k, v)
			}
			method = ""
			n := len(mem.Events())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			status, want := w.Code, c.status
			if optional && c.name == "none" {
				want = 200 // anonymous
			}
			if status != want {
				t.Errorf("%s (optional %v): %d; want %d", c.name, optional, status, want)
				continue
			}
			if want == 200 {
				if wantMethod := c.method; (wantMethod == "" && method != "anonymous") || (wantMethod != "" && method != wantMethod) {
					t.Errorf("%s (optional %v): method %q; want %q", c.name, optional, method, c.method)
				}
				continue
			}
			ev := mem.Events()[n:]
			if len(ev) != 1 || ev[0].Reason != c.reason {
				t.Errorf("%s: events %+v; want one %s", c.name, ev, c.reason)
			}
			if c.chall != "" && w.Header().Get("WWW-Authenticate") != c.chall {
				t.Errorf("%s: challenge %q; want %q", c.name, w.Header().Get("WWW-Authenticate"), c.chall)
			}
		}
	}
}

// A request presenting several credentials is refused when any of them is
// refused, whatever the members' order: a good bearer token does not
// rescue a bad API key, nor a good key a bad token.
func TestAnyOfRefusesAnyBadCredential(t *testing.T) {
	_, tok := compose(t)
	v := jwtVerifier(t)
	for _, order := range []string{"jwt first", "apikey first"} {
		a := authn.AnyOf(v, apiKeyStub{})
		if order == "apikey first" {
			a = authn.AnyOf(apiKeyStub{}, v)
		}
		for _, c := range []struct {
			name   string
			hdr    map[string]string
			reason string // "" accepted
		}{
			{"good bearer, bad key", map[string]string{"Authorization": "Bearer " + tok, "X-API-Key": "wrong-key"}, "apikey_invalid"},
			{"bad bearer, good key", map[string]string{"Authorization": "Bearer x.y.z", "X-API-Key": "good-key"}, "token_malformed"},
			{"good bearer, good key", map[string]string{"Authorization": "Bearer " + tok, "X-API-Key": "good-key"}, ""},
		} {
			r := httptest.NewRequest("GET", "/", nil)
			for k, val := range c.hdr {
				r.Header.Set(k, val)
			}
			p, err := a.Authenticate(r)
			if c.reason == "" {
				want := "jwt"
				if order == "apikey first" {
					want = "apikey"
				}
				if err != nil || p.Method != want {
					t.Errorf("%s, %s: %v, %v; want the %s principal", order, c.name, p, err, want)
				}
				continue
			}
			pr, ok := problem.As(err)
			if !ok || pr.Reason != c.reason {
				t.Errorf("%s, %s: %v, %v; want refused %s", order, c.name, p, err, c.reason)
			}
		}
	}
}

func jwtVerifier(t *testing.T) *jwt.Verifier {
	t.Helper()
	key, err := jwt.NewKey("k1", jwt.HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// opaqueStub reads Bearer tokens too (as an introspection authenticator
// does): "opaque-ok" is valid, other non-JWT tokens are refused.
type opaqueStub struct{}

func (opaqueStub) Authenticate(r *http.Request) (*authn.Principal, error) {
	v := r.Header.Get("Authorization")
	switch {
	case v == "Bearer opaque-ok":
		return &authn.Principal{Subject: "svc", Method: "introspect"}, nil
	case len(v) > 7 && v[:7] == "Bearer ":
		return nil, problem.Unauthorized(problem.TypeInvalidToken, "", "inactive").WithReason("token_inactive")
	}
	return nil, authn.ErrNoCredentials
}

func (opaqueStub) AuthorizationSchemes() []string { return []string{"Bearer"} }

// Two members reading the same credential (Bearer) are alternatives for
// it, not two credentials: one accepting it is enough, and the later ones
// are not asked; both refusing it refuses it with the first's reason.
func TestAnyOfSharedCredential(t *testing.T) {
	_, tok := compose(t)
	a := authn.AnyOf(jwtVerifier(t), opaqueStub{})
	for _, c := range []struct {
		auth, method, reason string
	}{
		{"Bearer " + tok, "jwt", ""},
		{"Bearer opaque-ok", "introspect", ""},
		{"Bearer opaque-bad", "", "token_malformed"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", c.auth)
		p, err := a.Authenticate(r)
		if c.reason == "" {
			if err != nil || p.Method != c.method {
				t.Errorf("%s: %v, %v; want %s", c.auth, p, err, c.method)
			}
			continue
		}
		if pr, ok := problem.As(err); !ok || pr.Reason != c.reason {
			t.Errorf("%s: %v, %v; want refused %s", c.auth, p, err, c.reason)
		}
	}
	// The shared credential accepted, another credential still counts.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer opaque-ok")
	r.Header.Set("X-API-Key", "stolen")
	if _, err := authn.AnyOf(jwtVerifier(t), opaqueStub{}, apiKeyStub{}).Authenticate(r); err == nil {
		t.Error("a bad API key beside a good shared bearer token was accepted")
	}
}

// An Authorization field that no member reads is a presented credential:
// refused with a specific reason and the combined challenge, under
// Optional too — never "no credential" or anonymous.
func TestGuardUnreadAuthorization(t *testing.T) {
	any, _ := compose(t)
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: any, Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ value, reason string }{
		{"demo-read-key-0001", "authorization_malformed"},
		{"Foo bar", "authorization_scheme_unsupported"},
		{"Digest username=\"a\"", "authorization_scheme_unsupported"},
		{"\x01 x", "authorization_malformed"},
	} {
		for _, optional := range []bool{false, true} {
			h := g.Require(http.NotFoundHandler())
			if optional {
				h = g.Optional(http.NotFoundHandler())
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", c.value)
			n := len(mem.Events())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			ev := mem.Events()[n:]
			if w.Code != 401 || len(ev) != 1 || ev[0].Reason != c.reason || w.Header().Get("WWW-Authenticate") != combined {
				t.Errorf("%q (optional %v): %d %+v %q; want 401, one %s, the combined challenge", c.value, optional, w.Code, ev, w.Header().Get("WWW-Authenticate"), c.reason)
			}
		}
	}
	// An authenticator that reads no Authorization field ignores it.
	g2, _ := authn.New(authn.Options{Authenticator: authn.AuthenticatorFunc(func(*http.Request) (*authn.Principal, error) { return nil, authn.ErrNoCredentials })})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Foo bar")
	w := httptest.NewRecorder()
	g2.Optional(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("a guard that reads no Authorization: %d; want 200 (anonymous)", w.Code)
	}
}
