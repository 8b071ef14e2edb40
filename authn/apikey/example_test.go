package apikey_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
)

func Example() {
	secret := []byte("an example secret of at least 32 random bytes") // from a secret store
	h, _ := apikey.NewHasher(secret)
	key, rec, _ := apikey.Generate(h, apikey.Spec{Owner: "ci", Scopes: []string{"read"}})
	// Give key to its holder once; store rec (it holds only the hash).
	keys, _ := apikey.NewStatic(rec)
	auth, _ := apikey.New(apikey.Options{Store: keys, Secrets: [][]byte{secret}})
	defer auth.Close()
	guard, _ := authn.New(authn.Options{Authenticator: auth, Realm: "api"})
	h2 := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Println(p.Method, p.Subject, p.Scopes)
	}))

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", key)
	h2.ServeHTTP(httptest.NewRecorder(), r)

	r.Header.Set("X-API-Key", key[:len(key)-1]+"x") // a typo: refused by the checksum
	w := httptest.NewRecorder()
	h2.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.HasPrefix(key, "bwk_live_"))
	// Output:
	// apikey ci [read]
	// 401 ApiKey realm="api" true
}
