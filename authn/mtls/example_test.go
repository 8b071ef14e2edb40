package mtls_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/mtls"
)

func Example() {
	pool, chain := exampleCA() // your CA bundle (or Options.CAFile), and a client's chain

	certs, err := mtls.New(mtls.Options{
		ClientCAs:        pool,
		TrustedProxies:   []string{"10.0.0.0/8"}, // Client-Cert headers only from these
		AllowedSPIFFEIDs: []string{"spiffe://example.org/ns/prod/*"},
		Grants:           map[string]mtls.Grant{"spiffe://example.org/ns/prod/sa/orders": {Scopes: []string{"orders:read"}}},
	})
	if err != nil {
		panic(err)
	}
	guard, _ := authn.New(authn.Options{Authenticator: certs})
	h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "%s via %s, scopes %v", pr.Subject, pr.Method, pr.Scopes)
	}))

	// What a TLS server hands the handler after the handshake.
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: chain}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 spiffe://example.org/ns/prod/sa/orders via mtls, scopes [orders:read]
}
