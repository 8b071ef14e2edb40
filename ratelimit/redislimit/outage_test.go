package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/internal/testlag"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store"
)

// The Store's timeout in the outage tests, and the slack on it a decision
// may take: scheduling on a loaded 2-CPU machine under the race detector,
// but less than a second timeout, so a 2× overrun fails. A stall of the
// whole process (testlag) comes on top.
const (
	timeout = 200 * time.Millisecond
	slack   = 150 * time.Millisecond
)

// Kill the Redis server mid-load: each outage policy behaves as documented,
// no decision takes longer than the timeout (plus scheduling slack), and
// decisions go back to Redis when it restarts on the same port — without
// rebuilding anything. Batched and unbatched (MaxBatch 1) alike.
func TestOutage(t *testing.T) {
	srv := testredis.StartServer(t)
	redislimit.ShortBreaker(t)
	for _, policy := range []ratelimit.Outage{ratelimit.FallbackLocal, ratelimit.FailOpen, ratelimit.FailClosed} {
		for _, batch := range []int{0, 1} {
			outage(t, srv, policy, batch)
		}
	}
}

func outage(t *testing.T, srv *testredis.Server, policy ratelimit.Outage, batch int) {
	t.Run(fmt.Sprintf("%s/batch=%d", policy, batch), func(t *testing.T) {
		st, err := redislimit.New(redislimit.Options{URL: srv.URL(), Prefix: fmt.Sprintf("outage:%s:%d:", policy, batch), Timeout: timeout, MaxBatch: batch})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		lag := testlag.Start(t)
		var storeErrors atomic.Int64
		lim, err := ratelimit.New(ratelimit.Options{
			Limits:       []ratelimit.Limit{ratelimit.SlidingWindow(50, time.Hour).By(ratelimit.Global())},
			Store:        st,
			Outage:       policy,
			OnStoreError: func(error) { storeErrors.Add(1) },
		})
		if err != nil {
			t.Fatal(err)
		}
		// Before the outage: "spent" has used 40 of its 50 in Redis.
		for range 40 {
			if d, err := lim.Allow(context.Background(), "spent"); err != nil || !d.Allowed || d.Degraded {
				t.Fatalf("before the outage: %+v %v", d, err)
			}
		}

		type outcome struct {
			d   ratelimit.Decision
			err error
		}
		var (
			mu       sync.Mutex
			outcomes []outcome // during the outage
			stop     atomic.Bool
			healthy  atomic.Int64
			degraded atomic.Int64
		)
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					start := time.Now()
					d, err := lim.Allow(context.Background(), fmt.Sprintf("client-%d-%d", g, i%10))
					if dur := time.Since(start); lag.Over(dur, timeout+slack) {
						t.Errorf("a decision took %v (timeout %v, timers up to %v late)", dur, timeout, lag.Max())
					}
					if d.Degraded {
						degraded.Add(1)
						mu.Lock()
						outcomes = append(outcomes, outcome{d, err})
						mu.Unlock()
					} else if err == nil {
						healthy.Add(1)
					}
				}
			})
		}
		waitFor(t, "decisions before the kill", func() bool { return healthy.Load() > 200 })
		srv.Stop()
		defer func() {
			if !srv.Running() {
				srv.Start() // for the next policy, if this one failed
			}
		}()
		waitFor(t, "degraded decisions", func() bool { return degraded.Load() > 500 })
		stop.Store(true)
		wg.Wait()

		for _, o := range outcomes {
			switch policy {
			case ratelimit.FailOpen:
				if !o.d.Allowed || o.err != nil || o.d.Policy != "" {
					t.Fatalf("fail open: %+v %v", o.d, o.err)
				}
			case ratelimit.FailClosed:
				if o.d.Allowed || !errors.Is(o.err, store.ErrUnavailable) || o.d.RetryAfter != ratelimit.DefaultOutageRetryAfter {
					t.Fatalf("fail closed: %+v %v", o.d, o.err)
				}
			case ratelimit.FallbackLocal:
				if o.err != nil || o.d.Policy != "default" || o.d.Limit != 50 {
					t.Fatalf("fallback: %+v %v", o.d, o.err)
				}
			}
		}
		if storeErrors.Load() == 0 {
			t.Fatal("OnStoreError never called")
		}
		// "spent" used 40 of its 50 in Redis before the outage. During
		// it, FallbackLocal gives it a fresh local quota of exactly 50
		// (the documented overshoot: 90 in all, on one replica);
		// FailOpen admits everything; FailClosed nothing.
		admitted := 0
		for range 60 {
			start := time.Now()
			d, err := lim.Allow(context.Background(), "spent")
			if dur := time.Since(start); lag.Over(dur, timeout+slack) {
				t.Errorf("a decision took %v (timeout %v, timers up to %v late)", dur, timeout, lag.Max())
			}
			if !d.Degraded {
				t.Fatalf("decided without Redis yet not degraded: %+v %v", d, err)
			}
			if d.Allowed {
				admitted++
			}
		}
		if want := map[ratelimit.Outage]int{ratelimit.FallbackLocal: 50, ratelimit.FailOpen: 60, ratelimit.FailClosed: 0}[policy]; admitted != want {
			t.Fatalf("\"spent\" admitted %d times during the outage, want %d", admitted, want)
		}

		// Redis comes back on the same port: decisions resume (after
		// the breaker's back-off), with nothing rebuilt.
		srv.Start()
		i := 0
		waitFor(t, "decisions to resume after Redis restarted", func() bool {
			i++
			d, err := lim.Allow(context.Background(), fmt.Sprintf("after-%d", i))
			return err == nil && !d.Degraded && d.Allowed
		})
	})
}

// waitFor polls cond every millisecond until it holds, failing the test after
// 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A Redis that stops answering (the process frozen, connections open) is
// the case a timeout exists for: every decision returns within the timeout,
// degraded, and decisions resume when Redis answers again. Batched and
// unbatched (MaxBatch 1) alike.
func TestStalledRedis(t *testing.T) {
	srv := testredis.StartServer(t)
	redislimit.ShortBreaker(t)
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) { stalled(t, srv, batch) })
	}
}

func stalled(t *testing.T, srv *testredis.Server, batch int) {
	st, err := redislimit.New(redislimit.Options{URL: srv.URL(), Timeout: timeout, MaxBatch: batch, Prefix: fmt.Sprintf("stalled:%d:", batch)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.GCRA(100, time.Second, 100).By(ratelimit.Global())}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := lim.Allow(context.Background(), "k"); err != nil || d.Degraded {
		t.Fatalf("before: %+v %v", d, err)
	}
	if batch == 0 {
		// A batch worker has its own connection: the freeze times out
		// decisions on it (and on the shared client, for the other).
		waitFor(t, "a worker's own connection", func() bool {
			d, err := lim.Allow(context.Background(), "k")
			return err == nil && !d.Degraded && redislimit.OwnConns(st) > 0
		})
	}
	srv.Signal(syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			srv.Signal(syscall.SIGCONT)
		}
	}()
	lag := testlag.Start(t)
	var wg sync.WaitGroup
	var slow, notDegraded atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 3 {
				start := time.Now()
				d, _ := lim.Allow(context.Background(), fmt.Sprintf("k%d-%d", g, i))
				if lag.Over(time.Since(start), timeout+slack) {
					slow.Add(1)
				}
				if !d.Degraded {
					notDegraded.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if slow.Load() != 0 || notDegraded.Load() != 0 {
		t.Fatalf("%d decisions past the timeout, %d not degraded, while Redis was frozen", slow.Load(), notDegraded.Load())
	}
	// The breaker is open: decisions no longer wait for the timeout, but
	// for the odd probe when a back-off ends.
	waited := 0
	for i := range 100 {
		start := time.Now()
		if d, _ := lim.Allow(context.Background(), fmt.Sprintf("fast-%d", i)); !d.Degraded {
			t.Fatal("decided by a frozen Redis")
		}
		if lag.Over(time.Since(start), timeout/2) {
			waited++
		}
	}
	if waited > 3 {
		t.Fatalf("%d of 100 decisions waited for the frozen Redis", waited)
	}
	srv.Signal(syscall.SIGCONT)
	resumed = true
	i := 0
	waitFor(t, "decisions to resume", func() bool {
		i++
		d, err := lim.Allow(context.Background(), fmt.Sprintf("after-%d", i))
		return err == nil && !d.Degraded
	})
}

// Each batch worker keeps a connection of its own beside the shared
// client's; when Redis drops every connection, decisions go on (on the
// shared client, which reconnects) and the workers get new connections of
// their own. No decision is lost or double-counted along
// the way: the count in Redis is the number admitted. An error reply from
// Redis keeps them. Close closes them all.
func TestWorkersOwnConnections(t *testing.T) {
	srv := testredis.StartServer(t)
	co, err := rueidis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	co.DisableCache, co.PipelineMultiplex = true, -1 // one connection
	inspect, err := rueidis.NewClient(co)
	if err != nil {
		t.Fatal(err)
	}
	defer inspect.Close()
	ctx := context.Background()
	conns := func() int {
		list, err := inspect.Do(ctx, inspect.B().ClientList().Build()).ToString()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, "\n")
	}
	st, err := redislimit.New(redislimit.Options{URL: srv.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1<<30, ratelimit.MaxWindow).By(ratelimit.Global())}, Store: st, Outage: ratelimit.FailClosed})
	if err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	decide := func() bool {
		var wg sync.WaitGroup
		var failed atomic.Bool
		for range 8 { // concurrent, so that both workers take batches
			wg.Go(func() {
				if d, err := lim.Allow(ctx, "k"); err != nil {
					failed.Store(true)
				} else if d.Allowed {
					admitted.Add(1)
				}
			})
		}
		wg.Wait()
		return !failed.Load()
	}
	waitFor(t, "the workers' own connections", func() bool { return decide() && redislimit.OwnConns(st) == 2 })

	if err := inspect.Do(ctx, inspect.B().ClientKill().TypeNormal().SkipmeYes().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "decisions on Redis again", decide)
	waitFor(t, "the workers' new connections", func() bool { return decide() && redislimit.OwnConns(st) == 2 })

	// An error reply (out of memory) fails decisions but leaves the
	// connections in step: they are kept.
	config := func(v string) {
		if err := inspect.Do(ctx, inspect.B().ConfigSet().ParameterValue().ParameterValue("maxmemory", v).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	config("1")
	if decide() {
		t.Fatal("decisions succeeded on a Redis out of memory")
	}
	if n := redislimit.OwnConns(st); n != 2 {
		t.Errorf("%d workers kept their connections after an error reply, want 2", n)
	}
	config("0")
	waitFor(t, "decisions after the memory is back", decide)

	raw, err := inspect.Do(ctx, inspect.B().Keys().Pattern("*").Build()).AsStrSlice()
	if err != nil || len(raw) != 1 {
		t.Fatalf("keys %v %v", raw, err)
	}
	n, err := inspect.Do(ctx, inspect.B().Hget().Key(raw[0]).Field("c").Build()).AsInt64()
	if err != nil || n != admitted.Load() {
		t.Fatalf("Redis counted %d (%v), %d were admitted", n, err, admitted.Load())
	}
	st.Close()
	if n := redislimit.OwnConns(st); n != 0 {
		t.Errorf("%d connections of the workers' own still held after Close", n)
	}
	waitFor(t, "the Store's connections to close", func() bool { return conns() == 1 }) // the inspector's
}
