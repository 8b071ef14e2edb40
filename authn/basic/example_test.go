package basic_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/password"
)

func Example() {
	// One Verifier per process, shared by everything that checks passwords.
	verifier, _ := password.NewVerifier(password.Options{Params: fast})
	hash, _ := password.HashWith("wonderland-2026", fast) // stored, never the password
	users, _ := basic.ParseUsers(strings.NewReader("alice:" + hash + ":admin:read,write\n"))
	auth, err := basic.New(basic.Options{Users: users, Verifier: verifier})
	if err != nil {
		panic(err)
	}
	guard, _ := authn.New(authn.Options{Authenticator: auth, Realm: "example"})
	h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s (%s, scopes %v)", p.Subject, p.Method, p.Scopes)
	}))

	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("alice", "wonderland-2026")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())

	r.SetBasicAuth("alice", "guess")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice (basic, scopes [read write])
	// 401 Basic realm="example", charset="UTF-8"
}
