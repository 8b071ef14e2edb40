package refresh

import (
	"errors"
	"net/http"
	"net/textproto"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// DefaultRefreshedTokenHeader is the response header that carries a
// sliding-refreshed token. Browsers only let scripts read it when CORS
// exposes it: add it to the CORS guard's exposed headers.
const DefaultRefreshedTokenHeader = "X-Refreshed-Token"

// SlidingOptions configure sliding expiry.
type SlidingOptions struct {
	// Issuer signs the fresh tokens, and only tokens it signed are renewed.
	// Required, with a non-empty iss.
	Issuer *jwt.Issuer `json:"-" yaml:"-"`
	// Window: a token with at most this much life left gets a fresh one.
	// Default a third of the Issuer's TTL.
	Window time.Duration `json:"window" yaml:"window"`
	// Header carries the fresh token. Default "X-Refreshed-Token".
	Header string `json:"header" yaml:"header"`
	// MaxLifetime bounds how long sliding keeps a login alive, from
	// auth_time (or iat). Default 12 hours.
	MaxLifetime time.Duration `json:"max_lifetime" yaml:"max_lifetime"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Sliding renews access tokens close to their expiry: placed after
// authn's Require or Optional, it answers a request whose token has at
// most Window left with a fresh token in a response header. See the
// package documentation for what a fresh token carries and which tokens
// are renewed.
type Sliding struct {
	iss     *jwt.Issuer
	window  time.Duration
	header  string // canonical
	maxLife time.Duration
	now     func() time.Time
}

// NewSliding validates opts and returns the sliding-expiry guard.
func NewSliding(opts SlidingOptions) (*Sliding, error) {
	if opts.Issuer == nil {
		return nil, errors.New("refresh: SlidingOptions.Issuer is required")
	}
	if opts.Issuer.IssuerName() == "" {
		return nil, errors.New("refresh: sliding expiry needs an Issuer whose IssuerOptions.Issuer (iss) is set: it renews only the tokens it issued, and a token without iss cannot say so")
	}
	ttl := opts.Issuer.TTL()
	s := &Sliding{iss: opts.Issuer, window: opts.Window, header: opts.Header, maxLife: opts.MaxLifetime, now: opts.Now}
	if s.window == 0 {
		s.window = ttl / 3
	}
	if s.window < 0 || s.window >= ttl {
		return nil, errors.New("refresh: SlidingOptions.Window must be shorter than the Issuer's TTL")
	}
	if s.header == "" {
		s.header = DefaultRefreshedTokenHeader
	}
	s.header = textproto.CanonicalMIMEHeaderKey(s.header)
	if s.maxLife == 0 {
		s.maxLife = 12 * time.Hour
	}
	if s.maxLife < 0 {
		return nil, errors.New("refresh: SlidingOptions.MaxLifetime must be positive")
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Handler returns next behind sliding expiry. It never refuses a request.
func (s *Sliding) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := authn.FromContext(r.Context()); ok && p.Method == "jwt" && !p.ExpiresAt.IsZero() {
			now := s.now()
			if p.ExpiresAt.Sub(now) <= s.window {
				if tok, ok := s.slide(p, now); ok {
					h := w.Header()
					h[s.header] = []string{tok}
					h.Set("Cache-Control", "no-store")
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// notCarried are the claims a fresh token sets itself; every other claim
// is carried over.
var notCarried = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"sid": true, "scope": true, "scp": true, "scopes": true, "roles": true, "role": true,
	"token_use": true, "auth_time": true,
}

// slide issues the fresh token for p, or reports false when p's token is
// not one s's Issuer may renew.
func (s *Sliding) slide(p *authn.Principal, now time.Time) (string, bool) {
	if tokIss, _ := authn.Claim[string](p, "iss"); tokIss == "" || tokIss != s.iss.IssuerName() {
		return "", false
	}
	if !hooks.SignedBy(p, s.iss) {
		return "", false
	}
	if use, _ := authn.Claim[string](p, "token_use"); use == "refresh" {
		return "", false
	}
	start, ok := jose.NumericDate(p.Claims["auth_time"])
	if !ok {
		if start, ok = jose.NumericDate(p.Claims["iat"]); !ok {
			return "", false
		}
	}
	end := start.Add(s.maxLife)
	if !now.Before(end) {
		return "", false
	}
	c := jwt.Claims{Subject: p.Subject, Roles: p.Roles, Scopes: p.Scopes, AuthTime: start, ExpiresAt: end}
	switch a := p.Claims["aud"].(type) {
	case string:
		c.Audience = []string{a}
	case []any:
		for _, x := range a {
			if aud, ok := x.(string); ok {
				c.Audience = append(c.Audience, aud)
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
	t, err := s.iss.IssueToken(c)
	if err != nil {
		return "", false
	}
	return t.Raw, true
}
