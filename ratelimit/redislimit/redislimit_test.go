package redislimit_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/internal/limittest"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

func client(t *testing.T) rueidis.Client {
	t.Helper()
	c, err := redisstore.NewClient(redisstore.Options{URL: testredis.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newStore(t *testing.T, opts redislimit.Options) *redislimit.Store {
	t.Helper()
	if opts.Client == nil {
		opts.Client = client(t)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second // generous: the race detector and a shared machine
	}
	s, err := redislimit.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// serverClock sets the time the test script reads, and the deny cache's
// local clock, to the same instant.
type serverClock struct {
	mu  sync.Mutex
	c   rueidis.Client
	key string
	t   time.Time
}

func (s *serverClock) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}

func (s *serverClock) Set(tb testing.TB, t time.Time) {
	s.mu.Lock()
	s.t = t
	s.mu.Unlock()
	us := t.UnixMicro()
	err := s.c.Do(context.Background(), s.c.B().Hset().Key(s.key).FieldValue().
		FieldValue("s", strconv.FormatInt(us/1e6, 10)).FieldValue("us", strconv.FormatInt(us%1e6, 10)).Build()).Error()
	if err != nil {
		tb.Fatal(err)
	}
}

// The Redis script passes the same step-by-step cases as the in-memory
// algorithms, against a clock the test controls.
func TestAlgorithmsOnRedis(t *testing.T) {
	prefix := testredis.Prefix(t)
	c := client(t)
	for i, tc := range limittest.Cases {
		for _, batch := range []int{1, 64} {
			t.Run(fmt.Sprintf("%s/batch=%d", tc.Name, batch), func(t *testing.T) {
				clk := &serverClock{c: c, key: prefix + "clock"}
				st, err := redislimit.NewWithClock(redislimit.Options{Client: c, Prefix: fmt.Sprintf("%s%d:%d:", prefix, i, batch),
					Timeout: 2 * time.Second, MaxBatch: batch, Now: clk.Now}, clk.key)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{tc.Limit}, Store: st, Outage: ratelimit.FailClosed})
				if err != nil {
					t.Fatal(err)
				}
				limittest.Run(t, tc, func(at time.Duration, cost int) ratelimit.Decision {
					clk.Set(t, tc.Start.Add(at))
					d, err := lim.AllowN(context.Background(), cost, "k")
					if err != nil {
						t.Fatal(err)
					}
					return d
				})
			})
		}
	}
}

// Three replicas, each with its own client, share one Redis: 64 goroutines
// hammering one key with a limit of 100 get exactly 100 through, for every
// algorithm (all four are exact) — alone (for GCRA, the script's batched
// single-limit fast path) and beside a second, roomier limit.
func TestReplicasShareOneExactLimit(t *testing.T) {
	url := testredis.URL(t)
	prefix := testredis.Prefix(t)
	limits := []ratelimit.Limit{
		ratelimit.TokenBucket(100, 0.001).By(ratelimit.Global()),
		ratelimit.GCRA(1, time.Hour, 100).By(ratelimit.Global()),
		ratelimit.SlidingWindow(100, time.Hour).By(ratelimit.Global()),
		ratelimit.FixedWindow(100, ratelimit.MaxWindow).By(ratelimit.Global()), // a window boundary during the test is a 1-in-10^8 event
	}
	for i, l := range limits {
		for _, single := range []bool{true, false} {
			for _, batch := range []int{1, 0} {
				name := fmt.Sprintf("%s/single=%v/batch=%d", l.Algorithm, single, batch)
				set := []ratelimit.Limit{l.Named("l")}
				if !single {
					set = append(set, ratelimit.SlidingWindow(1000, time.Hour).Named("roomy").By(ratelimit.Global()))
				}
				replicasExact(t, name, url, fmt.Sprintf("%s%d:%v:%d:", prefix, i, single, batch), batch, set)
			}
		}
	}
}

// replicasExact runs three replicas of a limiter of limits (the first
// admitting 100), each with its own client, against one Redis: 64
// goroutines ask 5 times each for one key.
func replicasExact(t *testing.T, name, url, prefix string, batch int, limits []ratelimit.Limit) {
	t.Run(name, func(t *testing.T) {
		var replicas []*ratelimit.Limiter
		for range 3 {
			st, err := redislimit.New(redislimit.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second, MaxBatch: batch})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(st.Close)
			lim, err := ratelimit.New(ratelimit.Options{Limits: limits, Store: st, Outage: ratelimit.FailClosed})
			if err != nil {
				t.Fatal(err)
			}
			replicas = append(replicas, lim)
		}
		var mu sync.Mutex
		allowed, failed := 0, 0
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				lim := replicas[g%3]
				a, f := 0, 0
				for range 5 {
					d, err := lim.Allow(context.Background(), "hot-key")
					if err != nil {
						f++
					} else if d.Allowed {
						a++
					}
				}
				mu.Lock()
				allowed += a
				failed += f
				mu.Unlock()
			})
		}
		wg.Wait()
		if failed != 0 {
			t.Fatalf("%d decisions failed", failed)
		}
		if allowed != 100 {
			t.Fatalf("admitted %d across replicas, want exactly 100", allowed)
		}
	})
}

// A refusal by one limit consumes none of the others, in one script.
func TestMultipleLimitsOnRedis(t *testing.T) {
	prefix := testredis.Prefix(t)
	c := client(t)
	clk := &serverClock{c: c, key: prefix + "clock"}
	st, err := redislimit.NewWithClock(redislimit.Options{Client: c, Prefix: prefix, Now: clk.Now, Timeout: 2 * time.Second}, clk.key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lim, err := ratelimit.New(ratelimit.Options{Store: st, Outage: ratelimit.FailClosed, Limits: []ratelimit.Limit{
		ratelimit.SlidingWindow(3, time.Minute).Named("burst").By(ratelimit.Global()),
		ratelimit.FixedWindow(5, time.Hour).Named("hourly").By(ratelimit.Global()),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk.Set(t, limittest.EpochHour)
	for range 3 {
		if d, err := lim.Allow(ctx, "alice"); err != nil || !d.Allowed {
			t.Fatalf("%+v %v", d, err)
		}
	}
	for range 5 {
		d, err := lim.Allow(ctx, "alice")
		if err != nil || d.Allowed || d.Policy != "burst" {
			t.Fatalf("want a burst refusal: %+v %v", d, err)
		}
	}
	clk.Set(t, limittest.EpochHour.Add(time.Minute))
	d, _ := lim.Allow(ctx, "alice")
	if !d.Allowed || d.Policy != "hourly" || d.Remaining != 1 {
		t.Fatalf("the refusals consumed the hourly limit: %+v", d)
	}
	// Per-limit keys in one script (a single Redis server allows it).
	d, err = lim.Allow(ctx, "bob", "team-1")
	if err != nil || !d.Allowed {
		t.Fatalf("bob/team-1: %+v %v", d, err)
	}
}

// Once Redis refuses a key, its requests are refused locally until the
// retry time: no round trips for a client hammering past its limit.
func TestDenyCache(t *testing.T) {
	prefix := testredis.Prefix(t)
	c := client(t)
	clk := &serverClock{c: c, key: prefix + "clock"}
	st, err := redislimit.NewWithClock(redislimit.Options{Client: c, Prefix: prefix, Now: clk.Now, MaxBatch: 1, Timeout: 2 * time.Second}, clk.key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lim, err := ratelimit.New(ratelimit.Options{Store: st, Limits: []ratelimit.Limit{ratelimit.FixedWindow(2, time.Minute).By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk.Set(t, limittest.EpochHour)
	lim.Allow(ctx, "k")
	lim.Allow(ctx, "k")
	d, _ := lim.Allow(ctx, "k")
	if d.Allowed {
		t.Fatal("3rd of 2 admitted")
	}
	before := redislimit.Evals(st)
	clk.Set(t, limittest.EpochHour.Add(59*time.Second))
	for range 100 {
		d, _ := lim.Allow(ctx, "k")
		if d.Allowed || d.RetryAfter != time.Second {
			t.Fatalf("cached refusal: %+v", d)
		}
	}
	if n := redislimit.Evals(st) - before; n != 0 {
		t.Fatalf("%d round trips for a key known to be over its limit", n)
	}
	// Another key still goes to Redis; and at the retry time, so does k.
	lim.Allow(ctx, "other")
	clk.Set(t, limittest.EpochHour.Add(time.Minute))
	if d, _ := lim.Allow(ctx, "k"); !d.Allowed {
		t.Fatalf("after the window: %+v", d)
	}
	if n := redislimit.Evals(st) - before; n != 2 {
		t.Fatalf("%d round trips, want 2", n)
	}
}

func TestBindRefusals(t *testing.T) {
	c := client(t)
	if _, err := redislimit.New(redislimit.Options{Client: c, Prefix: "a{b}:"}); err == nil {
		t.Error("prefix with a hash tag accepted")
	}
	if _, err := redislimit.New(redislimit.Options{}); err == nil {
		t.Error("no client and no URL accepted")
	}
	st := newStore(t, redislimit.Options{Client: c, Prefix: testredis.Prefix(t)})
	if _, err := ratelimit.New(ratelimit.Options{Store: st, Limits: []ratelimit.Limit{ratelimit.GCRA(10_000_000, time.Second, 10).By(ratelimit.Global())}}); err == nil ||
		!strings.Contains(err.Error(), "1µs") {
		t.Errorf("sub-microsecond interval: %v", err)
	}
	if _, err := ratelimit.New(ratelimit.Options{Store: st, Limits: []ratelimit.Limit{ratelimit.FixedWindow(5, time.Minute).Named("login").By(ratelimit.Global())}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ratelimit.New(ratelimit.Options{Store: st, Limits: []ratelimit.Limit{ratelimit.FixedWindow(5, time.Minute).Named("login").By(ratelimit.Global())}}); err != nil {
		t.Errorf("the same limit twice: %v", err)
	}
	if _, err := ratelimit.New(ratelimit.Options{Store: st, Limits: []ratelimit.Limit{ratelimit.FixedWindow(50, time.Minute).Named("login").By(ratelimit.Global())}}); err == nil {
		t.Error("a different limit of the same name accepted")
	}
}

func TestLongKeysAndClose(t *testing.T) {
	st := newStore(t, redislimit.Options{Prefix: testredis.Prefix(t)})
	lim, err := ratelimit.New(ratelimit.Options{Store: st, Outage: ratelimit.FailClosed, Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Hour).By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 10_000)
	if d, err := lim.Allow(context.Background(), long); err != nil || !d.Allowed {
		t.Fatalf("%+v %v", d, err)
	}
	if d, err := lim.Allow(context.Background(), long+"y"); err != nil || !d.Allowed {
		t.Fatalf("a different long key shares state: %+v %v", d, err)
	}
	if d, _ := lim.Allow(context.Background(), long); d.Allowed {
		t.Fatal("long key not limited")
	}
	st.Close()
	if _, err := lim.Allow(context.Background(), "k"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("after Close: %v", err)
	}
}

// Decisions of different limiters, costs and algorithms coalesced into the
// same script runs stay exact: every limit admits exactly its quota.
func TestMixedBatchesStayExact(t *testing.T) {
	st := newStore(t, redislimit.Options{Prefix: testredis.Prefix(t), Timeout: 5 * time.Second})
	mk := func(l ratelimit.Limit) *ratelimit.Limiter {
		lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}, Store: st, Outage: ratelimit.FailClosed})
		if err != nil {
			t.Fatal(err)
		}
		return lim
	}
	gcra := mk(ratelimit.GCRA(1, time.Hour, 60).Named("g").By(ratelimit.Global()))
	fixed := mk(ratelimit.FixedWindow(60, ratelimit.MaxWindow).Named("f").By(ratelimit.Global()))
	sliding := mk(ratelimit.SlidingWindow(60, time.Hour).Named("s").By(ratelimit.Global()))
	var mu sync.Mutex
	units := map[string]int{}
	var wg sync.WaitGroup
	for g := range 48 {
		wg.Go(func() {
			lim, name := []*ratelimit.Limiter{gcra, fixed, sliding}[g%3], []string{"g", "f", "s"}[g%3]
			for i := range 10 {
				cost := 1 + (g+i)%3 // costs 1, 2 and 3 in the same batches
				d, err := lim.AllowN(context.Background(), cost, "shared")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					units[name] += cost
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// Each limit sees 16 goroutines × 10 requests of mean cost 2 = 320
	// units asked for 60 available; with costs up to 3 the last units may
	// stay unused, so at least 58 and never more than 60 are admitted.
	for _, name := range []string{"g", "f", "s"} {
		if u := units[name]; u > 60 || u < 58 {
			t.Errorf("limit %s admitted %d units of 60", name, u)
		}
	}
}

// Twenty limiters on one Store, decided concurrently: batches mix more
// distinct limiters than the script's old encoding held (15), and every
// decision still succeeds and every limiter admits exactly its quota.
func TestManyLimitersOneStore(t *testing.T) {
	st := newStore(t, redislimit.Options{Prefix: testredis.Prefix(t), Timeout: 5 * time.Second})
	const n, quota = 20, 10
	var lims []*ratelimit.Limiter
	for i := range n {
		var l ratelimit.Limit
		switch i % 4 {
		case 0:
			l = ratelimit.GCRA(1, time.Hour, quota).By(ratelimit.Global())
		case 1:
			l = ratelimit.TokenBucket(quota, 0.001).By(ratelimit.Global())
		case 2:
			l = ratelimit.SlidingWindow(quota, time.Hour).By(ratelimit.Global())
		default:
			l = ratelimit.FixedWindow(quota, ratelimit.MaxWindow).By(ratelimit.Global())
		}
		lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l.Named(fmt.Sprintf("l%d", i))}, Store: st, Outage: ratelimit.FailClosed})
		if err != nil {
			t.Fatal(err)
		}
		lims = append(lims, lim)
	}
	var mu sync.Mutex
	admitted := make([]int, n)
	var failed []error
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % n // every goroutine goes through every limiter
				d, err := lims[k].Allow(context.Background(), "shared")
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else if d.Allowed {
					admitted[k]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) != 0 {
		t.Fatalf("%d of %d decisions failed with a healthy Redis, e.g. %v", len(failed), 64*50, failed[0])
	}
	for k, a := range admitted {
		if a != quota {
			t.Errorf("limiter %d admitted %d, want exactly %d", k, a, quota)
		}
	}
}

// hashTag is the part of a key that Redis Cluster hashes: the text between
// the first '{' and the first '}' after it, if non-empty, else the whole
// key (https://redis.io/docs/reference/cluster-spec/#hash-tags).
func hashTag(key string) (string, bool) {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return key, false
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return key, false
	}
	return key[i+1 : i+1+j], true
}

// Whatever the caller's key — empty, with braces, or posing as a digest —
// the Redis keys of one decision share a proper hash tag (so that a
// multi-limit script stays in one Cluster slot: no CROSSSLOT), and
// distinct keys keep distinct state.
func TestKeysKeepOneHashTag(t *testing.T) {
	prefix := testredis.Prefix(t)
	st := newStore(t, redislimit.Options{Prefix: prefix})
	lim, err := ratelimit.New(ratelimit.Options{Store: st, Outage: ratelimit.FailClosed, Limits: []ratelimit.Limit{
		ratelimit.FixedWindow(1, time.Hour).Named("a").By(ratelimit.Global()), ratelimit.GCRA(1, time.Hour, 1).Named("b").By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 200)
	sum := sha256.Sum256([]byte(long))
	digest := "#" + base64.RawURLEncoding.EncodeToString(sum[:16]) // how a long key is stored
	keys := []string{"", "{", "}", "}{", "{}", "{x}", "a}b", "}x", "x{", "plain", long, digest}
	ctx := context.Background()
	for _, k := range keys {
		if d, err := lim.Allow(ctx, k); err != nil || !d.Allowed {
			t.Fatalf("key %q: first request %+v %v (state shared with another key?)", k, d, err)
		}
		if d, err := lim.Allow(ctx, k); err != nil || d.Allowed {
			t.Fatalf("key %q: second request %+v %v", k, d, err)
		}
	}
	c := client(t)
	got, err := c.Do(ctx, c.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	perTag := map[string]int{}
	for _, key := range got {
		tag, ok := hashTag(key)
		if !ok {
			t.Errorf("Redis key %q has no hash tag: its limits may land in different Cluster slots", key)
		}
		perTag[tag]++
	}
	if len(perTag) != len(keys) {
		t.Errorf("%d distinct hash tags for %d keys: %v", len(perTag), len(keys), perTag)
	}
	for tag, n := range perTag {
		if n != 2 {
			t.Errorf("hash tag %q holds %d keys, want the 2 limits of one key", tag, n)
		}
	}
}

// Every key the script writes expires — never a key that lives forever —
// and not before its state is back to that of a fresh key (ResetAfter):
// ResetAfter ≤ PTTL ≤ the bound the script's bucketed expiry allows (3
// windows for GCRA, whose expiry is rounded up to the bucket after the
// TAT + a window; 2 for the sliding log; the window's end for the fixed
// window). Checked after the first write and after rewrites that keep the
// TTL (SETRANGE, HINCRBY).
func TestKeysExpire(t *testing.T) {
	c := client(t)
	for _, tc := range []struct {
		l     ratelimit.Limit
		bound time.Duration
	}{
		{ratelimit.GCRA(10, time.Hour, 10).By(ratelimit.Global()), 3 * time.Hour},
		{ratelimit.TokenBucket(10, 10.0/3600).By(ratelimit.Global()), 3 * time.Hour},
		{ratelimit.SlidingWindow(10, time.Hour).By(ratelimit.Global()), 2 * time.Hour},
		{ratelimit.FixedWindow(10, time.Hour).By(ratelimit.Global()), time.Hour},
	} {
		for _, batch := range []int{1, 0} {
			t.Run(fmt.Sprintf("%s/batch=%d", tc.l.Algorithm, batch), func(t *testing.T) {
				prefix := testredis.Prefix(t)
				st := newStore(t, redislimit.Options{Client: c, Prefix: prefix, MaxBatch: batch})
				lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{tc.l}, Store: st, Outage: ratelimit.FailClosed})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				for i := range 6 {
					start := time.Now()
					d, err := lim.Allow(ctx, "k")
					if err != nil || !d.Allowed {
						t.Fatalf("request %d: %+v %v", i, d, err)
					}
					if i != 0 && i != 5 {
						continue
					}
					keys, err := c.Do(ctx, c.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
					if err != nil || len(keys) != 1 {
						t.Fatalf("keys %v %v", keys, err)
					}
					ms, err := c.Do(ctx, c.B().Pttl().Key(keys[0]).Build()).AsInt64()
					if err != nil {
						t.Fatal(err)
					}
					// PTTL is read after the decision: the key's TTL has
					// run down by the time between the two on the
					// server, at most the time since Allow was called
					// here, plus PTTL's truncation to milliseconds.
					slack := time.Since(start) + time.Millisecond
					pttl := time.Duration(ms) * time.Millisecond
					if pttl <= 0 || pttl > tc.bound || pttl < d.ResetAfter-slack {
						t.Fatalf("after request %d: PTTL %v, want in [ResetAfter %v, %v]", i, pttl, d.ResetAfter, tc.bound)
					}
				}
			})
		}
	}
}
