package mtls

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
)

// BoundOptions configure CertificateBound.
type BoundOptions struct {
	// RequireBinding refuses tokens without a cnf claim (401,
	// token_not_bound): every token must be certificate-bound. Default
	// false: a token without cnf is an ordinary bearer token.
	RequireBinding bool `json:"require_binding,omitempty" yaml:"require_binding,omitempty"`
}

// CertificateBound returns an Authenticator that accepts the tokens of
// tokens (a *jwt.Verifier, or any authenticator whose principal keeps the
// token's claims) under RFC 8705 §3: a token whose cnf claim carries
// x5t#S256 is accepted only when the request presents, and certs
// verifies, the client certificate of that SHA-256 thumbprint — a stolen
// token is useless without the certificate's private key.
//
// A bound token presented without a client certificate is refused (401,
// token_cert_missing), with another certificate too (401,
// token_cert_mismatch), both as invalid_token (RFC 8705 §3); a cnf that
// carries no x5t#S256 (another confirmation method, such as DPoP's jkt,
// which this service cannot check) is refused (token_binding_unsupported);
// a certificate that does not verify is refused as certs refuses it.
// The principal is the token's, unchanged.
//
// It is the only place a certificate-bound token is accepted: a
// jwt.Verifier refuses a token carrying cnf (token_binding_unchecked)
// unless the request comes through CertificateBound, which marks it with
// authn.WithBindingCheck — so authn.AllOf(certs, jwtV) or a plain
// verifier cannot accept a bound token with another certificate or none.
// Put it where the plain token
// authenticator would go, e.g. authn.AnyOf(mtls.CertificateBound(jwtV,
// certs, mtls.BoundOptions{}), apiKeys), or authn.AllOf(bound, certs) to
// require both credentials.
func CertificateBound(tokens authn.Authenticator, certs *Authenticator, opts BoundOptions) authn.Authenticator {
	return &bound{tokens: tokens, certs: certs, require: opts.RequireBinding}
}

type bound struct {
	tokens  authn.Authenticator
	certs   *Authenticator
	require bool
}

// Challenge is the token authenticator's challenge (Bearer by default).
func (b *bound) Challenge(realm string) string {
	if c, ok := b.tokens.(authn.Challenger); ok {
		return c.Challenge(realm)
	}
	return problem.Challenge("Bearer", realm)
}

// AuthorizationSchemes implements authn.AuthorizationReader: the token
// authenticator's.
func (b *bound) AuthorizationSchemes() []string { return authn.AuthorizationSchemes(b.tokens) }

func (b *bound) Authenticate(r *http.Request) (*authn.Principal, error) {
	// The token authenticator accepts a bound token only from a request
	// whose caller checks the binding: this one, below.
	p, err := b.tokens.Authenticate(authn.WithBindingCheck(r))
	if err != nil || p == nil {
		return p, err
	}
	cnf, present := p.Claims["cnf"]
	if !present {
		if b.require {
			return nil, invalidToken("token_not_bound", "the token is not bound to a client certificate")
		}
		return p, nil
	}
	m, _ := cnf.(map[string]any)
	want, _ := m["x5t#S256"].(string)
	if want == "" {
		return nil, invalidToken("token_binding_unsupported", "the token is bound to a key in a way this service cannot check")
	}
	c, err := b.certs.Verify(r)
	if errors.Is(err, authn.ErrNoCredentials) {
		return nil, invalidToken("token_cert_missing", "the token is bound to a client certificate the request does not present")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(c.Thumbprint), []byte(want)) != 1 {
		return nil, invalidToken("token_cert_mismatch", "the token is bound to another client certificate")
	}
	return p, nil
}

// invalidToken is a 401 invalid_token refusal: authn.Guard adds the RFC
// 6750 challenge with the detail as error_description.
func invalidToken(reason, detail string) *problem.Problem {
	return problem.New(http.StatusUnauthorized, problem.TypeInvalidToken, detail).WithReason(reason)
}
