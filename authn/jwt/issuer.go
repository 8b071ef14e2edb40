package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
)

// DefaultAccessTTL is the default lifetime of access tokens.
const DefaultAccessTTL = 15 * time.Minute

// IssuerOptions configure an Issuer.
type IssuerOptions struct {
	// Key signs tokens; it must hold private (or secret) material. Its kid
	// goes into every token header. Required.
	Key *Key `json:"-" yaml:"-"`
	// Issuer is the iss claim. Recommended (verifiers should check it).
	Issuer string `json:"issuer" yaml:"issuer"`
	// Audience is the default aud claim.
	Audience []string `json:"audience" yaml:"audience"`
	// TTL is the default token lifetime. Default 15 minutes.
	TTL time.Duration `json:"ttl" yaml:"ttl"`
	// Type is the typ header. Default "at+jwt" (RFC 9068).
	Type string `json:"type" yaml:"type"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Issuer signs tokens with one key. It is safe for concurrent use.
type Issuer struct {
	key      *Key
	iss      string
	audience []string
	ttl      time.Duration
	typ      string
	use      string // the token_use claim: "access", or "refresh" for package refresh's copy
	now      func() time.Time
}

// NewIssuer validates opts and returns an Issuer.
func NewIssuer(opts IssuerOptions) (*Issuer, error) {
	if opts.Key == nil {
		return nil, errors.New("jwt: IssuerOptions.Key is required")
	}
	if !opts.Key.CanSign() {
		return nil, fmt.Errorf("jwt: key %s holds no private key; an Issuer needs one that can sign", quoteForError(opts.Key.id))
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultAccessTTL
	}
	if ttl < 0 || ttl > lifecycle.MaxTTL {
		return nil, fmt.Errorf("jwt: IssuerOptions.TTL %v is out of range (0, %v]", ttl, lifecycle.MaxTTL)
	}
	typ := opts.Type
	if typ == "" {
		typ = TypeAccess
	}
	if strings.EqualFold(stripApplication(typ), TypeRefresh) {
		return nil, errors.New("jwt: an Issuer signs access tokens; refresh tokens come from package refresh")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Issuer{key: opts.Key, iss: opts.Issuer, audience: append([]string(nil), opts.Audience...), ttl: ttl, typ: typ, use: "access", now: now}, nil
}

// Key returns the signing key.
func (i *Issuer) Key() *Key { return i.key }

// TTL returns the default token lifetime.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// IssuerName returns the iss claim the Issuer writes.
func (i *Issuer) IssuerName() string { return i.iss }

// Claims describe a token to issue.
type Claims struct {
	// Subject is the sub claim: who the token is about. Required.
	Subject string
	// Roles go into the "roles" claim (an array).
	Roles []string
	// Scopes go into the "scope" claim (space-separated, RFC 9068).
	Scopes []string
	// Audience overrides the Issuer's default aud.
	Audience []string
	// TTL overrides the Issuer's default lifetime.
	TTL time.Duration
	// ID is the jti; a random 128-bit ID when empty.
	ID string
	// SessionID is the sid claim, tying the token to a refresh-token
	// family so that revoking the session revokes it.
	SessionID string
	// AuthTime is when the user authenticated (auth_time); zero: omitted.
	AuthTime time.Time
	// ExpiresAt, when set, caps exp (a session's end).
	ExpiresAt time.Time
	// Extra holds custom claims. Registered names (iss, sub, aud, exp,
	// nbf, iat, jti, sid, scope, roles, token_use, auth_time) are refused.
	Extra map[string]any
}

// Token is an issued token.
type Token struct {
	Raw       string    // the compact JWS
	ID        string    // its jti
	ExpiresAt time.Time // its exp
}

var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"sid": true, "scope": true, "scp": true, "roles": true, "token_use": true, "auth_time": true,
}

// Issue signs an access token for c and returns it.
func (i *Issuer) Issue(c Claims) (string, error) {
	t, err := i.IssueToken(c)
	return t.Raw, err
}

// IssueToken signs an access token for c and returns it with its ID and
// expiry.
func (i *Issuer) IssueToken(c Claims) (Token, error) {
	if c.Subject == "" {
		return Token{}, errors.New("jwt: Claims.Subject is required")
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = i.ttl
	}
	if ttl < 0 || ttl > lifecycle.MaxTTL {
		return Token{}, fmt.Errorf("jwt: TTL %v is out of range (0, %v]", ttl, lifecycle.MaxTTL)
	}
	now := i.now()
	exp := now.Add(ttl)
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(exp) {
		exp = c.ExpiresAt
	}
	if !exp.After(now) {
		return Token{}, errors.New("jwt: the token would already be expired")
	}
	id := c.ID
	if id == "" {
		id = lifecycle.NewID()
	}
	m := make(map[string]any, 12+len(c.Extra))
	for k, v := range c.Extra {
		if reservedClaims[k] {
			return Token{}, fmt.Errorf("jwt: Claims.Extra cannot set the registered claim %q", k)
		}
		m[k] = v
	}
	m["sub"] = c.Subject
	m["iat"] = now.Unix()
	m["exp"] = exp.Unix()
	m["jti"] = id
	m["token_use"] = i.use
	if i.iss != "" {
		m["iss"] = i.iss
	}
	aud := c.Audience
	if aud == nil && i.use == "access" {
		aud = i.audience // a refresh token names only the audience it is given
	}
	switch len(aud) {
	case 0:
	case 1:
		m["aud"] = aud[0]
	default:
		m["aud"] = aud
	}
	if i.use == "access" {
		if c.Roles != nil {
			m["roles"] = c.Roles
		}
		if len(c.Scopes) > 0 {
			for _, s := range c.Scopes {
				if s == "" || strings.ContainsAny(s, " \t\n\"\\") {
					return Token{}, fmt.Errorf("jwt: invalid scope %q", s)
				}
			}
			m["scope"] = strings.Join(c.Scopes, " ")
		}
	}
	if c.SessionID != "" {
		m["sid"] = c.SessionID
	}
	if !c.AuthTime.IsZero() {
		m["auth_time"] = c.AuthTime.Unix()
	}
	raw, err := i.signClaims(m)
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, ID: id, ExpiresAt: time.Unix(exp.Unix(), 0)}, nil
}

// signClaims builds and signs the compact JWS.
func (i *Issuer) signClaims(m map[string]any) (string, error) {
	hdr := map[string]string{"alg": i.key.alg.name, "typ": i.typ}
	if i.key.id != "" {
		hdr["kid"] = i.key.id
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("jwt: claims cannot be encoded: %w", err)
	}
	var sb strings.Builder
	sb.Grow(base64.RawURLEncoding.EncodedLen(len(hb)) + base64.RawURLEncoding.EncodedLen(len(pb)) + 700)
	sb.WriteString(base64.RawURLEncoding.EncodeToString(hb))
	sb.WriteByte('.')
	sb.WriteString(base64.RawURLEncoding.EncodeToString(pb))
	sig, err := i.key.sign(sb.String())
	if err != nil {
		return "", err
	}
	sb.WriteByte('.')
	sb.WriteString(base64.RawURLEncoding.EncodeToString(sig))
	return sb.String(), nil
}

// JWKSHandler serves the public halves of keys as a JWKS document
// (RFC 7517 §5), for /.well-known/jwks.json, so that other services can
// verify the tokens an Issuer signs. List the current signing key and the
// keys still in their overlap period. HMAC secrets are refused: they have
// no public half. The document is built once; responses are cacheable for
// five minutes.
func JWKSHandler(keys ...*Key) (http.Handler, error) {
	doc := struct {
		Keys []map[string]any `json:"keys"`
	}{Keys: []map[string]any{}}
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("jwt: nil key")
		}
		j, err := k.PublicJWK()
		if err != nil {
			return nil, err
		}
		doc.Keys = append(doc.Keys, j)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	ctype := []string{"application/jwk-set+json"}
	cache := []string{"public, max-age=300"}
	nosniff := []string{"nosniff"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			problem.Write(w, r, problem.MethodNotAllowed([]string{http.MethodGet, http.MethodHead}))
			return
		}
		h := w.Header()
		h["Content-Type"] = ctype
		h["Cache-Control"] = cache
		h["X-Content-Type-Options"] = nosniff
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	}), nil
}
