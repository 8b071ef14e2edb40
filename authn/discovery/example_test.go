package discovery_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn/discovery"
)

func ExampleDiscover() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server/tenant1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"introspection_endpoint":%q,"jwks_uri":%q}`,
			srv.URL+"/tenant1", srv.URL+"/introspect", srv.URL+"/jwks")
	}))
	defer srv.Close()

	md, err := discovery.Discover(context.Background(), discovery.Options{Issuer: srv.URL + "/tenant1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(md.Kind, md.IntrospectionEndpoint == srv.URL+"/introspect", md.JWKSURI == srv.URL+"/jwks")

	// Output:
	// oauth true true
}

func ExampleWellKnownURL() {
	oauth, _ := discovery.WellKnownURL("https://as.example/tenant1", discovery.KindOAuth)
	oidc, _ := discovery.WellKnownURL("https://as.example/tenant1", discovery.KindOIDC)
	fmt.Println(oauth)
	fmt.Println(oidc)
	// Output:
	// https://as.example/.well-known/oauth-authorization-server/tenant1
	// https://as.example/tenant1/.well-known/openid-configuration
}
