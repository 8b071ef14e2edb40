// Package authn identifies the caller: the Principal type, the
// Authenticator contract, any-of / all-of composition, and the typed
// context accessors handlers use to read who is calling.
//
// Authenticators (today package jwt; API keys, Basic, OAuth2 introspection,
// sessions and mTLS are planned) decode credentials once; handlers read the
// result with FromContext and never decode again.
package authn

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// Principal is an authenticated caller.
type Principal struct {
	// Subject identifies the caller (a user ID, a key ID, a client ID).
	Subject string
	// Method is how the caller authenticated: "jwt", "apikey", "basic",
	// "session", "introspect", "mtls".
	Method string
	// Roles and Scopes grant access; see package authz.
	Roles  []string
	Scopes []string
	// TokenID is the credential's own identifier (a JWT's jti), if any.
	TokenID string
	// ExpiresAt is when the credential stops being valid (zero: unknown).
	ExpiresAt time.Time
	// Claims holds the remaining decoded claims or attributes; read them
	// with Claim.
	Claims map[string]any
	// ID, when set, is the principal's stable identifier, Method + ":" +
	// Subject, precomputed by authenticators that reuse one Principal for
	// many requests (a verified-token cache) so that WithPrincipal does not
	// build it on every request. WithPrincipal derives it when empty.
	ID string
}

// HasRole reports whether p has role r.
func (p *Principal) HasRole(r string) bool { return p != nil && slices.Contains(p.Roles, r) }

// HasScope reports whether p has scope s.
func (p *Principal) HasScope(s string) bool { return p != nil && slices.Contains(p.Scopes, s) }

// Claim returns the claim name of p converted to T, and whether it was
// present with that type. JSON numbers decode as float64 or json.Number
// depending on the authenticator; ask for the type it documents.
func Claim[T any](p *Principal, name string) (T, bool) {
	var zero T
	if p == nil || p.Claims == nil {
		return zero, false
	}
	v, ok := p.Claims[name].(T)
	return v, ok
}

// FromContext returns the principal an authenticator attached to ctx.
func FromContext(ctx context.Context) (*Principal, bool) {
	st := reqctx.From(ctx)
	if st == nil {
		return nil, false
	}
	p, ok := st.Principal.(*Principal)
	return p, ok && p != nil
}

// WithPrincipal records p as r's principal and returns the request to pass
// on (r itself when an identity guard already attached request state).
func WithPrincipal(r *http.Request, p *Principal) *http.Request {
	r, st := reqctx.Ensure(r)
	st.Principal = p
	if p != nil {
		if p.ID != "" {
			st.PrincipalID = p.ID
		} else {
			st.PrincipalID = p.Method + ":" + p.Subject
		}
	} else {
		st.PrincipalID = ""
	}
	return r
}
