package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Defaults of Options.
const (
	// DefaultRefreshTTL is the lifetime of one refresh token.
	DefaultRefreshTTL = 14 * 24 * time.Hour
	// DefaultSessionLifetime is the absolute lifetime of a session (a
	// refresh-token family) from login: no refresh extends it.
	DefaultSessionLifetime = 30 * 24 * time.Hour
)

// ErrReused is the Err of the problem answering a refresh token presented
// a second time (reason refresh_reused), for errors.Is.
var ErrReused = errors.New("refresh: refresh token reused")

// hooks are package jwt's functions for the lifecycle.
var hooks = lifecycle.Registered[*jwt.Verifier, *jwt.Issuer]()

// Options configure a Refresher.
type Options struct {
	// Issuer signs access and refresh tokens. Required.
	Issuer *jwt.Issuer `json:"-" yaml:"-"`
	// Verifier verifies access tokens; its keys (which must include the
	// Issuer's) verify refresh tokens, and its Store holds the families
	// and the denylist. Required, with a Store.
	Verifier *jwt.Verifier `json:"-" yaml:"-"`
	// RefreshTTL is the lifetime of one refresh token. Default 14 days.
	RefreshTTL time.Duration `json:"refresh_ttl" yaml:"refresh_ttl"`
	// SessionLifetime is the absolute lifetime of a session from login;
	// neither refresh nor sliding extends it. Default 30 days.
	SessionLifetime time.Duration `json:"session_lifetime" yaml:"session_lifetime"`
	// RefreshAudience is the aud of refresh tokens; it must be no access
	// audience of the Verifier or the Issuer. Default: the Issuer's iss +
	// "#refresh" ("urn:bulwark:refresh" when it has none).
	RefreshAudience string `json:"refresh_audience" yaml:"refresh_audience"`
	// Now is the clock. Default: the Verifier's.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Refresher issues access + refresh token pairs at login, rotates them,
// and logs out. It is safe for concurrent use; replicas whose Verifiers
// share a Store share its families and revocations.
type Refresher struct {
	access     *jwt.Issuer // signs access tokens
	refresh    *jwt.Issuer // signs refresh tokens
	verify     func(ctx context.Context, token string, now time.Time) (lifecycle.Refresh, *problem.Problem)
	deny       lifecycle.Denylist
	st         store.Store
	prefix     string
	refreshTTL time.Duration
	lifetime   time.Duration
	refreshAud string
	now        func() time.Time
}

// New validates opts and returns a Refresher.
func New(opts Options) (*Refresher, error) {
	if opts.Issuer == nil || opts.Verifier == nil {
		return nil, errors.New("refresh: Options.Issuer and Options.Verifier are required")
	}
	aud := opts.RefreshAudience
	if aud == "" {
		aud = "urn:bulwark:refresh"
		if iss := opts.Issuer.IssuerName(); iss != "" {
			aud = iss + "#refresh"
		}
	}
	b, err := hooks.Backend(opts.Verifier, opts.Issuer, aud)
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	r := &Refresher{
		access:     opts.Issuer,
		refresh:    b.RefreshIssuer,
		verify:     b.VerifyRefresh,
		deny:       b.Denylist,
		st:         b.Denylist.Store(),
		prefix:     b.Denylist.KeyPrefix(),
		refreshTTL: opts.RefreshTTL,
		lifetime:   opts.SessionLifetime,
		refreshAud: aud,
		now:        opts.Now,
	}
	if r.refreshTTL == 0 {
		r.refreshTTL = DefaultRefreshTTL
	}
	if r.lifetime == 0 {
		r.lifetime = DefaultSessionLifetime
	}
	if r.refreshTTL < 0 || r.refreshTTL > lifecycle.MaxTTL || r.lifetime < 0 || r.lifetime > lifecycle.MaxTTL {
		return nil, fmt.Errorf("refresh: RefreshTTL and SessionLifetime must be in (0, %v]", lifecycle.MaxTTL)
	}
	if r.now == nil {
		r.now = b.Now
	}
	return r, nil
}

// RefreshAudience returns the aud of the refresh tokens r issues.
func (r *Refresher) RefreshAudience() string { return r.refreshAud }

// TokenPair is what login and refresh return, shaped as an OAuth 2.0 token
// response (RFC 6749 §5.1).
type TokenPair struct {
	AccessToken  string `json:"access_token"`  // the access token (typ at+jwt)
	RefreshToken string `json:"refresh_token"` // the refresh token (typ refresh+jwt), usable once
	TokenType    string `json:"token_type"`    // "Bearer"
	ExpiresIn    int64  `json:"expires_in"`    // access token lifetime, seconds

	AccessExpiresAt  time.Time `json:"-"` // the access token's exp
	RefreshExpiresAt time.Time `json:"-"` // the refresh token's exp
	SessionID        string    `json:"-"` // the family (sid)
}

// family is stored under the live refresh token's key: what the next
// access token says.
type family struct {
	Sub      string         `json:"sub"`
	Roles    []string       `json:"roles,omitempty"`
	Scopes   []string       `json:"scopes,omitempty"`
	Aud      []string       `json:"aud,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
	AuthTime int64          `json:"auth_time"`
	End      int64          `json:"end"`
}

// liveKey holds the one refresh token of a family that may still be used.
// The braces keep a family's keys in one Redis Cluster slot.
func (r *Refresher) liveKey(sid, jti string) string {
	return r.prefix + "rt:{" + sid + "}:" + jti
}

// Login starts a session for c (after the application has checked the
// user's credentials) and returns its first token pair. c.Subject is
// required; c.ID, c.SessionID, c.TTL and c.ExpiresAt are chosen here.
func (r *Refresher) Login(ctx context.Context, c jwt.Claims) (*TokenPair, error) {
	if c.Subject == "" {
		return nil, errors.New("refresh: Claims.Subject is required")
	}
	now := r.now()
	f := family{Sub: c.Subject, Roles: c.Roles, Scopes: c.Scopes, Aud: c.Audience, Extra: c.Extra, AuthTime: now.Unix(), End: now.Add(r.lifetime).Unix()}
	return r.issuePair(ctx, lifecycle.NewID(), f, now)
}

func (r *Refresher) issuePair(ctx context.Context, sid string, f family, now time.Time) (*TokenPair, error) {
	end := time.Unix(f.End, 0)
	if !end.After(now) {
		return nil, lifecycle.InvalidToken("token_expired", "the session has ended; log in again", jwt.ErrExpired)
	}
	authTime := time.Unix(f.AuthTime, 0)
	at, err := r.access.IssueToken(jwt.Claims{
		Subject: f.Sub, Roles: f.Roles, Scopes: f.Scopes, Audience: f.Aud, Extra: f.Extra,
		SessionID: sid, AuthTime: authTime, ExpiresAt: end,
	})
	if err != nil {
		return nil, err
	}
	rt, err := r.refresh.IssueToken(jwt.Claims{Subject: f.Sub, Audience: []string{r.refreshAud}, SessionID: sid, TTL: r.refreshTTL, ExpiresAt: end})
	if err != nil {
		return nil, err
	}
	val, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("refresh: encoding the session: %w", err)
	}
	if err := r.st.Set(ctx, r.liveKey(sid, rt.ID), val, r.deny.TTL(rt.ExpiresAt, now)); err != nil {
		return nil, lifecycle.StoreUnavailable(err)
	}
	return &TokenPair{
		AccessToken: at.Raw, RefreshToken: rt.Raw, TokenType: "Bearer",
		ExpiresIn:       at.ExpiresAt.Unix() - now.Unix(),
		AccessExpiresAt: at.ExpiresAt, RefreshExpiresAt: rt.ExpiresAt, SessionID: sid,
	}, nil
}

// Refresh exchanges a refresh token for a new pair, once (see Rotation in
// the package documentation). Errors are problems: 401 token_invalid /
// token_expired (bad or expired token), token_wrong_type (an access token
// presented as a refresh token), token_revoked (the session was logged
// out or revoked), refresh_reused (the token was already used: the whole
// family is now revoked); 503 when the store cannot answer.
func (r *Refresher) Refresh(ctx context.Context, refreshToken string) (*TokenPair, error) {
	now := r.now()
	rt, prob := r.verify(ctx, refreshToken, now)
	if prob != nil {
		return nil, prob
	}
	revoked, err := r.deny.SessionRevoked(ctx, rt.SessionID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, lifecycle.InvalidToken("token_revoked", "the session has been revoked; log in again", jwt.ErrRevoked)
	}
	oldKey := r.liveKey(rt.SessionID, rt.TokenID)
	val, found, err := r.st.Take(ctx, oldKey)
	if err != nil {
		return nil, lifecycle.StoreUnavailable(err)
	}
	if !found {
		// Already used (or its family is gone): a copy of a rotated token.
		// Revoke the family so that whoever holds the live one loses it too.
		if err := r.deny.RevokeSession(ctx, rt.SessionID, now.Add(r.lifetime), now); err != nil {
			return nil, err
		}
		return nil, lifecycle.InvalidToken("refresh_reused", "the refresh token was already used; the session has been revoked", ErrReused)
	}
	var f family
	if err := json.Unmarshal(val, &f); err != nil || f.Sub != rt.Subject {
		return nil, lifecycle.InvalidToken("token_invalid", "the refresh token is invalid", jose.Wrap(jwt.ErrClaims, "session record does not match"))
	}
	pair, err := r.issuePair(ctx, rt.SessionID, f, now)
	if err != nil {
		// The old token is taken but its successor was not stored (the
		// store failed, or the request was cancelled): put the old one
		// back, so that the client's retry is a retry and not a reuse that
		// revokes the family. SetNX: nothing else can have written this
		// key, and if something did, it wins. Only one caller took the
		// token, so at most one caller ever restores it.
		if _, rerr := r.st.SetNX(context.WithoutCancel(ctx), oldKey, val, r.deny.TTL(rt.ExpiresAt, now)); rerr != nil {
			if p, ok := problem.As(err); ok {
				p.Err = errors.Join(p.Err, fmt.Errorf("refresh: restoring the refresh token after a failed rotation: %w", rerr))
			}
		}
		return nil, err
	}
	return pair, nil
}

// Logout revokes the caller's access token (until its exp) and its session
// (every token carrying its sid), and, when refreshToken is given and
// belongs to the same subject, that token's family. An expired or invalid
// refreshToken is ignored: logging out must not fail for it. access may be
// nil when only a refresh token is presented.
func (r *Refresher) Logout(ctx context.Context, access *authn.Principal, refreshToken string) error {
	now := r.now()
	if access != nil {
		if access.TokenID != "" {
			if err := r.deny.RevokeToken(ctx, access, now); err != nil {
				return err
			}
		}
		if sid, ok := authn.Claim[string](access, "sid"); ok && sid != "" {
			if err := r.deny.RevokeSession(ctx, sid, now.Add(r.lifetime), now); err != nil {
				return err
			}
		}
	}
	if refreshToken == "" {
		return nil
	}
	rt, prob := r.verify(ctx, refreshToken, now)
	if prob != nil || (access != nil && rt.Subject != access.Subject) {
		return nil
	}
	if err := r.deny.RevokeSession(ctx, rt.SessionID, now.Add(r.lifetime), now); err != nil {
		return err
	}
	if err := r.st.Delete(ctx, r.liveKey(rt.SessionID, rt.TokenID)); err != nil {
		return lifecycle.StoreUnavailable(err)
	}
	return nil
}
