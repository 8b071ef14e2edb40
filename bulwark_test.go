package bulwark_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark"
)

// tag returns a guard that appends name to the X-Order request header.
func tag(name string) bulwark.Guard {
	return bulwark.GuardFunc(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Add("X-Order", name)
			next.ServeHTTP(w, r)
		})
	})
}

func TestPolicyOrder(t *testing.T) {
	p := bulwark.Policy{
		Authz: tag("authz"), CSRF: tag("csrf"), PostAuthLimit: tag("postlimit"), Authn: tag("authn"),
		Abuse: tag("abuse"), PreAuthLimits: tag("prelimit"), CORS: tag("cors"), BodyLimit: tag("body"), Headers: tag("headers"),
		AccessLog: tag("log"), Recovery: tag("recovery"), Identity: tag("identity"),
	}
	var got string
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = strings.Join(r.Header.Values("X-Order"), ",")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := "identity,recovery,log,headers,cors,body,prelimit,abuse,authn,postlimit,csrf,authz"
	if got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
}

func TestChainSkipsNil(t *testing.T) {
	var nilFunc bulwark.GuardFunc
	h := bulwark.Chain(nil, nilFunc, tag("a"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Order") != "a" {
			t.Fatal("guard a did not run")
		}
		w.WriteHeader(204)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 204 {
		t.Fatal(w.Code)
	}
}
