package jwks_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/bulwark-go/bulwark/audit"
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

// Show a remote key set's health and outage policy on a status page, and
// count its changes of health (serving stale keys, keys dropped,
// recovered) beside the log line each writes.
func ExampleRemote_Status() {
	idpKey, _ := jwt.GenerateKey("idp-2026", jwt.ES256)
	published, _ := jwt.JWKSHandler(idpKey) // Cache-Control: public, max-age=300
	idp := httptest.NewServer(published)
	defer idp.Close()

	keys, err := jwks.New(jwks.Options{
		URL:          idp.URL + "/.well-known/jwks.json",
		MaxStaleness: 6 * time.Hour,                 // default 24h
		Audit:        audit.NewSlog(slog.Default()), // or metrics.Sink(audit.NewSlog(...))
	})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	st := keys.Status()
	fmt.Println(st.State, st.Keys, st.RefreshSeconds)
	fmt.Println(st.OutagePolicy)
	// Output:
	// fresh 1 300
	// while the JWKS cannot be fetched, the last good keys are served for up to 6h0m0s after the last successful fetch, then dropped; with no key held, tokens are refused with 503 (jwks_unavailable)
}
