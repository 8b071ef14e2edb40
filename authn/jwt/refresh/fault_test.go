package refresh_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// lostAnswerStore runs the next Consume and then reports a timeout, as a
// store whose command ran after the caller gave up.
type lostAnswerStore struct {
	store.Store
	lose bool
}

func (s *lostAnswerStore) Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) ([]byte, []byte, store.Use, error) {
	v, n, use, err := s.Store.Consume(ctx, key, usedKey, note, grace)
	if s.lose {
		s.lose = false
		return nil, nil, store.NotFound, &store.UnavailableError{Op: "consume", Err: context.DeadlineExceeded}
	}
	return v, n, use, err
}

// TestRetryAfterALostAnswer: a rotation the store ran but whose answer was
// lost answers 503; the client's retry within the grace gets the
// successor, not a reuse verdict; a copy after the grace still revokes.
func TestRetryAfterALostAnswer(t *testing.T) {
	c := jwttest.NewClock()
	st := &lostAnswerStore{Store: jwttest.MemStore(t, c)}
	a := newReplica(t, st, c.Now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret))
	pair := a.login(t)
	st.lose = true
	_, err := a.r.Refresh(bg, pair.RefreshToken)
	if p, ok := problem.As(err); !ok || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("refresh whose answer was lost: %v; want 503", err)
	}
	c.Advance(time.Second)
	retry, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatalf("retry within the grace: %v; want a new pair", err)
	}
	a.verify(t, retry.AccessToken)
	// The retry was answered: the old token is spent now, however soon it
	// comes back, and its copy revokes the family.
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "refresh_reused")
	_, err = a.v.Verify(bg, retry.AccessToken)
	jwttest.ExpectReason(t, err, "token_revoked")
}

// TestRetryOfAFailedRetry: the rotation's answer is lost, and the first
// retry fails to store the successor (503 again): a second retry still
// gets a pair, whose refresh token works.
func TestRetryOfAFailedRetry(t *testing.T) {
	c := jwttest.NewClock()
	flaky := &flakyStore{Store: jwttest.MemStore(t, c)}
	st := &lostAnswerStore{Store: flaky}
	a := newReplica(t, st, c.Now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret))
	pair := a.login(t)
	st.lose = true
	if _, err := a.r.Refresh(bg, pair.RefreshToken); err == nil {
		t.Fatal("a lost answer gave a pair")
	}
	c.Advance(time.Second)
	flaky.failSets.Store(1)
	_, err := a.r.Refresh(bg, pair.RefreshToken)
	if p, ok := problem.As(err); !ok || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("retry whose successor cannot be stored: %v; want 503", err)
	}
	c.Advance(time.Second)
	retry, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatalf("second retry: %v", err)
	}
	if _, err := a.r.Refresh(bg, retry.RefreshToken); err != nil {
		t.Fatalf("the second retry's refresh token: %v", err)
	}
}

// TestReuseAfterTheGrace: a presentation after the grace is a reuse.
func TestReuseAfterTheGrace(t *testing.T) {
	a, c := memReplica(t)
	pair := a.login(t)
	next, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(refresh.DefaultRetryGrace + time.Second)
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "refresh_reused")
	_, err = a.r.Refresh(bg, next.RefreshToken)
	jwttest.ExpectReason(t, err, "token_revoked")
}

// TestRetryGraceOff: with RetryGrace negative, a second presentation is
// a reuse however soon it comes.
func TestRetryGraceOff(t *testing.T) {
	c := jwttest.NewClock()
	key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
	v := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}, Audience: []string{"api"}, Store: jwttest.MemStore(t, c), Now: c.Now})
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Audience: []string{"api"}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := refresh.New(refresh.Options{Issuer: iss, Verifier: v, RetryGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Refresh(bg, pair.RefreshToken); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	_, err = r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "refresh_reused")
}

// faultReplica is a replica over a redisstore on srv with a short
// command timeout, on the clock now.
func faultReplica(t *testing.T, srv *testredis.Server, prefix string, now func() time.Time) *replica {
	t.Helper()
	st, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: prefix, Timeout: 150 * time.Millisecond, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newReplica(t, st, now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret))
}

// eventually retries fn until it returns nil or 10 s pass (a restarted
// Redis takes a moment to accept connections).
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pausingStore pauses Redis's writes for 450 ms right after the next
// rotation has taken its refresh token, as a failover would.
type pausingStore struct {
	store.Store
	admin rueidis.Client
	armed atomic.Bool
}

func (s *pausingStore) pause() {
	if s.armed.Swap(false) {
		if err := s.admin.Do(bg, s.admin.B().ClientPause().Timeout(450).Write().Build()).Error(); err != nil {
			panic(err)
		}
	}
}

func (s *pausingStore) Take(ctx context.Context, key string) ([]byte, bool, error) {
	defer s.pause()
	return s.Store.Take(ctx, key)
}

func (s *pausingStore) Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) ([]byte, []byte, store.Use, error) {
	defer s.pause()
	return s.Store.Consume(ctx, key, usedKey, note, grace)
}

// TestRefreshDuringAWritePause: Redis pauses writes (as in a failover)
// after the rotation took the refresh token and before its successor is
// stored, for longer than the store's timeout; the refresh answers 503,
// and the client's retry gets a valid pair instead of "already used".
func TestRefreshDuringAWritePause(t *testing.T) {
	srv := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	rs, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "pause:", Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	st := &pausingStore{Store: rs, admin: testredis.ClientOf(t, srv.URL())}
	a := newReplica(t, st, time.Now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret))
	pair := a.login(t)
	st.armed.Store(true)
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	if p, ok := problem.As(err); !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("refresh during a write pause: %v; want 503", err)
	}
	var retry *refresh.TokenPair
	eventually(t, "the client's retry", func() error {
		var err error
		retry, err = a.r.Refresh(bg, pair.RefreshToken)
		if p, ok := problem.As(err); ok && p.Status == http.StatusServiceUnavailable {
			return err // still paused: the client retries again
		}
		if err != nil {
			t.Fatalf("retry after the pause: %v (reason %s); want a new pair", err, jwttest.Reason(err))
		}
		return nil
	})
	a.verify(t, retry.AccessToken)
	if _, err := a.r.Refresh(bg, retry.RefreshToken); err != nil {
		t.Fatalf("the retry's refresh token: %v", err)
	}
}

// TestEmptyRestartRefusesOldTokens: Redis restarts without its data. A
// logged-out access token must not come back to life, and a live refresh
// token is refused as "session state was reset", not as a reuse (which
// would also write a false refresh_reused). A new login works.
func TestEmptyRestartRefusesOldTokens(t *testing.T) {
	srv := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	c := jwttest.NewClock()
	a := faultReplica(t, srv, "restart:", c.Now)
	b := faultReplica(t, srv, "restart:", c.Now) // another replica
	loggedOut, live := a.login(t), a.login(t)
	p := a.verify(t, loggedOut.AccessToken)
	if err := a.r.Logout(bg, p, loggedOut.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err := b.v.Verify(bg, loggedOut.AccessToken)
	jwttest.ExpectReason(t, err, "token_revoked")
	b.verify(t, live.AccessToken)

	c.Advance(time.Minute)
	srv.Stop()
	srv.Start()

	// refused waits out the reconnection (503s) and expects reason.
	refused := func(what string, call func() error) {
		t.Helper()
		eventually(t, what, func() error {
			err := call()
			if errors.Is(err, store.ErrUnavailable) {
				c.Advance(10 * time.Millisecond) // the breakers' back-off runs on c
				return err
			}
			jwttest.ExpectReason(t, err, "token_state_reset")
			return nil
		})
	}
	for _, rep := range []*replica{a, b} {
		refused("the logged-out token", func() error { _, err := rep.v.Verify(bg, loggedOut.AccessToken); return err })
		refused("a live token", func() error { _, err := rep.v.Verify(bg, live.AccessToken); return err })
	}
	refused("a live refresh token", func() error { _, err = b.r.Refresh(bg, live.RefreshToken); return err })
	if p, _ := problem.As(err); p == nil || !strings.Contains(p.Detail, "log in again") {
		t.Fatalf("detail %v; want it to say to log in again", err)
	}
	var fresh *refresh.TokenPair
	// Each replica's stores reconnect, and their breakers close, at their
	// own pace: a call may answer 503 (never anything else) until then.
	settled := func(what string, call func() error) {
		t.Helper()
		eventually(t, what, func() error {
			err := call()
			if err != nil && !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("%s: %v", what, err)
			}
			if err != nil {
				c.Advance(10 * time.Millisecond)
			}
			return err
		})
	}
	settled("a login after the reset", func() error { var err error; fresh, err = b.r.Login(bg, alice); return err })
	settled("a token from after the reset", func() error { _, err := a.v.Verify(bg, fresh.AccessToken); return err })
	settled("a session begun after the reset", func() error { _, err := a.r.Refresh(bg, fresh.RefreshToken); return err })
}

// TestEmptyRestartWithinTheSecond: Redis comes back empty within the
// second a refresh token was issued (a client that refreshes often): iat
// cannot say whether the token is from before the reset, and its record
// is gone, so it is refused as a reset, never as a reuse.
func TestEmptyRestartWithinTheSecond(t *testing.T) {
	srv := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	c := jwttest.NewClock()
	a := faultReplica(t, srv, "second:", c.Now)
	pair := a.login(t)
	srv.Stop()
	srv.Start()
	eventually(t, "refresh after the restart", func() error {
		_, err := a.r.Refresh(bg, pair.RefreshToken)
		if errors.Is(err, store.ErrUnavailable) {
			c.Advance(10 * time.Millisecond) // the breaker's back-off runs on c
			return err
		}
		jwttest.ExpectReason(t, err, "token_state_reset")
		return nil
	})
}

// TestReuseRightAfterAReset: in the second after a reset (when everyone
// logs in again), a reuse is still a reuse: the store holds a record of
// the use, so it is not taken for a loss, and the family is revoked.
func TestReuseRightAfterAReset(t *testing.T) {
	srv := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	c := jwttest.NewClock()
	a := faultReplica(t, srv, "reuse:", c.Now)
	a.login(t)
	srv.Stop()
	srv.Start()
	var pair *refresh.TokenPair
	eventually(t, "a login after the restart", func() error {
		var err error
		if pair, err = a.r.Login(bg, alice); err != nil {
			c.Advance(time.Millisecond) // the breaker's back-off runs on c
		}
		return err
	})
	// Every connection back (a refresh that failed half-way would be a
	// retry, not the first use this test needs).
	for i := 0; i < 20; i++ {
		eventually(t, "a verification after the restart", func() error {
			_, err := a.v.Verify(bg, pair.AccessToken)
			if err != nil {
				c.Advance(time.Millisecond)
			}
			return err
		})
	}
	next, err := a.r.Refresh(bg, pair.RefreshToken) // the thief rotates first
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.r.Refresh(bg, pair.RefreshToken) // the owner, right after
	jwttest.ExpectReason(t, err, "refresh_reused")
	_, err = a.r.Refresh(bg, next.RefreshToken)
	jwttest.ExpectReason(t, err, "token_revoked")
}
