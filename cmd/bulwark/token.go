package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

const tokenUsage = `Usage: bulwark token issue --key FILE --subject SUB [flags]

Signs an access token (typ at+jwt) with the key in FILE: a PEM private key
(RSA, EC, Ed25519), a private JWK, or a raw HMAC secret of at least 32 bytes.
Prints the token on stdout. Flags:
`

// runToken implements `bulwark token issue`.
func runToken(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "issue" {
		return fmt.Errorf("%w: bulwark token issue --key FILE --subject SUB [--role R] [--scope S] [--ttl 15m] [--aud A] [--iss I]", errUsage)
	}
	fs := flag.NewFlagSet("token issue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage); fs.PrintDefaults() }
	keyFile := fs.String("key", "", "signing key file: PEM, JWK, or a raw HMAC secret (required)")
	kid := fs.String("kid", "", "key ID for the token header (default: the JWK's kid, if any)")
	alg := fs.String("alg", "", "algorithm (default: inferred from the key; HS256 for a raw secret)")
	subject := fs.String("subject", "", "the sub claim (required)")
	issuer := fs.String("iss", "", "the iss claim")
	ttl := fs.Duration("ttl", 15*time.Minute, "lifetime of the token")
	var roles, scopes, audience stringList
	fs.Var(&roles, "role", "a role (repeatable)")
	fs.Var(&scopes, "scope", "a scope (repeatable)")
	fs.Var(&audience, "aud", "an audience (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: see bulwark token issue -h", errUsage)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *keyFile == "" || strings.TrimSpace(*subject) == "" {
		return fmt.Errorf("%w: --key and --subject are required (see bulwark token issue -h)", errUsage)
	}
	if *ttl <= 0 || *ttl > 24*time.Hour {
		return fmt.Errorf("%w: --ttl must be between 1s and 24h (access tokens should be short-lived)", errUsage)
	}
	if *alg == "" && isRawSecret(*keyFile) {
		*alg = jwt.HS256 // a raw secret names no algorithm of its own
	}
	key, err := jwt.LoadKeyFile(*keyFile, *kid, *alg)
	if err != nil {
		return err
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: *issuer, Audience: audience, TTL: *ttl})
	if err != nil {
		return err
	}
	tok, err := iss.IssueToken(jwt.Claims{Subject: *subject, Roles: roles, Scopes: scopes})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok.Raw)
	return nil
}

// isRawSecret reports whether path holds neither PEM nor a JWK, which
// LoadKeyFile then reads as an HMAC secret.
func isRawSecret(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false // LoadKeyFile reports the error
	}
	b = bytes.TrimSpace(b)
	return !bytes.HasPrefix(b, []byte("-----BEGIN")) && !bytes.HasPrefix(b, []byte("{"))
}
