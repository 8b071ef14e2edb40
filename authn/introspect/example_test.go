package introspect_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/introspect"
)

func Example() {
	// A stand-in authorization server that knows one token.
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if id, _, _ := r.BasicAuth(); id != "orders-api" || r.PostFormValue("token") != "opaque-token-1" {
			fmt.Fprint(w, `{"active":false}`)
			return
		}
		fmt.Fprint(w, `{"active":true,"sub":"alice","scope":"read write","exp":4102444800}`)
	}))
	defer as.Close()

	in, err := introspect.New(introspect.Options{
		Endpoint:     as.URL, // https in production; http only on loopback
		ClientID:     "orders-api",
		ClientSecret: "a-secret-of-at-least-16-bytes",
	})
	if err != nil {
		panic(err)
	}
	guard, _ := authn.New(authn.Options{Authenticator: in})
	h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Println(p.Method, p.Subject, p.Scopes)
	}))

	for _, tok := range []string{"opaque-token-1", "revoked-token"} {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// introspect alice [read write]
	// 200
	// 401
}
