package main

import (
	"bytes"
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
Prints the token on stdout.

Flags of bulwark token issue:
`

// issueFlags are the flags of `bulwark token issue`.
type issueFlags struct {
	fs                                 *flag.FlagSet
	keyFile, kid, alg, subject, issuer *string
	ttl                                *time.Duration
	roles, scopes, audience            stringList
}

func newIssueFlags() *issueFlags {
	f := &issueFlags{fs: flag.NewFlagSet("token issue", flag.ContinueOnError)}
	fs := f.fs
	fs.Usage = printUsage(fs, tokenUsage)
	f.keyFile = fs.String("key", "", "signing key file: PEM, JWK, or a raw HMAC secret (required)")
	f.kid = fs.String("kid", "", "key ID for the token header (default: the JWK's kid, if any)")
	f.alg = fs.String("alg", "", "algorithm (default: inferred from the key; HS256 for a raw secret)")
	f.subject = fs.String("subject", "", "the sub claim (required)")
	f.issuer = fs.String("iss", "", "the iss claim")
	f.ttl = fs.Duration("ttl", 15*time.Minute, "lifetime of the token, at most 24h")
	fs.Var(&f.roles, "role", "a role (repeatable)")
	fs.Var(&f.scopes, "scope", "a scope (repeatable)")
	fs.Var(&f.audience, "aud", "an audience (repeatable)")
	return f
}

// runToken implements `bulwark token`: its one subcommand, issue, and help.
func runToken(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("token", "a subcommand is required: bulwark token issue --key FILE --subject SUB")
	}
	switch args[0] {
	case "issue":
	case "-h", "-help", "--help", "help":
		f := newIssueFlags()
		f.fs.SetOutput(stdout)
		f.fs.Usage()
		return nil
	default:
		return usageError("token", "unknown subcommand %q; the one subcommand is issue", args[0])
	}
	f := newIssueFlags()
	if help, err := parseFlags(f.fs, args[1:], stdout); help || err != nil {
		return err
	}
	keyFile, kid, alg, subject, issuer, ttl := f.keyFile, f.kid, f.alg, f.subject, f.issuer, f.ttl
	roles, scopes, audience := f.roles, f.scopes, f.audience
	if *keyFile == "" || strings.TrimSpace(*subject) == "" {
		return usageError("token issue", "--key and --subject are required")
	}
	if *ttl <= 0 || *ttl > 24*time.Hour {
		return usageError("token issue", "--ttl must be between 1s and 24h (access tokens should be short-lived)")
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
