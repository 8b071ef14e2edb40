// Package authn identifies the caller: the Principal type, the
// Authenticator contract, any-of / all-of composition, and the typed
// context accessors handlers use to read who is calling.
//
// Authenticators (packages jwt, apikey, basic, introspect and mtls, and
// package session's Manager) decode credentials once; handlers read the
// result with FromContext and never decode again.
//
// Composed with AnyOf, every credential a request presents must be good:
// a bad one is refused with its own reason, never passed over for another
// member's good credential (in either order) or for anonymous access
// under Optional. Members that read the same credential (two Bearer
// readers: a JWT verifier and an introspection authenticator) are
// alternatives for it, not two credentials. An Authorization field that
// no authenticator reads (no scheme, or an unknown one) is refused too
// (authorization_malformed, authorization_scheme_unsupported), not taken
// for no credential. A 401 for a missing or refused credential (other
// than a bad bearer token, which gets its RFC 6750 error challenge) lists
// every member's scheme in one WWW-Authenticate ("Bearer realm=…, Basic
// realm=…, charset=…, ApiKey realm=…"). Every member is asked, so a
// request carrying two credentials pays for both checks; members that
// find no credential of their kind return at once.
//
// A token bound to a client certificate (a cnf claim, RFC 8705 §3) is
// accepted only where its binding is checked: mtls.CertificateBound marks
// the request with WithBindingCheck, and package jwt refuses a bound
// token in a request not so marked (token_binding_unchecked).
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
	// Source is where the request carried the credential: a header, a
	// cookie or a query parameter (SourceUnknown when the authenticator
	// does not say, e.g. a token verified outside a request). A credential
	// from a cookie is sent by browsers on their own, cross-site requests
	// included, so unsafe requests authenticated that way need CSRF
	// protection; read it with SourceOf.
	Source CredentialSource
	// CredentialInfo holds what the authenticator knows about the
	// credential beyond its claims, for the authenticator's own typed
	// accessor (package jwt: jwt.KeyOf, the key that verified the token).
	// Never the secret itself. Nil when the authenticator records nothing.
	CredentialInfo any
}

// CredentialSource says where a request carried its credential.
type CredentialSource uint8

// Credential sources.
const (
	// SourceUnknown: not recorded.
	SourceUnknown CredentialSource = iota
	// SourceHeader: a request header the client set itself (Authorization:
	// Bearer, X-API-Key). Browsers do not attach such headers to
	// cross-site requests without a CORS preflight the server must allow.
	SourceHeader
	// SourceCookie: a cookie. Browsers attach cookies by themselves, to
	// cross-site requests too: unsafe methods authenticated this way need a
	// CSRF check.
	SourceCookie
	// SourceQuery: a URL query parameter.
	SourceQuery
	// SourceTLS: a TLS client certificate (package authn/mtls). Browsers
	// present a chosen certificate on their own, cross-site requests
	// included, as they send cookies: see Ambient.
	SourceTLS
)

// Ambient reports whether a browser attaches credentials of this source on
// its own, to cross-site requests too — cookies and TLS client
// certificates — so that unsafe methods authenticated this way need a CSRF
// check.
func (s CredentialSource) Ambient() bool { return s == SourceCookie || s == SourceTLS }

// String returns "header", "cookie", "query", "tls" or "unknown".
func (s CredentialSource) String() string {
	switch s {
	case SourceTLS:
		return "tls"
	case SourceHeader:
		return "header"
	case SourceCookie:
		return "cookie"
	case SourceQuery:
		return "query"
	}
	return "unknown"
}

// SourceOf returns where the request's principal presented its credential,
// and SourceUnknown when the request is anonymous. A CSRF guard applies
// its check to unsafe methods when it is SourceCookie:
//
//	if authn.SourceOf(r.Context()) == authn.SourceCookie && !safe(r.Method) { ...check the CSRF token... }
func SourceOf(ctx context.Context) CredentialSource {
	if p, ok := FromContext(ctx); ok {
		return p.Source
	}
	return SourceUnknown
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
