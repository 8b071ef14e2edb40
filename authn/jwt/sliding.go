package jwt

import (
	"errors"
	"net/http"
	"net/textproto"
	"time"

	"github.com/bulwark-go/bulwark/authn"
)

// DefaultRefreshedTokenHeader is the response header that carries a
// sliding-refreshed token. Browsers only let scripts read it when CORS
// exposes it: add it to the CORS guard's exposed headers.
const DefaultRefreshedTokenHeader = "X-Refreshed-Token"

// SlidingOptions configure sliding refresh.
type SlidingOptions struct {
	// Issuer signs the fresh tokens. Required, with a non-empty iss. Only
	// tokens carrying its iss and verified by its own key are renewed: a
	// verifier that also trusts other keys (a remote JWKS) accepts tokens
	// other issuers signed, and those are never re-signed with ours. Tokens
	// signed by a key the Issuer no longer uses (after a rotation) are not
	// renewed either; their clients refresh as usual.
	Issuer *Issuer `json:"-" yaml:"-"`
	// Window: a token whose remaining lifetime is at most Window gets a
	// fresh one. Default a third of the Issuer's TTL.
	Window time.Duration `json:"window" yaml:"window"`
	// Header carries the fresh token. Default "X-Refreshed-Token".
	Header string `json:"header" yaml:"header"`
	// MaxLifetime bounds how long sliding can keep a login alive, counted
	// from auth_time (or iat): past it, no fresh token is issued and the
	// user must authenticate again. Default 12 hours.
	MaxLifetime time.Duration `json:"max_lifetime" yaml:"max_lifetime"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Sliding returns middleware, placed after authn.Require or Optional, that
// answers a request authenticated with an access token close to its expiry
// with a fresh token in a response header, so that active clients never
// need a refresh round trip (the bottle post's suggestion). The fresh token
// repeats the old one's subject, roles, scopes, audience, session and
// custom claims, with a new jti and exp; revoking the session still
// revokes it. Each refreshed response costs one signature. Only tokens
// this Issuer signed are renewed: their iss must be the Issuer's, and the
// key that verified them (KeyOf) must be the Issuer's key.
func Sliding(opts SlidingOptions) (func(http.Handler) http.Handler, error) {
	if opts.Issuer == nil {
		return nil, errors.New("jwt: SlidingOptions.Issuer is required")
	}
	if opts.Issuer.iss == "" {
		return nil, errors.New("jwt: sliding refresh needs an Issuer whose IssuerOptions.Issuer (iss) is set: it renews only the tokens it issued, and a token without iss cannot say so")
	}
	window := opts.Window
	if window == 0 {
		window = opts.Issuer.ttl / 3
	}
	if window < 0 || window >= opts.Issuer.ttl {
		return nil, errors.New("jwt: SlidingOptions.Window must be shorter than the Issuer's TTL")
	}
	header := opts.Header
	if header == "" {
		header = DefaultRefreshedTokenHeader
	}
	header = textproto.CanonicalMIMEHeaderKey(header)
	maxLife := opts.MaxLifetime
	if maxLife == 0 {
		maxLife = 12 * time.Hour
	}
	if maxLife < 0 {
		return nil, errors.New("jwt: SlidingOptions.MaxLifetime must be positive")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	iss := opts.Issuer
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, ok := authn.FromContext(r.Context()); ok && p.Method == "jwt" && !p.ExpiresAt.IsZero() {
				t := now()
				if p.ExpiresAt.Sub(t) <= window {
					if tok, ok := slide(iss, p, t, maxLife); ok {
						h := w.Header()
						h[header] = []string{tok}
						h.Set("Cache-Control", "no-store")
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

var notCarried = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"sid": true, "scope": true, "scp": true, "scopes": true, "roles": true, "role": true,
	"token_use": true, "auth_time": true,
}

// slide issues the fresh token for p, or reports false when p's token is
// not one this Issuer may renew.
func slide(iss *Issuer, p *authn.Principal, now time.Time, maxLife time.Duration) (string, bool) {
	if tokIss, _ := authn.Claim[string](p, "iss"); tokIss == "" || tokIss != iss.iss {
		return "", false
	}
	if vk := verifiedKeyOf(p); vk == nil || !sameKey(vk.key, iss.key) {
		return "", false
	}
	if use, _ := authn.Claim[string](p, "token_use"); use == "refresh" {
		return "", false
	}
	start, ok := numericDate(p.Claims["auth_time"])
	if !ok {
		if start, ok = numericDate(p.Claims["iat"]); !ok {
			return "", false
		}
	}
	end := start.Add(maxLife)
	if !now.Before(end) {
		return "", false
	}
	c := Claims{Subject: p.Subject, Roles: p.Roles, Scopes: p.Scopes, AuthTime: start, ExpiresAt: end}
	switch a := p.Claims["aud"].(type) {
	case string:
		c.Audience = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				c.Audience = append(c.Audience, s)
			}
		}
	default:
		c.Audience = []string{}
	}
	c.SessionID, _ = authn.Claim[string](p, "sid")
	for k, v := range p.Claims {
		if !notCarried[k] {
			if c.Extra == nil {
				c.Extra = map[string]any{}
			}
			c.Extra[k] = v
		}
	}
	t, err := iss.IssueToken(c)
	if err != nil {
		return "", false
	}
	return t.Raw, true
}
