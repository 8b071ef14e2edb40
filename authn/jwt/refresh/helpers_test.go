package refresh_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/store"
)

var bg = context.Background()

// replica is one service instance: its own verifier (with its own cache),
// issuer and refresher over a store.
type replica struct {
	v   *jwt.Verifier
	iss *jwt.Issuer
	r   *refresh.Refresher
}

func newReplica(t testing.TB, st store.Store, now func() time.Time, key *jwt.Key) *replica {
	t.Helper()
	v := jwttest.Verifier(t, jwt.VerifierOptions{
		Keys: []*jwt.Key{key}, Issuers: []string{"https://issuer.test"}, Audience: []string{"api"},
		Type: jwt.TypeAccess, Store: st, Now: now,
	})
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}, TTL: 15 * time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := refresh.New(refresh.Options{Issuer: iss, Verifier: v, RefreshTTL: 24 * time.Hour, SessionLifetime: 72 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{v: v, iss: iss, r: r}
}

// memReplica is a replica with an HS256 key over a memstore, on a clock
// of its own.
func memReplica(t testing.TB) (*replica, *jwttest.Clock) {
	t.Helper()
	c := jwttest.NewClock()
	return newReplica(t, jwttest.MemStore(t, c), c.Now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)), c
}

var alice = jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read", "write"}}

// login starts a session for alice on a.
func (a *replica) login(t testing.TB) *refresh.TokenPair {
	t.Helper()
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// verify verifies an access token on a.
func (a *replica) verify(t testing.TB, tok string) *authn.Principal {
	t.Helper()
	p, err := a.v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cached verifies an access token on a twice, the second time from a's
// cache.
func (a *replica) cached(t testing.TB, tok string) *authn.Principal {
	t.Helper()
	p := a.verify(t, tok)
	if again := a.verify(t, tok); again != p {
		t.Fatal("the second verification was not served from the cache")
	}
	return p
}

// expectRevoked checks that a refuses both tokens of pair as revoked.
func (a *replica) expectRevoked(t testing.TB, pair *refresh.TokenPair) {
	t.Helper()
	_, err := a.v.Verify(bg, pair.AccessToken)
	jwttest.ExpectReason(t, err, "token_revoked")
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "token_revoked")
}

// refreshAll presents token n times at once, alternating between the
// replicas, and returns the errors.
func refreshAll(token string, n int, reps ...*replica) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() { _, errs[i] = reps[i%len(reps)].r.Refresh(bg, token) })
	}
	wg.Wait()
	return errs
}

// refreshConcurrently is refreshAll's number of successes.
func refreshConcurrently(token string, n int, reps ...*replica) (wins int) {
	for _, err := range refreshAll(token, n, reps...) {
		if err == nil {
			wins++
		}
	}
	return wins
}

// bearer sends a request with tok in the Authorization header to h.
func bearer(h http.Handler, method, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/api/protected", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
