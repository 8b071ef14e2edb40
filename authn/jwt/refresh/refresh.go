package refresh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	// DefaultRetryGrace is how long a rotated refresh token may be
	// presented again as a retry (see "Retries" in the package doc).
	DefaultRetryGrace = 10 * time.Second
	// DefaultConcurrentWindow is how close together two presentations of
	// one refresh token count as concurrent copies rather than a retry,
	// for a Store that does not say its command timeout.
	DefaultConcurrentWindow = 250 * time.Millisecond
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
	// Store holds the refresh families: a record per session, and one per
	// rotation for RetryGrace. Default: the Verifier's Store, beside the
	// denylist. Give it a store of its own where anyone who can log in may
	// start sessions (a memstore with NoEvict): a flood of logins can then
	// fill it — logins answer 503 — but never the store revocations live
	// in, so logout keeps working.
	Store store.Store `json:"-" yaml:"-"`
	// RetryGrace is how long after a rotation the same refresh token is
	// still accepted as a retry of it, getting the same successor (see
	// "Retries" in the package doc). It must exceed the Store's command
	// timeout. Default 10s (DefaultRetryGrace), or twice the timeout if
	// that is longer; a negative value turns retries off: every second
	// presentation is a reuse.
	RetryGrace time.Duration `json:"retry_grace" yaml:"retry_grace"`
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
	grace      time.Duration // 0: retries off
	concurrent time.Duration // presentations closer than this are copies, not retries
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
		grace:      opts.RetryGrace,
		refreshAud: aud,
		now:        opts.Now,
	}
	if opts.Store != nil {
		r.st = opts.Store
	}
	switch {
	case r.grace == 0:
		r.grace = DefaultRetryGrace
	case r.grace < 0:
		r.grace = 0
	case r.grace > time.Hour:
		return nil, errors.New("refresh: RetryGrace above an hour gives a stolen refresh token too long a race with its owner; keep it to seconds")
	}
	// Two presentations closer together than the store's command timeout
	// cannot be a retry after a lost answer: the first would still be
	// waiting for it.
	r.concurrent = DefaultConcurrentWindow
	if t, ok := r.st.(interface{ Timeout() time.Duration }); ok && t.Timeout() > 0 {
		r.concurrent = t.Timeout()
	}
	if opts.RetryGrace == 0 {
		r.grace = max(r.grace, 2*r.concurrent) // a slow store's retry comes later
	}
	if r.grace > 0 && r.grace <= r.concurrent {
		return nil, fmt.Errorf("refresh: RetryGrace %v leaves no time for a retry: presentations within %v of each other (the store's command timeout) are copies; make it at least a few seconds, or negative for strict single use", r.grace, r.concurrent)
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

// usedKey holds a rotated refresh token's family record for RetryGrace.
func (r *Refresher) usedKey(sid, jti string) string {
	return r.prefix + "rt:{" + sid + "}:used:" + jti
}

// successorID is the jti of the refresh token that replaces jti: derived,
// not drawn, so that a retry of a rotation gets the same successor rather
// than a second live token in the family.
func successorID(jti string) string {
	sum := sha256.Sum256([]byte("bulwark refresh successor\x00" + jti))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
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
	return r.issuePair(ctx, lifecycle.NewID(), lifecycle.NewID(), f, now)
}

// issuePair signs an access token and a refresh token whose jti is rtID,
// and stores the family record under the refresh token's live key (unless
// it is there already: a retry's successor).
func (r *Refresher) issuePair(ctx context.Context, sid, rtID string, f family, now time.Time) (*TokenPair, error) {
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
	rt, err := r.refresh.IssueToken(jwt.Claims{ID: rtID, Subject: f.Sub, Audience: []string{r.refreshAud}, SessionID: sid, TTL: r.refreshTTL, ExpiresAt: end})
	if err != nil {
		return nil, err
	}
	val, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("refresh: encoding the session: %w", err)
	}
	if _, err := r.st.SetNX(ctx, r.liveKey(sid, rt.ID), val, r.deny.TTL(rt.ExpiresAt, now)); err != nil {
		return nil, lifecycle.StoreUnavailable(err)
	}
	return &TokenPair{
		AccessToken: at.Raw, RefreshToken: rt.Raw, TokenType: "Bearer",
		ExpiresIn:       at.ExpiresAt.Unix() - now.Unix(),
		AccessExpiresAt: at.ExpiresAt, RefreshExpiresAt: rt.ExpiresAt, SessionID: sid,
	}, nil
}

// Refresh exchanges a refresh token for a new pair, once (see Rotation in
// the package documentation), or, within RetryGrace, again for a retry.
// Errors are problems: 401 token_invalid / token_expired (bad or expired
// token), token_wrong_type (an access token presented as a refresh
// token), token_revoked (the session was logged out or revoked),
// token_state_reset (issued before the store lost its state: log in
// again), refresh_reused (the token was already used: the whole family is
// now revoked); 503 when the store cannot answer.
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
	if r.predates(rt.IssuedAt, false) {
		return nil, lifecycle.InvalidToken("token_state_reset", "session state was reset; log in again", jwt.ErrStateReset)
	}
	oldKey := r.liveKey(rt.SessionID, rt.TokenID)
	val, use, seen, err := r.take(ctx, rt, oldKey)
	if err != nil {
		return nil, lifecycle.StoreUnavailable(err)
	}
	if use == store.RepeatUse {
		// A retry: the successor is handed out again unless it has been
		// rotated in turn (the client has moved on; this is a copy).
		_, moved, err := r.st.Get(ctx, r.usedKey(rt.SessionID, successorID(rt.TokenID)))
		if err != nil {
			return nil, lifecycle.StoreUnavailable(err)
		}
		if moved {
			use = store.NotFound
		}
	}
	if use == store.NotFound {
		// Its record is gone without a trace (no record of a use either).
		// If the state was lost after the token was issued — or in the
		// same second, which iat cannot tell apart — that is why (the
		// store may have noticed just now). The family is revoked all the
		// same: if it was a reuse after all, the thief loses it too.
		if !seen && r.predates(rt.IssuedAt, true) {
			if err := r.deny.RevokeSession(ctx, rt.SessionID, now.Add(r.lifetime), now); err != nil {
				return nil, err
			}
			return nil, lifecycle.InvalidToken("token_state_reset", "session state was reset; log in again", jwt.ErrStateReset)
		}
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
	pair, err := r.issuePair(ctx, rt.SessionID, successorID(rt.TokenID), f, now)
	if err == nil && r.grace > 0 {
		// The rotation is answered: the old token is spent, and a later
		// presentation is a reuse, not a retry. Best effort: if this write
		// fails (the store is failing), a copy within the grace gets the
		// successor, as a retry would.
		_ = r.st.Set(context.WithoutCancel(ctx), r.usedKey(rt.SessionID, rt.TokenID), store.JoinNote(answered, nil), r.grace)
	}
	if err != nil && use == store.FirstUse {
		// The old token is taken but its successor was not stored (the
		// store failed, or the request was cancelled): put the old one
		// back, so that the client's retry is a retry and not a reuse that
		// revokes the family. SetNX: nothing else can have written this
		// key, and if something did, it wins. Only one caller took the
		// token, so at most one caller ever restores it. (Within
		// RetryGrace the retry would be honoured anyway; this keeps it
		// working after the grace.)
		if _, rerr := r.st.SetNX(context.WithoutCancel(ctx), oldKey, val, r.deny.TTL(rt.ExpiresAt, now)); rerr != nil {
			if p, ok := problem.As(err); ok {
				p.Err = errors.Join(p.Err, fmt.Errorf("refresh: restoring the refresh token after a failed rotation: %w", rerr))
			}
		}
	}
	return pair, err
}

// answered is the note of a rotation that was answered with a new pair.
var answered = []byte("answered")

// take consumes the refresh token's live record: FirstUse for the first
// presentation; RepeatUse for a retry within RetryGrace of a rotation that
// was never answered; NotFound for a copy — a presentation after the
// grace, after the rotation was answered, or one that started within the
// concurrent window of the first's take (the first was still waiting for
// its answer, so this one cannot be its retry). seen reports whether the
// store held any record of the token, live or used.
func (r *Refresher) take(ctx context.Context, rt lifecycle.Refresh, key string) (val []byte, use store.Use, seen bool, err error) {
	if r.grace == 0 {
		val, found, err := r.st.Take(ctx, key)
		if !found {
			return nil, store.NotFound, false, err
		}
		return val, store.FirstUse, true, err
	}
	now := r.now().UnixMilli() // at the take, not at the request's start
	note := strconv.AppendInt(nil, now, 10)
	val, first, use, err := r.st.Consume(ctx, key, r.usedKey(rt.SessionID, rt.TokenID), note, r.grace)
	if err != nil || use != store.RepeatUse {
		return val, use, use != store.NotFound, err
	}
	if bytes.Equal(first, answered) {
		return nil, store.NotFound, true, nil
	}
	started, perr := strconv.ParseInt(string(first), 10, 64)
	if perr != nil || now-started < r.concurrent.Milliseconds() {
		return nil, store.NotFound, true, nil
	}
	return val, use, true, nil
}

// predates reports whether a token issued at iat predates the current
// state of the denylist's store or the families' store (see
// lifecycle.Predates).
func (r *Refresher) predates(iat time.Time, orSame bool) bool {
	if r.deny.Predates(iat, orSame) {
		return true
	}
	st, _ := r.st.(store.StateTracker)
	return lifecycle.Predates(iat, st, orSame)
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
