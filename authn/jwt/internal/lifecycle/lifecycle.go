// Package lifecycle is what package jwt and the token lifecycle (package
// refresh) share without making it public API: token and session IDs,
// the bound on lifetimes, the two problems both answer with, and the hooks
// through which refresh reaches what it needs of a Verifier and an Issuer
// (the denylist and its store, refresh-token signing and verification, the
// key that verified a token).
//
// Package jwt registers its hooks when it is initialised; package refresh
// imports jwt, so it finds them registered, and reads them once.
package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// MaxTTL bounds every lifetime: an access or a refresh token's, a
// session's, and a denylist entry's for a token without exp.
const MaxTTL = 366 * 24 * time.Hour

// NewID returns a random 128-bit identifier, base64url-encoded, for jti
// and session IDs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// InvalidToken is the 401 answer to a token that is refused: reason for
// the audit log, detail for the client, err (an Err* sentinel, possibly
// wrapped) for errors.Is.
func InvalidToken(reason, detail string, err error) *problem.Problem {
	return problem.New(http.StatusUnauthorized, problem.TypeInvalidToken, detail).WithReason(reason).WithErr(err)
}

// StoreUnavailable is the 503 answer when the store holding revocations
// and refresh families fails.
func StoreUnavailable(err error) *problem.Problem {
	return problem.Unavailable(time.Second, "the token service is temporarily unavailable").WithReason("store_unavailable").WithErr(err)
}

// Denylist is a Verifier's revocation denylist, and the store it lives in
// (where refresh families live too, under the same key prefix). Its
// methods answer store failures with StoreUnavailable.
type Denylist interface {
	// Store is the Verifier's Store; KeyPrefix prefixes every key in it.
	Store() store.Store
	KeyPrefix() string
	// TTL is how long an entry about a token valid until until must
	// live: past until, plus the verifier's leeway, at least a second.
	TTL(until, now time.Time) time.Duration
	// RevokeToken denies p's token (its jti) until its exp.
	RevokeToken(ctx context.Context, p *authn.Principal, now time.Time) error
	// RevokeSession denies every token carrying sid until until.
	RevokeSession(ctx context.Context, sid string, until, now time.Time) error
	// SessionRevoked reports whether sid is denied.
	SessionRevoked(ctx context.Context, sid string) (bool, error)
	// Predates reports whether a token issued at iat (zero: unknown)
	// predates the start of the Store's current state (see
	// store.StateTracker), as of the Store's last answer; with orSame,
	// when the state began after a loss, a token issued within the
	// second it began counts too (iat is whole seconds: it may be from
	// before or after).
	Predates(iat time.Time, orSame bool) bool
}

// Predates reports whether a token issued at iat predates the state of
// st (false when either is unknown); with orSame, when that state began
// after a loss, a token issued within its first second counts too.
func Predates(iat time.Time, st store.StateTracker, orSame bool) bool {
	if st == nil {
		return false
	}
	since := st.StateSince()
	if iat.IsZero() || since.IsZero() {
		return false
	}
	if orSame && st.Resets() > 0 {
		return iat.Unix() <= since.Unix()
	}
	return iat.Unix() < since.Unix()
}

// Refresh is what a verified refresh token says.
type Refresh struct {
	Subject   string
	SessionID string
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Backend is what a Refresher runs on, made from its Verifier and Issuer
// (I is *jwt.Issuer).
type Backend[I any] struct {
	// Denylist is the Verifier's.
	Denylist Denylist
	// Now is the Verifier's clock.
	Now func() time.Time
	// RefreshIssuer is a copy of the Issuer that signs refresh tokens (typ
	// refresh+jwt, token_use refresh, no roles or scopes).
	RefreshIssuer I
	// VerifyRefresh verifies a refresh token whose aud is the refresh
	// audience with the Verifier's keys, without the revocation check. A
	// token of another type is refused with reason token_wrong_type.
	VerifyRefresh func(ctx context.Context, token string, now time.Time) (Refresh, *problem.Problem)
}

// Hooks are package jwt's functions for package refresh (V is
// *jwt.Verifier, I *jwt.Issuer).
type Hooks[V, I any] struct {
	// Backend checks that v verifies what i signs, and that refresh
	// tokens whose aud is aud can be issued and verified with them (v has
	// a Store; aud is no access audience of v or i), and returns what a
	// Refresher needs. Its errors say what to change, without a package
	// prefix.
	Backend func(v V, i I, aud string) (Backend[I], error)
	// SignedBy reports whether the key that verified p's token is i's.
	SignedBy func(p *authn.Principal, i I) bool
}

var registered any

// Register records package jwt's hooks; jwt calls it from init.
func Register[V, I any](h Hooks[V, I]) { registered = h }

// Registered returns the hooks package jwt registered.
func Registered[V, I any]() Hooks[V, I] {
	h, ok := registered.(Hooks[V, I])
	if !ok {
		panic("lifecycle: package jwt registered no hooks for these types")
	}
	return h
}
