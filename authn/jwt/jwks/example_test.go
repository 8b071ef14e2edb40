package jwks_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
)

// Verify tokens signed by an identity provider with its published keys.
func ExampleNew() {
	// The identity provider (here in-process) signs with its private key and
	// publishes the public half.
	idpKey, _ := jwt.GenerateKey("idp-2026", jwt.ES256)
	published, _ := jwt.JWKSHandler(idpKey)
	idp := httptest.NewServer(published) // real deployments: an https:// URL
	defer idp.Close()
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: idpKey, Issuer: "https://idp.example.com", Audience: []string{"api"}})
	tok, _ := iss.Issue(jwt.Claims{Subject: "alice"})

	keys, err := jwks.New(jwks.Options{URL: idp.URL + "/.well-known/jwks.json"})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		KeySet:     keys,
		Algorithms: []string{jwt.ES256}, // explicit: required with a key set
		Issuers:    []string{"https://idp.example.com"},
		Audience:   []string{"api"},
	})
	if err != nil {
		panic(err)
	}
	p, err := v.Verify(context.Background(), tok)
	fmt.Println(p.Subject, err)
	// Output: alice <nil>
}
