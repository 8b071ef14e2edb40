package jwt

import (
	"context"
	"errors"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// revocations is the denylist of revoked tokens (by jti) and sessions (by
// sid, the refresh-token family), kept in a store.Store shared by every
// replica. An entry lives until the last token it covers has expired, so
// the list never grows beyond the tokens still alive. Its keys are
// KeyPrefix + "revoked:jti:" + jti and KeyPrefix + "revoked:sid:" + sid.
//
// Every verification, cached or not, asks the store (checkRevoked):
// revocation takes effect on every replica at the next request. A token
// with both a jti and a sid is checked in one round trip when the store
// implements store.AnyExister (redisstore: two pipelined EXISTS);
// otherwise (memstore, in-process) with two lookups, the jti first and
// the sid only when the jti is not revoked.
//
// Its exported methods are the lifecycle.Denylist package refresh uses.
//
// A store that can lose its whole state while this process runs (Redis
// restarted empty: store.StateTracker) would bring every revoked token
// back; so a revocable token (one with a jti or a sid) issued before the
// store's current state began is refused as token_state_reset ("log in
// again") until it expires. Tokens are placed by iat, to the second; a
// token without iat cannot be placed and is not refused for it.
type revocations struct {
	st     store.Store
	multi  store.AnyExister   // st, when it can test both keys at once
	state  store.StateTracker // st, when its state can be lost while we run
	prefix string
	leeway time.Duration
}

// ErrStateReset is the Err of the problem answering a revocable token
// issued before the revocation store's state was lost (reason
// token_state_reset), for errors.Is.
var ErrStateReset = errors.New("jwt: token issued before the revocation state was reset")

// Predates implements lifecycle.Denylist.
func (rv *revocations) Predates(iat time.Time, orSame bool) bool {
	return lifecycle.Predates(iat, rv.state, orSame)
}

// stateReset is the answer to a token that Predates the store's state.
func stateReset() *problem.Problem {
	return lifecycle.InvalidToken("token_state_reset", "session state was reset; log in again", ErrStateReset)
}

var _ lifecycle.Denylist = (*revocations)(nil)

var revokedValue = []byte{'1'}

func (rv *revocations) jtiKey(jti string) string {
	if jti == "" {
		return ""
	}
	return rv.prefix + "revoked:jti:" + jti
}

func (rv *revocations) sidKey(sid string) string {
	if sid == "" {
		return ""
	}
	return rv.prefix + "revoked:sid:" + sid
}

// revoked reports whether either key is on the denylist.
func (rv *revocations) revoked(ctx context.Context, jtiKey, sidKey string) (bool, error) {
	if rv.multi != nil && jtiKey != "" && sidKey != "" {
		return rv.multi.ExistsAny(ctx, jtiKey, sidKey)
	}
	if jtiKey != "" {
		_, found, err := rv.st.Get(ctx, jtiKey)
		if err != nil || found {
			return found, err
		}
	}
	if sidKey != "" {
		_, found, err := rv.st.Get(ctx, sidKey)
		return found, err
	}
	return false, nil
}

// checkRevoked is the revocation step of every verification: jtiKey and
// sidKey (either may be "") against the denylist, and the token's iat
// against the start of the denylist's state.
func (v *Verifier) checkRevoked(ctx context.Context, jtiKey, sidKey string, iat time.Time) *problem.Problem {
	if v.rev == nil || (jtiKey == "" && sidKey == "") {
		return nil
	}
	revoked, err := v.rev.revoked(ctx, jtiKey, sidKey)
	if err != nil {
		if v.failOpen {
			return nil
		}
		return problem.Unavailable(time.Second, "token revocation cannot be checked right now").
			WithReason("revocation_unavailable").WithErr(err)
	}
	if revoked {
		return lifecycle.InvalidToken("token_revoked", "the token has been revoked", ErrRevoked)
	}
	if v.rev.Predates(iat, false) {
		return stateReset()
	}
	return nil
}

var errNoStore = errors.New("jwt: revocation needs VerifierOptions.Store")

// Revoke revokes the access token p was authenticated with, until its exp,
// on every replica sharing the Verifier's Store.
func (v *Verifier) Revoke(ctx context.Context, p *authn.Principal) error {
	if v.rev == nil {
		return errNoStore
	}
	return v.rev.RevokeToken(ctx, p, v.now())
}

// RevokeSession revokes every token carrying sid (its refresh family and
// the access tokens issued with it) until until.
func (v *Verifier) RevokeSession(ctx context.Context, sid string, until time.Time) error {
	if v.rev == nil {
		return errNoStore
	}
	return v.rev.RevokeSession(ctx, sid, until, v.now())
}

// Store implements lifecycle.Denylist.
func (rv *revocations) Store() store.Store { return rv.st }

// KeyPrefix implements lifecycle.Denylist.
func (rv *revocations) KeyPrefix() string { return rv.prefix }

// TTL keeps an entry until until (+ leeway, since verification accepts a
// token that long past its exp), and at least a second.
func (rv *revocations) TTL(until, now time.Time) time.Duration {
	d := until.Sub(now) + rv.leeway + time.Second
	if d < time.Second {
		d = time.Second
	}
	return d
}

// RevokeToken denies p's token until its exp (MaxTTL from now when it has
// none).
func (rv *revocations) RevokeToken(ctx context.Context, p *authn.Principal, now time.Time) error {
	if p == nil || p.TokenID == "" {
		return errors.New("jwt: the token has no jti and cannot be revoked individually")
	}
	until := p.ExpiresAt
	if until.IsZero() {
		until = now.Add(lifecycle.MaxTTL) // a token without exp: keep it denied a long time
	}
	if err := rv.st.Set(ctx, rv.jtiKey(p.TokenID), revokedValue, rv.TTL(until, now)); err != nil {
		return lifecycle.StoreUnavailable(err)
	}
	return nil
}

// RevokeSession denies every token carrying sid until until.
func (rv *revocations) RevokeSession(ctx context.Context, sid string, until, now time.Time) error {
	err := errNoSession
	if sid != "" {
		err = rv.st.Set(ctx, rv.sidKey(sid), revokedValue, rv.TTL(until, now))
	}
	if err != nil {
		return lifecycle.StoreUnavailable(err)
	}
	return nil
}

var errNoSession = errors.New("jwt: no session to revoke")

// SessionRevoked reports whether sid is denied.
func (rv *revocations) SessionRevoked(ctx context.Context, sid string) (bool, error) {
	revoked, err := rv.revoked(ctx, "", rv.sidKey(sid))
	if err != nil {
		return false, lifecycle.StoreUnavailable(err)
	}
	return revoked, nil
}
