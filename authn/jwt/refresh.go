package jwt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Defaults for refresh tokens.
const (
	// DefaultRefreshTTL is the default lifetime of one refresh token.
	DefaultRefreshTTL = 14 * 24 * time.Hour
	// DefaultSessionLifetime is the default absolute lifetime of a session
	// (a refresh-token family) from login: no refresh extends it.
	DefaultSessionLifetime = 30 * 24 * time.Hour
)

// RefreshOptions configure a Refresher.
type RefreshOptions struct {
	// Issuer signs access and refresh tokens. Required.
	Issuer *Issuer `json:"-" yaml:"-"`
	// Verifier verifies access tokens. Its keys (which must include the
	// Issuer's) verify refresh tokens, and its Store holds the refresh
	// families and the revocation denylist. Required, with a Store.
	Verifier *Verifier `json:"-" yaml:"-"`
	// RefreshTTL is the lifetime of one refresh token. Default 14 days.
	RefreshTTL time.Duration `json:"refresh_ttl" yaml:"refresh_ttl"`
	// SessionLifetime is the absolute lifetime of a session from login;
	// neither refresh nor sliding refresh extends it. Default 30 days.
	SessionLifetime time.Duration `json:"session_lifetime" yaml:"session_lifetime"`
	// RefreshAudience is the aud of refresh tokens, which Refresh requires
	// and no access-token verifier may accept (RFC 8725 §3.11-3.12): a
	// refresh token is signed with the published key and lives for days,
	// so a service that verifies this issuer's tokens with an audience
	// check but no typ check must still refuse it. Default: the Issuer's
	// iss + "#refresh" ("urn:bulwark:refresh" when it has none). It must
	// not be one of the Verifier's or the Issuer's access audiences.
	RefreshAudience string `json:"refresh_audience" yaml:"refresh_audience"`
	// Now is the clock. Default: the Verifier's.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Refresher issues access + refresh token pairs and rotates them.
//
// Every refresh token works once: Refresh takes it from the store
// atomically (store.KV.Take) and hands out a new pair. Presenting a refresh
// token that was already used means it was copied — by an attacker or by
// the client it was stolen from — so the whole family (the session started
// at login) is revoked: its refresh token and every access token carrying
// its sid stop working at once, on every replica sharing the store.
//
// Refresh tokens are JWTs with typ "refresh+jwt", token_use "refresh" and
// an aud of their own (RefreshOptions.RefreshAudience); a Verifier never
// accepts them as access tokens (the typ and token_use are refused even
// without Options.Type, and their aud matches no access audience, which
// also stops other services that check aud but not typ), and Refresh
// never accepts an access token.
type Refresher struct {
	iss        *Issuer
	access     *Verifier
	refresh    *Verifier
	st         store.Store
	rev        *revocations
	prefix     string
	refreshTTL time.Duration
	lifetime   time.Duration
	refreshAud string
	now        func() time.Time
}

// NewRefresher validates opts and returns a Refresher.
func NewRefresher(opts RefreshOptions) (*Refresher, error) {
	if opts.Issuer == nil || opts.Verifier == nil {
		return nil, errors.New("jwt: RefreshOptions.Issuer and RefreshOptions.Verifier are required")
	}
	if opts.Verifier.rev == nil {
		return nil, errors.New("jwt: the Verifier needs a Store (memstore or redisstore): refresh families and revocations live there")
	}
	if !opts.Verifier.allowed[opts.Issuer.key.alg.name] {
		return nil, fmt.Errorf("jwt: the Verifier does not allow %s, the Issuer's algorithm", opts.Issuer.key.alg.name)
	}
	if ks, _ := opts.Verifier.keys.Lookup(context.Background(), opts.Issuer.key.id, opts.Issuer.key.alg.name); !hasKey(ks, opts.Issuer.key) {
		return nil, errors.New("jwt: the Verifier's keys do not include the Issuer's key; add it (its public half for asymmetric keys)")
	}
	if len(opts.Verifier.issuers) > 0 && !containsStr(opts.Verifier.issuers, opts.Issuer.iss) {
		return nil, errors.New("jwt: the Verifier does not accept the Issuer's iss; add it to Options.Issuers")
	}
	aud := opts.RefreshAudience
	if aud == "" {
		aud = "urn:bulwark:refresh"
		if opts.Issuer.iss != "" {
			aud = opts.Issuer.iss + "#refresh"
		}
	}
	if containsStr(opts.Verifier.audience, aud) || containsStr(opts.Issuer.audience, aud) {
		return nil, fmt.Errorf("jwt: RefreshAudience %s is an access-token audience; refresh tokens need an audience no access-token verifier accepts", quoteForError(aud))
	}
	r := &Refresher{
		iss:        opts.Issuer,
		access:     opts.Verifier,
		refresh:    opts.Verifier.forRefresh(aud),
		refreshAud: aud,
		st:         opts.Verifier.rev.st,
		rev:        opts.Verifier.rev,
		prefix:     opts.Verifier.rev.prefix,
		refreshTTL: opts.RefreshTTL,
		lifetime:   opts.SessionLifetime,
		now:        opts.Now,
	}
	if r.refreshTTL == 0 {
		r.refreshTTL = DefaultRefreshTTL
	}
	if r.lifetime == 0 {
		r.lifetime = DefaultSessionLifetime
	}
	if r.refreshTTL < 0 || r.refreshTTL > maxTTL || r.lifetime < 0 || r.lifetime > maxTTL {
		return nil, fmt.Errorf("jwt: RefreshTTL and SessionLifetime must be in (0, %v]", maxTTL)
	}
	if r.now == nil {
		r.now = opts.Verifier.now
	}
	return r, nil
}

// RefreshAudience returns the aud of the refresh tokens r issues.
func (r *Refresher) RefreshAudience() string { return r.refreshAud }

func hasKey(ks []*Key, k *Key) bool {
	for _, c := range ks {
		if sameKey(c, k) {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

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
func (r *Refresher) Login(ctx context.Context, c Claims) (*TokenPair, error) {
	if c.Subject == "" {
		return nil, errors.New("jwt: Claims.Subject is required")
	}
	now := r.now()
	f := family{Sub: c.Subject, Roles: c.Roles, Scopes: c.Scopes, Aud: c.Audience, Extra: c.Extra, AuthTime: now.Unix(), End: now.Add(r.lifetime).Unix()}
	return r.issuePair(ctx, RandomID(), f, now)
}

func (r *Refresher) issuePair(ctx context.Context, sid string, f family, now time.Time) (*TokenPair, error) {
	end := time.Unix(f.End, 0)
	if !end.After(now) {
		return nil, invalidToken("token_expired", "the session has ended; log in again", ErrExpired)
	}
	authTime := time.Unix(f.AuthTime, 0)
	at, err := r.iss.sign(Claims{
		Subject: f.Sub, Roles: f.Roles, Scopes: f.Scopes, Audience: f.Aud, Extra: f.Extra,
		SessionID: sid, AuthTime: authTime, ExpiresAt: end,
	}, r.iss.typ, "access")
	if err != nil {
		return nil, err
	}
	rt, err := r.iss.sign(Claims{Subject: f.Sub, Audience: []string{r.refreshAud}, SessionID: sid, TTL: r.refreshTTL, ExpiresAt: end}, TypeRefresh, "refresh")
	if err != nil {
		return nil, err
	}
	val, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("jwt: encoding the session: %w", err)
	}
	if err := r.st.Set(ctx, r.liveKey(sid, rt.ID), val, r.rev.ttl(rt.ExpiresAt, now)); err != nil {
		return nil, storeProblem(err)
	}
	return &TokenPair{
		AccessToken: at.Raw, RefreshToken: rt.Raw, TokenType: "Bearer",
		ExpiresIn:       at.ExpiresAt.Unix() - now.Unix(),
		AccessExpiresAt: at.ExpiresAt, RefreshExpiresAt: rt.ExpiresAt, SessionID: sid,
	}, nil
}

func storeProblem(err error) *problem.Problem {
	return problem.Unavailable(time.Second, "the token service is temporarily unavailable").WithReason("store_unavailable").WithErr(err)
}

// Refresh exchanges a refresh token for a new pair. Errors are problems:
// 401 token_invalid / token_expired (bad or expired token, or an access
// token presented as a refresh token), token_revoked (the session was
// logged out or revoked), refresh_reused (the token was already used: the
// whole family is now revoked); 503 when the store cannot answer.
//
// Rotation takes the old token (store.KV.Take: of concurrent uses, at most
// one succeeds) and then stores its successor. When storing the successor
// fails, the old token is put back, so the client's retry after the 503
// succeeds instead of counting as a reuse. One failure remains
// unrecoverable: a Take the store executed but whose answer was lost
// (a timeout after the fact), or a store that fails the restore as well;
// the token is then gone, and its next use revokes the family.
func (r *Refresher) Refresh(ctx context.Context, refreshToken string) (*TokenPair, error) {
	now := r.now()
	vt, prob := r.refresh.verify(ctx, refreshToken, now)
	if prob != nil {
		if errors.Is(prob, errTyp) {
			prob.Detail = "an access token cannot be used as a refresh token"
			prob.Reason = "token_wrong_type"
		}
		return nil, prob
	}
	revoked, err := r.rev.revoked(ctx, "", r.rev.sidKey(vt.sid))
	if err != nil {
		return nil, storeProblem(err)
	}
	if revoked {
		return nil, invalidToken("token_revoked", "the session has been revoked; log in again", ErrRevoked)
	}
	oldKey := r.liveKey(vt.sid, vt.jti)
	val, found, err := r.st.Take(ctx, oldKey)
	if err != nil {
		return nil, storeProblem(err)
	}
	if !found {
		// Already used (or its family is gone): a copy of a rotated token.
		// Revoke the family so that whoever holds the live one loses it too.
		if err := r.rev.revokeSession(ctx, vt.sid, now.Add(r.lifetime), now); err != nil {
			return nil, storeProblem(err)
		}
		return nil, invalidToken("refresh_reused", "the refresh token was already used; the session has been revoked", ErrRefreshReused)
	}
	var f family
	if err := json.Unmarshal(val, &f); err != nil || f.Sub != vt.sub {
		return nil, invalidToken("token_invalid", "the refresh token is invalid", wrapErr(ErrClaims, "session record does not match"))
	}
	pair, err := r.issuePair(ctx, vt.sid, f, now)
	if err != nil {
		// The old token is taken but its successor was not stored (the
		// store failed, or the request was cancelled): put the old one
		// back, so that the client's retry is a retry and not a reuse that
		// revokes the family. SetNX: nothing else can have written this
		// key, and if something did, it wins. Only one caller took the
		// token, so at most one caller ever restores it.
		if _, rerr := r.st.SetNX(context.WithoutCancel(ctx), oldKey, val, r.rev.ttl(vt.exp, now)); rerr != nil {
			if p, ok := problem.As(err); ok {
				p.Err = errors.Join(p.Err, fmt.Errorf("jwt: restoring the refresh token after a failed rotation: %w", rerr))
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
			until := access.ExpiresAt
			if until.IsZero() {
				until = now.Add(maxTTL) // a token without exp: keep it denied a long time
			}
			if err := r.rev.revokeToken(ctx, access.TokenID, until, now); err != nil {
				return storeProblem(err)
			}
		}
		if sid, ok := authn.Claim[string](access, "sid"); ok && sid != "" {
			if err := r.rev.revokeSession(ctx, sid, now.Add(r.lifetime), now); err != nil {
				return storeProblem(err)
			}
		}
	}
	if refreshToken == "" {
		return nil
	}
	vt, prob := r.refresh.verify(ctx, refreshToken, now)
	if prob != nil || (access != nil && vt.sub != access.Subject) {
		return nil
	}
	if err := r.rev.revokeSession(ctx, vt.sid, now.Add(r.lifetime), now); err != nil {
		return storeProblem(err)
	}
	if err := r.st.Delete(ctx, r.liveKey(vt.sid, vt.jti)); err != nil {
		return storeProblem(err)
	}
	return nil
}

// Revoke revokes the access token p was authenticated with, until its exp,
// on every replica sharing the Verifier's Store.
func (v *Verifier) Revoke(ctx context.Context, p *authn.Principal) error {
	if v.rev == nil {
		return errors.New("jwt: revocation needs Options.Store")
	}
	if p == nil || p.TokenID == "" {
		return errors.New("jwt: the token has no jti and cannot be revoked individually")
	}
	now := v.now()
	until := p.ExpiresAt
	if until.IsZero() {
		until = now.Add(maxTTL) // a token without exp: keep it denied a long time
	}
	if err := v.rev.revokeToken(ctx, p.TokenID, until, now); err != nil {
		return storeProblem(err)
	}
	return nil
}

// RevokeSession revokes every token carrying sid (its refresh family and
// the access tokens issued with it) until until.
func (v *Verifier) RevokeSession(ctx context.Context, sid string, until time.Time) error {
	if v.rev == nil {
		return errors.New("jwt: revocation needs Options.Store")
	}
	if err := v.rev.revokeSession(ctx, sid, until, v.now()); err != nil {
		return storeProblem(err)
	}
	return nil
}

// HandlerOptions configure the ready-made refresh and logout handlers.
type HandlerOptions struct {
	// Audit receives one event per denial. Default: none.
	Audit audit.Sink
	// ErrorHandler writes denials. Default problem.Write.
	ErrorHandler problem.Handler
	// Realm names the protection space in the WWW-Authenticate challenge
	// of 401 answers. Default "api", the default of authn.Guard; when the
	// guard in front of the API has another realm, pass it (guard.Realm()).
	Realm string
}

func (o HandlerOptions) realm() string {
	if o.Realm == "" {
		return "api"
	}
	return o.Realm
}

// maxBody caps the refresh and logout bodies (a token or two).
const maxBody = 16 << 10

// refreshRequest is the body of a refresh.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required"`
}

// logoutRequest is the optional body of a logout.
type logoutRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// RefreshHandler returns a handler for POST /refresh: a JSON body
// {"refresh_token": "..."} → 200 and a new TokenPair (Cache-Control:
// no-store). The body is decoded as package bind does: a Content-Type
// other than JSON → 415; malformed JSON → 400 with the offset, line and
// column; an unknown field, data after the object, or a body over 16 KiB
// → 400 or 413; a missing or empty refresh_token → 422. A bad, expired,
// revoked or reused token → 401 with `WWW-Authenticate: Bearer
// realm="...", error="invalid_token", error_description="..."` (a reused
// one revokes its family); a store outage → 503. Every denial is audited
// once.
func (r *Refresher) RefreshHandler(opts HandlerOptions) http.Handler {
	deny := problem.Denier{Guard: "jwt", Audit: opts.Audit, Handler: opts.ErrorHandler}
	realm := opts.realm()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		}
		var body refreshRequest
		if prob := bind.JSON(w, req, &body); prob != nil {
			deny.Deny(w, req, prob)
			return
		}
		pair, err := r.Refresh(req.Context(), body.RefreshToken)
		if err != nil {
			deny.Deny(w, req, challenge(asProblem(err), realm))
			return
		}
		WriteTokenPair(w, pair)
	})
}

// LogoutHandler returns a handler for POST /logout behind a Guard that
// requires the access token: it revokes the access token, its session and
// the refresh token in the optional JSON body {"refresh_token": "..."},
// then answers 204. An empty body is fine; a body that is present is
// decoded as RefreshHandler's (415, 400, 413). Without a principal (no
// guard in front) it answers 401 with `WWW-Authenticate: Bearer
// realm="..."`; a store outage → 503.
func (r *Refresher) LogoutHandler(opts HandlerOptions) http.Handler {
	deny := problem.Denier{Guard: "jwt", Audit: opts.Audit, Handler: opts.ErrorHandler}
	plain := problem.Challenge("Bearer", opts.realm())
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, ok := authn.FromContext(req.Context())
		if !ok {
			deny.Deny(w, req, problem.Unauthorized(problem.TypeUnauthorized, plain, "authentication is required").WithReason("token_missing"))
			return
		}
		var body logoutRequest
		if prob := optionalJSON(w, req, &body); prob != nil {
			deny.Deny(w, req, prob)
			return
		}
		if err := r.Logout(req.Context(), p, body.RefreshToken); err != nil {
			deny.Deny(w, req, asProblem(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// challenge adds the RFC 6750 invalid_token challenge to a 401 that has
// none.
func challenge(p *problem.Problem, realm string) *problem.Problem {
	if p.Status == http.StatusUnauthorized && p.Header("WWW-Authenticate") == "" {
		p.WithHeader("WWW-Authenticate", problem.Challenge("Bearer", realm, "error", "invalid_token", "error_description", p.Detail))
	}
	return p
}

// optionalJSON decodes req's body into dst with bind.JSON, capped at
// maxBody, unless the body is empty (no body, Content-Length: 0, or a
// chunked body with no bytes).
func optionalJSON(w http.ResponseWriter, req *http.Request, dst any) *problem.Problem {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return nil
	}
	capped := http.MaxBytesReader(w, req.Body, maxBody)
	br := bufio.NewReader(capped)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	req.Body = http.MaxBytesReader(w, readCloser{br, capped}, maxBody)
	return bind.JSON(w, req, dst)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// WriteTokenPair writes pair as a 200 JSON token response with
// Cache-Control: no-store (RFC 6749 §5.1).
func WriteTokenPair(w http.ResponseWriter, pair *TokenPair) {
	body, _ := json.Marshal(pair)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

func asProblem(err error) *problem.Problem {
	if p, ok := problem.As(err); ok {
		return p
	}
	if errors.Is(err, store.ErrUnavailable) {
		return storeProblem(err)
	}
	return problem.New(http.StatusInternalServerError, problem.TypeInternal, "the request could not be completed").WithReason("internal").WithErr(err)
}
