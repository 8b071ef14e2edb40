package redislimit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// stalledStore returns a Store on the test Redis whose batcher has no
// workers: a decision stays queued until the test runs one (work).
func stalledStore(t *testing.T) (*Store, ratelimit.Bound) {
	t.Helper()
	c, err := redisstore.NewClient(redisstore.Options{URL: testredis.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s, err := New(Options{Client: c, Prefix: testredis.Prefix(t), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.batch.close() // its workers stop; the queue is ours
	s.batch = &batcher{s: s, max: 64, queue: make(chan *call, 16), stop: make(chan struct{}), run: s.eval}
	b, err := s.Bind([]ratelimit.Limit{ratelimit.FixedWindow(10, time.Hour).Named("l").By(ratelimit.Global())})
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// takeQueued starts a decision, waits until it is queued, and returns a
// channel with its outcome.
func takeQueued(t *testing.T, s *Store, b ratelimit.Bound, ctx context.Context, key string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	before := len(s.batch.queue)
	go func() { done <- b.Take(ctx, []string{key}, 1, make([]ratelimit.Result, 1)) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.batch.queue) == before {
		if time.Now().After(deadline) {
			t.Fatal("the decision was never queued")
		}
		runtime.Gosched()
	}
	return done
}

// The probe after a back-off whose caller gives up while it waits: the
// breaker neither counts a failure nor extends the back-off, and the next
// decision may probe.
func TestProbeReleasedWhenCallerGivesUp(t *testing.T) {
	s, b := stalledStore(t)
	clk := testclock.New(time.Unix(0, 0))
	s.now = clk.Now
	for range breaker.DefaultThreshold { // open it
		tk, _ := s.breaker.Allow(0)
		s.breaker.Failure(0, tk, errors.New("down"))
	}
	clk.Advance(breakerMin) // the back-off has ended
	ctx, cancel := context.WithCancel(context.Background())
	done := takeQueued(t, s, b, ctx, "k")
	if _, ok := s.breaker.Allow(s.clock()); ok {
		t.Fatal("the decision is not the probe")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The next decision may probe, and its failure doubles the back-off
	// once: the caller who gave up counted for nothing.
	tk, ok := s.breaker.Allow(s.clock())
	if !ok || !tk.Probe() || s.Available() {
		t.Fatalf("after the caller gave up: probe %v %v, available %v", ok, tk.Probe(), s.Available())
	}
	now := s.clock()
	s.breaker.Failure(now, tk, errors.New("down"))
	if _, ok := s.breaker.Allow(now + 2*int64(breakerMin) - 1); ok {
		t.Fatal("the back-off is shorter than twice the first")
	}
	if tk, ok := s.breaker.Allow(now + 2*int64(breakerMin)); !ok || !tk.Probe() {
		t.Fatal("the back-off is longer than twice the first: the caller who gave up counted")
	}
}

// A queued decision whose caller gave up is dropped, not sent to Redis
// later: it must not charge a limit for a request that was never admitted.
func TestAbandonedCallsAreNotSent(t *testing.T) {
	s, b := stalledStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := takeQueued(t, s, b, ctx, "k")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	s.batch.wg.Add(1)
	go s.batch.work()
	rs := make([]ratelimit.Result, 1)
	if err := b.Take(context.Background(), []string{"k"}, 1, rs); err != nil {
		t.Fatal(err)
	}
	if rs[0].Remaining != 9 || s.evals.Load() != 1 {
		t.Fatalf("remaining %d after one admitted request of 10, %d script runs: the abandoned decision was sent", rs[0].Remaining, s.evals.Load())
	}
}

// A decision still queued when the Store's timeout passes (every worker
// busy, say, with a Redis that stopped answering) is answered with a
// timeout by the worker that takes it, and not sent: its caller, answered
// by the outage policy, was never admitted by Redis. (The Store has no
// client here: sending would panic.)
func TestTimedOutCallsAreNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Store{timeout: DefaultTimeout, base: time.Now()}
		b := &batcher{s: s, max: 64, queue: make(chan *call, 1), stop: make(chan struct{})}
		start := time.Now()
		var err error
		done := make(chan struct{})
		go func() {
			_, err = b.do(context.Background(), b.getCall(request{}))
			close(done)
		}()
		synctest.Wait()
		time.Sleep(DefaultTimeout) // no worker yet: the call waits past its deadline
		b.wg.Add(1)
		go b.work()
		<-done
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if waited := time.Since(start); waited != DefaultTimeout {
			t.Errorf("answered after %v, want the timeout (%v)", waited, DefaultTimeout)
		}
		if s.evals.Load() != 0 {
			t.Fatal("a call past its deadline was sent")
		}
		b.close()
	})
}

// standalone is a client that only says it talks to one Redis server;
// cluster, to a Redis Cluster.
type (
	standalone struct{ rueidis.Client }
	cluster    struct{ rueidis.Client }
)

func (standalone) Mode() rueidis.ClientMode { return rueidis.ClientModeStandalone }
func (cluster) Mode() rueidis.ClientMode    { return rueidis.ClientModeCluster }

// In Cluster mode a batch runs one script per call, concurrently: each
// call is answered by its own reply, or at its own deadline if the reply
// is later, and a call recycled at once for a new decision is never
// answered by its old batch.
func TestClusterBatchDeadlines(t *testing.T) {
	const timeout = 150 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		s := &Store{timeout: timeout, base: time.Now(), client: cluster{}}
		b := &batcher{s: s, max: 64, queue: make(chan *call, 8), stop: make(chan struct{})}
		// A request's cost is how long its reply takes, in ms.
		b.run = func(ctx context.Context, _ rueidis.CoreClient, reqs []request) ([]int64, error) {
			select {
			case <-time.After(time.Duration(reqs[0].cost) * time.Millisecond):
				return []int64{int64(reqs[0].cost)}, nil
			case <-ctx.Done():
				return nil, &store.UnavailableError{Op: "test", Err: ctx.Err()}
			}
		}
		bd := &bound{width: 1}
		start := time.Now()
		type outcome struct {
			vals []int64
			err  error
			at   time.Duration
		}
		var next sync.WaitGroup
		decide := func(replyMs int) <-chan outcome {
			ch := make(chan outcome, 1)
			next.Go(func() {
				vals, err := b.do(context.Background(), b.getCall(request{b: bd, cost: replyMs}))
				ch <- outcome{slices.Clone(vals), err, time.Since(start)}
				// A new decision at once, likely on the recycled call;
				// it must get its own answer.
				vals, err = b.do(context.Background(), b.getCall(request{b: bd, cost: 1}))
				if err != nil || len(vals) != 1 || vals[0] != 1 {
					t.Errorf("the next decision got %v, %v", vals, err)
				}
			})
			synctest.Wait()
			return ch
		}
		late := decide(200) // queued at 0: its reply would come after its deadline
		time.Sleep(60 * time.Millisecond)
		quick := decide(30) // queued at 60
		slow := decide(120) // queued at 60: answered at 60+120 = 180, within 210
		b.wg.Add(1)
		go b.work()
		for name, c := range map[string]struct {
			ch   <-chan outcome
			at   time.Duration
			want int64 // the reply's value, or 0 for a timeout
		}{
			"late":  {late, timeout, 0},
			"quick": {quick, 90 * time.Millisecond, 30},
			"slow":  {slow, 180 * time.Millisecond, 120},
		} {
			o := <-c.ch
			ok := o.err == nil && len(o.vals) == 1 && o.vals[0] == c.want
			if c.want == 0 {
				ok = errors.Is(o.err, context.DeadlineExceeded)
			}
			if !ok || o.at != c.at {
				t.Errorf("%s: %v, %v at %v; want %d at %v", name, o.vals, o.err, o.at, c.want, c.at)
			}
		}
		next.Wait()
		b.close()
	})
}

// Each call of a batch keeps its own deadline: one that waited in the
// queue is answered with a timeout at its deadline, while a fresh call of
// the same batch still gets its whole timeout for the reply — and when the
// client does not return at the context's deadline (stuck), each call is
// still answered at its own deadline.
func TestBatchCallsKeepTheirOwnDeadlines(t *testing.T) {
	const timeout = 150 * time.Millisecond
	for _, c := range []struct {
		name  string
		reply time.Duration // when the client answers the batch
		stuck bool          // whether it ignores the context's deadline
		waitB time.Duration // when the fresh call is answered
		okB   bool
	}{
		{"reply in time for the fresh call", 80 * time.Millisecond, false, 80 * time.Millisecond, true},
		{"client stuck", time.Second, true, timeout, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &Store{timeout: timeout, base: time.Now(), client: standalone{}}
				b := &batcher{s: s, max: 64, queue: make(chan *call, 4), stop: make(chan struct{})}
				b.run = func(ctx context.Context, _ rueidis.CoreClient, reqs []request) ([]int64, error) {
					if c.stuck {
						time.Sleep(c.reply)
					} else {
						select {
						case <-time.After(c.reply):
						case <-ctx.Done():
							return nil, &store.UnavailableError{Op: "test", Err: ctx.Err()}
						}
					}
					return make([]int64, len(reqs)), nil
				}
				bd := &bound{width: 1}
				type outcome struct {
					err error
					at  time.Duration
				}
				start := time.Now()
				decide := func() <-chan outcome {
					ch := make(chan outcome, 1)
					go func() {
						_, err := b.do(context.Background(), b.getCall(request{b: bd}))
						ch <- outcome{err, time.Since(start)}
					}()
					synctest.Wait()
					return ch
				}
				a := decide() // waits 100ms in the queue: 50ms left
				time.Sleep(100 * time.Millisecond)
				fresh := decide()
				b.wg.Add(1)
				go b.work()
				time.Sleep(10 * time.Millisecond)
				later := decide() // queued at 110 while the only worker is busy
				if o := <-a; !errors.Is(o.err, context.DeadlineExceeded) || o.at != timeout {
					t.Errorf("the call that waited: %v at %v, want a timeout at %v", o.err, o.at, timeout)
				}
				o := <-fresh
				if want := 100*time.Millisecond + c.waitB; o.at != want || (o.err == nil) != c.okB {
					t.Errorf("the fresh call: err %v at %v, want ok=%v at %v", o.err, o.at, c.okB, want)
				}
				// With the client stuck, the worker hands over, and the
				// call queued behind it is still answered by its deadline.
				o = <-later
				if limit := 110*time.Millisecond + timeout + handoverGrace; o.at > limit || c.stuck && !errors.Is(o.err, context.DeadlineExceeded) {
					t.Errorf("the call queued behind the batch: err %v at %v, want an answer by %v (a timeout if the client is stuck)", o.err, o.at, limit)
				}
				b.close()
			})
		})
	}
}

// A caller whose Store closes while its call is queued is answered at
// once (store.ErrClosed), and the call is not sent.
func TestCloseAnswersQueuedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Store{timeout: DefaultTimeout, base: time.Now()}
		b := &batcher{s: s, max: 64, queue: make(chan *call, 1), stop: make(chan struct{})}
		c := b.getCall(request{})
		var err error
		done := make(chan struct{})
		go func() {
			_, err = b.do(context.Background(), c)
			close(done)
		}()
		synctest.Wait()
		b.close() // no workers were started
		<-done
		if !errors.Is(err, store.ErrClosed) {
			t.Fatalf("err = %v, want store.ErrClosed", err)
		}
		if c.take() {
			t.Fatal("a worker could still send the call")
		}
	})
}

// unbatchedStore returns a Store on the test Redis that sends every
// decision on its own (MaxBatch 1).
func unbatchedStore(t *testing.T) *Store {
	t.Helper()
	c, err := redisstore.NewClient(redisstore.Options{URL: testredis.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s, err := New(Options{Client: c, Prefix: testredis.Prefix(t), Timeout: 5 * time.Second, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// The deny cache (and the breaker) keep time as the time elapsed since the
// Store was made, on the monotonic clock — not as Unix time, which a step
// of the wall clock (NTP, an operator) would move, extending every
// remembered refusal by the step.
func TestLocalClockIsMonotonic(t *testing.T) {
	s := unbatchedStore(t)
	if !strings.Contains(s.base.String(), "m=") {
		t.Fatalf("the clock's origin %v has no monotonic reading", s.base)
	}
	b, err := s.Bind([]ratelimit.Limit{ratelimit.FixedWindow(1, time.Hour).Named("l").By(ratelimit.Global())})
	if err != nil {
		t.Fatal(err)
	}
	rs := make([]ratelimit.Result, 1)
	for range 2 {
		if err := b.Take(context.Background(), []string{"k"}, 1, rs); err != nil {
			t.Fatal(err)
		}
	}
	if rs[0].Allowed {
		t.Fatal("the 2nd of 1 was admitted")
	}
	now := s.clock()
	n := 0
	for i := range s.deny.shards {
		for _, e := range s.deny.shards[i].m {
			n++
			if e.until <= now || e.until > now+int64(time.Hour) || e.until > int64(2*time.Hour) {
				t.Fatalf("deny entry until %d, clock %d: not time since the Store was made", e.until, now)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d deny entries, want 1", n)
	}
}

// A decision queued after Close has drained the queue for the last time
// (its caller passed the closed check just before Close ran) is not left
// waiting: its caller drains the queue itself.
func TestCallQueuedAfterCloseIsAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Store{timeout: DefaultTimeout, base: time.Now()}
		b := &batcher{s: s, max: 64, queue: make(chan *call, 4), stop: make(chan struct{})}
		b.close()
		if _, err := b.do(context.Background(), b.getCall(request{})); !errors.Is(err, store.ErrClosed) {
			t.Fatalf("err = %v, want store.ErrClosed", err)
		}
		if len(b.queue) != 0 {
			t.Fatal("the call is still queued")
		}
	})
}

func TestDistinct(t *testing.T) {
	many := make([]string, 300)
	for i := range many {
		many[i] = "k" + strings.Repeat("x", i)
	}
	for _, c := range []struct {
		keys []string
		want bool
	}{
		{nil, true},
		{[]string{"a"}, true},
		{[]string{"a", "b", "c"}, true},
		{[]string{"a", "b", "a"}, false},
		{[]string{"", ""}, false},
		{many[:256], true},
		{append(many[:255:255], many[3]), false},
		{many, false}, // too many to check: the script checks
	} {
		if got := distinct(c.keys); got != c.want {
			t.Errorf("distinct(%d keys) = %v, want %v", len(c.keys), got, c.want)
		}
	}
}

// One batch through the script's single-GCRA fast path: with distinct keys
// (the client says so and the script tracks nothing) and with a key that
// repeats (the script reads back what it wrote), each request is decided
// exactly as if alone, in order.
func TestBatchFastPathExact(t *testing.T) {
	s := unbatchedStore(t)
	bd, err := s.Bind([]ratelimit.Limit{ratelimit.GCRA(3, time.Hour, 3).Named("g").By(ratelimit.Global())})
	if err != nil {
		t.Fatal(err)
	}
	b := bd.(*bound)
	run := func(keys ...string) (admitted []bool) {
		t.Helper()
		reqs := make([]request, len(keys))
		for i, k := range keys {
			reqs[i] = request{b: b, keys: []string{b.redisKey(k, 0)}, cost: 1}
		}
		vals, err := s.eval(context.Background(), s.client, reqs)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			admitted = append(admitted, v&1 == 1)
		}
		return admitted
	}
	if !distinct([]string{"a", "b", "c"}) || distinct([]string{"a", "a"}) {
		t.Fatal("distinct is wrong")
	}
	// Distinct keys, three batches: each key admits 3 of 3, then refuses.
	for i := range 4 {
		got := run("a", "b", "c")
		for j, ok := range got {
			if ok != (i < 3) {
				t.Fatalf("batch %d of distinct keys: request %d admitted = %v", i+1, j+1, ok)
			}
		}
	}
	// A repeated key in one batch: its 4th and 5th requests are refused,
	// the other key's one admitted.
	got := run("r", "r", "s", "r", "r", "r")
	want := []bool{true, true, true, true, false, false}
	if !slices.Equal(got, want) {
		t.Fatalf("a repeated key: admitted %v, want %v", got, want)
	}
	// Every key expires, and not before its state is fresh again: the key
	// lives until the end of the 1h bucket (the capacity) holding TAT +
	// 1h, and its TAT is 20 minutes to 1h ahead — so between 1h and 3h.
	c := s.client
	for _, k := range []string{"a", "b", "c", "r", "s"} {
		ms, err := c.Do(context.Background(), c.B().Pttl().Key(b.redisKey(k, 0)).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		if ms < int64(time.Hour/time.Millisecond) || ms > int64(3*time.Hour/time.Millisecond) {
			t.Errorf("key %q expires in %dms, want 1h to 3h", k, ms)
		}
	}
}
