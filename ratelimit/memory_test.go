package ratelimit_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// 1,000,000 distinct keys through a limiter capped at 100,000 keys (and
// 300,000 through a sliding log; fewer under the race detector, which
// makes each one slow): the tracked keys and the heap stay within the
// documented bound.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 decisions")
	}
	for _, c := range []struct {
		l     ratelimit.Limit
		total int
	}{{ratelimit.TokenBucket(10, 1).By(ratelimit.Global()), 1_000_000}, {ratelimit.SlidingWindow(5, 5*time.Minute).By(ratelimit.Global()), slidingKeys}} {
		l, total := c.l, c.total
		t.Run(l.Algorithm.String(), func(t *testing.T) {
			const maxKeys = 100_000
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}, MaxKeys: maxKeys})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var buf []byte
			for i := range total {
				buf = strconv.AppendInt(append(buf[:0], "client-"...), int64(i), 10)
				d, err := lim.Allow(ctx, string(buf))
				if err != nil || !d.Allowed {
					t.Fatalf("key %d: %+v %v", i, d, err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			tracked := ratelimit.TrackedKeys(lim)[0]
			if tracked > maxKeys || tracked < maxKeys*9/10 {
				t.Fatalf("tracking %d keys, want at most %d (and close to it)", tracked, maxKeys)
			}
			// The documented figure (the package documentation: 58 bytes
			// per key for the token bucket, 110 + 12×Limit for the sliding
			// window) bounds the heap, and so does the tighter worst case
			// of this machine's table shape.
			documented := ratelimit.MemoryPerKey(l)
			shape := ratelimit.BytesPerKeyBound(lim, 0)
			grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			const noise = 256 << 10 // the runtime's own allocations meanwhile
			t.Logf("%s: %d keys tracked, heap grew %d bytes (%.1f B/key); bound %d B/key on this machine, %d documented",
				l.Algorithm, tracked, grown, float64(grown)/float64(tracked), shape, documented)
			if shape > int(documented) {
				t.Fatalf("this machine's table shape may take %d bytes per key, above the documented %d", shape, documented)
			}
			if bound := int64(maxKeys*shape) + noise; grown > bound {
				t.Fatalf("heap grew %d bytes for %d keys (%.1f B/key), above %d B/key (documented %d B/key)",
					grown, maxKeys, float64(grown)/maxKeys, shape, documented)
			}
			runtime.KeepAlive(lim)
		})
	}
}

// Keys whose state has expired are reclaimed first, and a decision on a
// known key allocates nothing.
func TestMemoryNoAllocs(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.GCRA(1000, time.Second, 1000).By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim.Allow(ctx, "k")
	if n := testing.AllocsPerRun(100, func() { lim.Allow(ctx, "k") }); n != 0 {
		t.Fatalf("%v allocs per decision", n)
	}
	multi, err := ratelimit.New(ratelimit.Options{MaxKeys: 10_000, Limits: []ratelimit.Limit{
		ratelimit.GCRA(1000, time.Second, 1000).Named("a").By(ratelimit.Global()), ratelimit.SlidingWindow(1000, time.Hour).Named("b").By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { multi.Allow(ctx, "k", "j") }); n != 0 {
		t.Fatalf("%v allocs per two-limit decision", n)
	}
}

func TestMemoryEvictsExpiredKeys(t *testing.T) {
	clk := testclock.New(epochHour)
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.SlidingWindow(1, time.Minute).By(ratelimit.Global())}, MaxKeys: 100, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		clk.Set(epochHour.Add(time.Duration(i) * time.Second))
		if d, _ := lim.Allow(ctx, strconv.Itoa(i)); !d.Allowed {
			t.Fatalf("fresh key %d refused", i)
		}
		// The key used 30s ago is still limited: eviction reclaimed
		// expired keys, not live ones.
		if i >= 30 {
			if d, _ := lim.Allow(ctx, strconv.Itoa(i-30)); d.Allowed {
				t.Fatalf("key %d was evicted while live (at %ds)", i-30, i)
			}
		}
	}
	if n := ratelimit.TrackedKeys(lim)[0]; n > 100 {
		t.Fatalf("%d keys tracked, max 100", n)
	}
}

// Keys inserted, evicted and moved (tables growing, backward-shift
// deletion) while decisions on a hot key run concurrently: the hot key's
// limit stays exact, and nothing races (go test -race).
func TestMemoryChurnKeepsHotKeyExact(t *testing.T) {
	for _, hot := range []ratelimit.Limit{ratelimit.GCRA(1, time.Hour, 100).By(ratelimit.Global()), ratelimit.SlidingWindow(100, time.Hour).By(ratelimit.Global())} {
		t.Run(hot.Algorithm.String(), func(t *testing.T) {
			lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{hot}, MaxKeys: 300})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			got := hammer(8, 400, func() bool {
				d, _ := lim.Allow(ctx, "hot")
				return d.Allowed
			})
			var churned atomic.Int64
			admitted := hammer(8, 600, func() bool {
				n := churned.Add(1)
				lim.Allow(ctx, "churn-"+strconv.FormatInt(n, 10)) // a new key each time: inserts, evictions
				d, _ := lim.Allow(ctx, "hot")
				return d.Allowed
			})
			if n := ratelimit.Duplicates(lim); n != 0 {
				t.Fatalf("%d keys held twice", n)
			}
			if got+admitted != 100 {
				t.Fatalf("hot key admitted %d+%d, want exactly 100", got, admitted)
			}
			if n := ratelimit.TrackedKeys(lim)[0]; n > 300 {
				t.Fatalf("%d keys tracked, max 300", n)
			}
		})
	}
}

// A tiny MaxKeys under many concurrent clients: when every key a shard
// holds is in use at the instant a new key needs room, the insertion waits
// for a slot to free up instead of inserting into a full table (which used
// to spin forever holding the shard's mutex). The table stays within
// MaxKeys throughout.
func TestMemoryTinyMaxKeysNeverHangs(t *testing.T) {
	for _, c := range []struct {
		name    string
		maxKeys int
		limits  []ratelimit.Limit
	}{
		{"one key", 1, []ratelimit.Limit{ratelimit.GCRA(1, time.Hour, 10).By(ratelimit.Global())}},
		{"four keys, two limits", 4, []ratelimit.Limit{
			ratelimit.GCRA(1, time.Hour, 10).Named("a").By(ratelimit.Global()), ratelimit.SlidingWindow(3, time.Hour).Named("b").By(ratelimit.Global())}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim, err := ratelimit.New(ratelimit.Options{Limits: c.limits, MaxKeys: c.maxKeys})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				var wg sync.WaitGroup
				for g := range 16 {
					wg.Go(func() {
						for i := range tinyTableRounds {
							// Each goroutine cycles over keys of its own:
							// far more distinct keys than MaxKeys.
							lim.Allow(context.Background(), strconv.Itoa(g*1000+i%7))
						}
					})
				}
				wg.Wait()
			}()
			select {
			case <-done:
			case <-time.After(time.Minute): // the decisions take milliseconds; a hang never ends
				t.Fatal("decisions hung: a full table was inserted into")
			}
			for i, n := range ratelimit.TrackedKeys(lim) {
				if n > c.maxKeys {
					t.Fatalf("limit %d tracks %d keys, MaxKeys %d", i, n, c.maxKeys)
				}
			}
		})
	}
}
