package jwt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

// Verify a token and read the principal; the claims are decoded once.
func Example() {
	key, err := jwt.NewHMACKey("2026-03", jwt.HS256, []byte("an example secret of at least 32 bytes!"))
	if err != nil {
		panic(err)
	}
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://api.example.com", Audience: []string{"api"}})
	tok, _ := iss.Issue(jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read", "write"}})

	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Keys:     []*jwt.Key{key},
		Issuers:  []string{"https://api.example.com"},
		Audience: []string{"api"},
		Type:     jwt.TypeAccess,
	})
	if err != nil {
		panic(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Subject, p.Roles, p.Scopes, p.HasScope("write"))
	// Output: alice [admin] [read write] true
}

// What `bulwark token issue --subject --role --scope --ttl --aud --key`
// does: load the signing key, issue, print.
func ExampleIssuer() {
	key, err := jwt.GenerateKey("ops-2026", jwt.ES256) // the CLI: jwt.LoadKeyFile(path, kid, alg)
	if err != nil {
		panic(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://api.example.com"})
	if err != nil {
		panic(err)
	}
	tok, err := iss.IssueToken(jwt.Claims{
		Subject:  "deploy-bot",
		Roles:    []string{"deployer"},
		Scopes:   []string{"deploy:write"},
		Audience: []string{"api"},
		TTL:      3600e9, // --ttl 1h
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(tok.Raw, "."), tok.ExpiresAt.Sub(tok.ExpiresAt.Add(-3600e9)))
	// Output: 2 1h0m0s
}

// Publish the public keys for other services at /.well-known/jwks.json.
func ExampleJWKSHandler() {
	current, _ := jwt.GenerateKey("2026-03", jwt.EdDSA)
	h, err := jwt.JWKSHandler(current)
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	fmt.Println(w.Code, doc.Keys[0]["kid"], doc.Keys[0]["kty"], doc.Keys[0]["alg"], doc.Keys[0]["d"] == "")
	// Output: 200 2026-03 OKP EdDSA true
}

// Keys from configuration: a short or guessable secret is refused at
// startup with a hint.
func ExampleKeyConfig() {
	_, err := jwt.KeyConfig{ID: "k1", Alg: jwt.HS256, Secret: "your-secret-key"}.Load()
	fmt.Println(err != nil && strings.Contains(err.Error(), "openssl rand -base64 48"))
	// Output: true
}
