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
// scheme; the first credential presented decides — a bad one is refused
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
