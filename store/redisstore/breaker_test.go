package redisstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testlag"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// countingClient counts the round trips that reach the client.
// breakerStore opens a store on its own client to url, counting the
// commands that reach the client, with a test clock for the breaker and
// its audit events in memory.
func breakerStore(t *testing.T, url string, timeout time.Duration) (*redisstore.Store, *countingClient, *testclock.Clock, *audit.Memory) {
	t.Helper()
	inner, err := redisstore.NewClient(redisstore.Options{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inner.Close)
	client := &countingClient{Client: inner}
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	events := audit.NewMemory()
	st, err := redisstore.Open(redisstore.Options{Client: client, Timeout: timeout, Audit: events, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, client, clk, events
}

type countingClient struct {
	rueidis.Client
	calls atomic.Int64
}

func (c *countingClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c.calls.Add(1)
	return c.Client.Do(ctx, cmd)
}

func (c *countingClient) DoMulti(ctx context.Context, cmds ...rueidis.Completed) []rueidis.RedisResult {
	c.calls.Add(1)
	return c.Client.DoMulti(ctx, cmds...)
}

// A frozen Redis under a JWT verifier's revocation store: the first few
// requests wait for the store's timeout and get 503; then the breaker
// opens, and every request gets its 503 at once — the store does not even
// ask the client, so nothing waits for the frozen server. One audit event
// says so; when Redis answers again, the next probe closes the breaker,
// one more event says so, and tokens verify again. The breaker's clock is
// a test clock: the back-off ends when the test says, however loaded the
// machine.
func TestBreakerUnderVerifier(t *testing.T) {
	srv := testredis.StartServer(t)
	const timeout = 100 * time.Millisecond
	st, client, clk, events := breakerStore(t, srv.URL(), timeout)

	key, err := jwt.NewHMACKey("k1", jwt.HS256, []byte("a test secret of at least 32 bytes, for HS256"))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "test", Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"test"}, Audience: []string{"api"}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := authn.New(authn.Options{Authenticator: v, Realm: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tok, err := iss.Issue(jwt.Claims{Subject: "alice", SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := get(); w.Code != 200 {
		t.Fatalf("before the outage: %d %s", w.Code, w.Body)
	}

	srv.Signal(syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			srv.Signal(syscall.SIGCONT)
		}
	}()
	for i := range breaker.DefaultThreshold {
		if w := get(); w.Code != 503 {
			t.Fatalf("request %d on a frozen Redis: %d %s", i, w.Code, w.Body)
		}
	}
	if st.Available() {
		t.Fatalf("after %d timeouts the breaker is still closed", breaker.DefaultThreshold)
	}
	asked := client.calls.Load()
	for i := range 100 {
		w := get()
		if w.Code != 503 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("request %d with the breaker open: %d %v %s", i, w.Code, w.Header(), w.Body)
		}
	}
	if n := client.calls.Load() - asked; n != 0 {
		t.Fatalf("with the breaker open, %d of 100 requests still went to the frozen Redis", n)
	}
	if _, err := st.Incr(context.Background(), "c", 1, time.Minute); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Incr with the breaker open: %v", err)
	}
	wantReasons(t, events, breaker.ReasonUnavailable)

	// Redis answers again; the back-off ends: one probe, and the breaker
	// closes.
	srv.Signal(syscall.SIGCONT)
	resumed = true
	probeUntil(t, clk, func() bool { return get().Code == 200 })
	if !st.Available() {
		t.Fatal("the breaker did not close")
	}
	wantReasons(t, events, breaker.ReasonUnavailable, breaker.ReasonRecovered)
	ev := events.Events()
	if last := ev[len(ev)-1]; last.Decision != audit.Allow || last.Guard != "redisstore" {
		t.Fatalf("recovery event %+v", last)
	}
}

// probeUntil ends the breaker's back-off and probes, until ok (Redis may
// take a moment to take connections again).
func probeUntil(t *testing.T, clk *testclock.Clock, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		clk.Advance(breaker.DefaultMaxBackoff)
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Redis did not come back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantReasons checks the reasons of the events in m (summaries of an
// outage that went on aside).
func wantReasons(t *testing.T, m *audit.Memory, want ...string) {
	t.Helper()
	ev := m.Events()
	var got []string
	for _, e := range ev {
		if e.Reason != breaker.ReasonStillUnavailable {
			got = append(got, e.Reason)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("audit events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit events %v, want %v", got, want)
		}
	}
}

// Every method goes through the breaker: with it open, each fails at once
// with store.ErrUnavailable without asking the client, and a caller that
// gives up, or an error reply from Redis, counts as no outage.
func TestBreakerEveryMethod(t *testing.T) {
	srv := testredis.StartServer(t)
	// A generous timeout: the outage here is a dead server, which refuses
	// connections at once.
	s, client, clk, events := breakerStore(t, srv.URL(), testTimeout)
	ctx := context.Background()

	// Error replies (a wrong type), and callers who gave up: no outage.
	if err := s.Set(ctx, "str", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for range 2 * breaker.DefaultThreshold {
		if _, err := s.AddToSet(ctx, "str", "m", time.Minute); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("AddToSet on a string: %v", err)
		}
		if _, err := s.Incr(cancelled, "c", 1, time.Minute); !errors.Is(err, context.Canceled) {
			t.Fatalf("Incr with a cancelled context: %v", err)
		}
	}
	if !s.Available() || len(events.Events()) != 0 {
		t.Fatal("error replies or callers giving up opened the breaker")
	}

	srv.Stop()
	defer func() {
		if !srv.Running() {
			srv.Start()
		}
	}()
	for range breaker.DefaultThreshold {
		if _, err := s.Incr(ctx, "c", 1, time.Minute); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Incr with Redis down: %v", err)
		}
	}
	if s.Available() {
		t.Fatal("the breaker did not open")
	}
	asked := client.calls.Load()
	lag := testlag.Start(t)
	errs := every(t, s, lag)
	delete(errs, "Client.Do") // the client itself has no breaker
	wantAll(t, errs, true)
	if _, err := s.ExistsAny(ctx, "a", "b"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ExistsAny: %v", err)
	}
	if n := client.calls.Load() - asked; n != 1 { // every's Client.Do
		t.Fatalf("with the breaker open, %d calls reached the client", n-1)
	}

	srv.Start()
	probeUntil(t, clk, func() bool { _, err := s.Incr(ctx, "c", 1, time.Minute); return err == nil })
	wantAll(t, every(t, s, lag), false)
	wantReasons(t, events, breaker.ReasonUnavailable, breaker.ReasonRecovered)
}
