package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/storetest"
)

// bytesPerKey bounds the memory per live counter key after churn: the
// package doc says about 170 bytes; this allows a 40% margin.
const bytesPerKey = 240

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, clock *storetest.Clock) store.Store {
			return memstore.New(memstore.Options{Now: clock.Now})
		},
	})
}

// TestConformanceSmall runs the suite on one small shard without a janitor,
// where the suite's own keys exercise eviction.
func TestConformanceSmall(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, clock *storetest.Clock) store.Store {
			s := memstore.New(memstore.Options{MaxKeys: 64, Now: clock.Now, SweepInterval: -1})
			t.Cleanup(func() {
				if err := s.CheckInvariants(); err != nil {
					t.Error(err)
				}
			})
			return s
		},
	})
}

// TestConformanceNoEvict runs the suite on a NoEvict store: below its cap it
// behaves like any other.
func TestConformanceNoEvict(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, clock *storetest.Clock) store.Store {
			return memstore.New(memstore.Options{NoEvict: true, Now: clock.Now})
		},
	})
}

// A NoEvict store refuses new keys when full instead of forgetting live
// ones (a revocation must not be evicted by a flood of logins), reclaims
// expired entries from any shard, and accepts writes to existing keys.
func TestNoEvict(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t, memstore.Options{MaxKeys: 64, NoEvict: true, SweepInterval: -1})
	if s.NumShards() != 2 {
		t.Fatalf("%d shards; the test wants two", s.NumShards())
	}
	for i := range 64 {
		ttl := time.Hour
		if i == 7 {
			ttl = time.Second
		}
		if err := s.Set(ctx, fmt.Sprint("live", i), []byte("revoked"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	full := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, memstore.ErrFull) || !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("%s on a full NoEvict store: %v; want ErrFull (and ErrUnavailable)", op, err)
		}
	}
	_, err := s.Incr(ctx, "new-counter", 1, time.Hour)
	full("Incr", err)
	full("Set", s.Set(ctx, "new-value", []byte("x"), time.Hour))
	_, err = s.SetNX(ctx, "new-nx", []byte("x"), time.Hour)
	full("SetNX", err)
	_, err = s.AddToSet(ctx, "new-set", "m", time.Hour)
	full("AddToSet", err)
	for i := range 64 {
		if _, ok, _ := s.Get(ctx, fmt.Sprint("live", i)); !ok {
			t.Fatalf("live%d was evicted", i)
		}
	}
	if err := s.Set(ctx, "live3", []byte("updated"), time.Hour); err != nil {
		t.Fatalf("update of an existing key refused: %v", err)
	}
	// live7 expires: its place, in whichever shard, takes new keys, one.
	clock.Advance(2 * time.Second)
	for i := range 2 {
		err := s.Set(ctx, fmt.Sprint("after-expiry", i), []byte("x"), time.Hour)
		if i == 0 && err != nil {
			t.Fatalf("the expired key's place was not reused: %v", err)
		}
		if i == 1 {
			full("Set after the one expired slot was used", err)
		}
	}
	if err := s.Delete(ctx, "live0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "after-delete", []byte("x"), time.Hour); err != nil {
		t.Fatalf("a deleted key's place was not reused: %v", err)
	}
}

// Inserts into a full store while other goroutines empty it must never
// hang: an evicting insert whose victims vanish takes the freed slot.
func TestFullStoreChurnNeverHangs(t *testing.T) {
	for _, noEvict := range []bool{false, true} {
		s := memstore.New(memstore.Options{MaxKeys: 64, Shards: 2, SweepInterval: -1, NoEvict: noEvict})
		ctx := context.Background()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20000 {
					k := fmt.Sprint(g, "-", i%200)
					if g%2 == 0 {
						_, _ = s.Incr(ctx, k, 1, time.Hour)
					} else {
						_ = s.Delete(ctx, k)
						_, _, _ = s.Take(ctx, fmt.Sprint(g-1, "-", i%200))
					}
				}
			}()
		}
		wg.Wait()
		if err := s.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

func newTestStore(t *testing.T, opts memstore.Options) (*memstore.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(time.Unix(1_700_000_000, 0))
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	s := memstore.New(opts)
	t.Cleanup(func() {
		if err := s.CheckInvariants(); err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return s, clock
}

func TestShards(t *testing.T) {
	for _, tc := range []struct {
		opts memstore.Options
		want int
	}{
		{memstore.Options{}, 64},
		{memstore.Options{Shards: 3}, 4},
		{memstore.Options{Shards: 100}, 128},
		{memstore.Options{Shards: 1 << 20, MaxKeys: 1 << 30}, 4096},
		{memstore.Options{MaxKeys: 100}, 2},
		{memstore.Options{MaxKeys: 10}, 1},
		{memstore.Options{Shards: -5, MaxKeys: -1}, 64},
	} {
		s := memstore.New(tc.opts)
		if got := s.NumShards(); got != tc.want {
			t.Errorf("%+v: %d shards; want %d", tc.opts, got, tc.want)
		}
		s.Close()
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, memstore.Options{MaxKeys: 32, SweepInterval: -1})
	for i := range 32 {
		if _, err := s.Incr(ctx, fmt.Sprint("k", i), 1, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Get(ctx, "k0"); err != nil { // k0 is now the most recent
		t.Fatal(err)
	}
	if err := s.Set(ctx, "new", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 32 {
		t.Fatalf("Len = %d; want 32", n)
	}
	if _, ok, _ := s.Get(ctx, "k1"); ok {
		t.Fatal("k1, the least recently used key, was not evicted")
	}
	for _, k := range []string{"k0", "k2", "k31", "new"} {
		if _, ok, _ := s.Get(ctx, k); !ok {
			t.Fatalf("%s was evicted", k)
		}
	}
}

func TestEvictsExpiredFirst(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t, memstore.Options{MaxKeys: 32, SweepInterval: -1})
	for i := range 32 {
		ttl := time.Hour
		if i == 20 {
			ttl = time.Second
		}
		if _, err := s.Incr(ctx, fmt.Sprint("k", i), 1, ttl); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second)
	if err := s.Set(ctx, "new", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	// k0 is the least recently used, but the expired k20 goes first.
	for i := range 32 {
		_, ok, _ := s.Get(ctx, fmt.Sprint("k", i))
		if ok != (i != 20) {
			t.Errorf("k%d present = %v", i, ok)
		}
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t, memstore.Options{SweepInterval: -1})
	for i := range 1000 {
		ttl := time.Minute
		if i%2 == 0 {
			ttl = time.Second
		}
		if err := s.Set(ctx, strconv.Itoa(i), []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	s.Sweep()
	if n := s.Len(); n != 1000 {
		t.Fatalf("Len after an early sweep = %d; want 1000", n)
	}
	clock.Advance(2 * time.Second)
	s.Sweep()
	if n := s.Len(); n != 500 {
		t.Fatalf("Len after sweeping expired entries = %d; want 500", n)
	}
}

// TestJanitor checks that the background janitor reclaims expired entries
// and that Close stops it: synctest.Test fails if a goroutine it started is
// still blocked when the test function returns.
func TestJanitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := memstore.New(memstore.Options{SweepInterval: 640 * time.Millisecond})
		defer s.Close()
		for i := range 1000 {
			if _, err := s.Incr(ctx, strconv.Itoa(i), 1, time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Incr(ctx, "long", 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if n := s.Len(); n != 1001 {
			t.Fatalf("Len before expiry = %d; want 1001", n)
		}
		time.Sleep(1500 * time.Millisecond) // a full pass (640ms) after expiry
		if n := s.Len(); n != 1 {
			t.Fatalf("Len after the janitor's sweep = %d; want 1", n)
		}
	})
}

// Close stops the janitor and waits for it: inside a synctest bubble, a
// janitor still running when the function returns fails the test ("deadlock:
// main bubble goroutine has exited but blocked goroutines remain"). Counting
// runtime.NumGoroutine instead is flaky, since the test binary starts
// goroutines of its own.
func TestCloseStopsJanitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stores []*memstore.Store
		for range 20 {
			stores = append(stores, memstore.New(memstore.Options{SweepInterval: time.Millisecond}))
		}
		time.Sleep(10 * time.Millisecond) // let every janitor tick a few times
		for _, s := range stores {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil { // idempotent
				t.Fatal(err)
			}
		}
	})
}

func TestSetMembersCapped(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, memstore.Options{MaxSetMembers: 3})
	var size int64
	for i := range 5 {
		var err error
		if size, err = s.AddToSet(ctx, "s", strconv.Itoa(i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if size != 3 {
		t.Fatalf("size = %d; want it saturated at 3", size)
	}
	if ok, _ := s.IsMember(ctx, "s", "4"); ok {
		t.Fatal("a member beyond the cap was stored")
	}
	if ok, _ := s.IsMember(ctx, "s", "0"); !ok {
		t.Fatal("an early member was lost")
	}
}

func TestIncrOverflow(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, memstore.Options{})
	if _, err := s.Incr(ctx, "c", 1<<62, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "c", 1<<62, time.Minute); !errors.Is(err, memstore.ErrNotInteger) {
		t.Fatalf("overflowing Incr: err = %v; want ErrNotInteger", err)
	}
	if n, _ := s.Incr(ctx, "c", 0, time.Minute); n != 1<<62 {
		t.Fatalf("counter changed by a refused Incr: %d", n)
	}
	// A TTL so long it would overflow the clock saturates instead.
	if _, err := s.Incr(ctx, "forever", 1, time.Duration(1<<63-1)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Incr(ctx, "forever", 1, time.Minute); n != 2 {
		t.Fatalf("counter with the longest TTL = %d; want 2", n)
	}
}

func TestIncrDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, memstore.Options{})
	if _, err := s.Incr(ctx, "counter", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := s.Incr(ctx, "counter", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Incr on an existing key: %v allocs/op; want 0", n)
	}
}

// TestBounded inserts ten times more distinct keys than the store may hold:
// the key count never exceeds the cap and the heap stays within the
// documented per-key figure.
func TestBounded(t *testing.T) {
	const maxKeys = 100_000
	inserts := 1_000_000
	if raceEnabled {
		inserts = 300_000 // still 3× the cap, in a fraction of the time
	}
	ctx := context.Background()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	s, clock := newTestStore(t, memstore.Options{MaxKeys: maxKeys, SweepInterval: -1})
	buf := make([]byte, 0, 32)
	for i := range inserts {
		buf = strconv.AppendInt(append(buf[:0], "client:"...), int64(1_000_000_000+i), 10) // 17 bytes
		if _, err := s.Incr(ctx, string(buf), 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		if i%50_000 == 0 {
			clock.Advance(time.Second)
			if n := s.Len(); n > maxKeys {
				t.Fatalf("after %d inserts Len = %d > cap %d", i+1, n, maxKeys)
			}
		}
	}
	if n := s.Len(); n != maxKeys {
		t.Fatalf("Len = %d; want exactly the cap %d", n, maxKeys)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / maxKeys
	t.Logf("%d inserts: %d keys, %d bytes/key (heap)", inserts, s.Len(), perKey)
	if perKey > bytesPerKey {
		t.Fatalf("%d bytes per key; documented bound %d", perKey, bytesPerKey)
	}
	// The most recent keys survived.
	last := "client:" + strconv.Itoa(1_000_000_000+inserts-1)
	if n, _ := s.Incr(ctx, last, 0, time.Hour); n != 1 {
		t.Fatalf("the newest key was evicted (count %d)", n)
	}
	runtime.KeepAlive(s)
}

// TestConcurrentMixed hammers a small store from many goroutines with every
// operation, evictions, sweeps and expiries at once; run it with -race.
func TestConcurrentMixed(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t, memstore.Options{MaxKeys: 256, Shards: 4, SweepInterval: time.Millisecond})
	const workers = 8
	ops := 3000
	if raceEnabled {
		ops = 1500
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				key := strconv.Itoa((i * 7 * (w + 1)) % 600)
				ttl := time.Duration(1+i%5) * time.Second
				var err error
				switch i % 10 {
				case 0:
					_, err = s.Incr(ctx, "c"+key, 1, ttl)
				case 1:
					err = s.Set(ctx, "v"+key, []byte(key), ttl)
				case 2:
					var v []byte
					var ok bool
					if v, ok, err = s.Get(ctx, "v"+key); ok && string(v) != key {
						err = fmt.Errorf("Get(v%s) = %q", key, v)
					}
				case 3:
					_, err = s.SetNX(ctx, "v"+key, []byte(key), ttl)
				case 4:
					_, _, err = s.Take(ctx, "v"+key)
				case 5:
					_, err = s.AddToSet(ctx, "s"+key, strconv.Itoa(i%13), ttl)
				case 6:
					_, err = s.SetSize(ctx, "s"+key)
				case 7:
					_, err = s.IsMember(ctx, "s"+key, "3")
				case 8:
					err = s.Delete(ctx, "c"+key)
				case 9:
					if w == 0 {
						clock.Advance(100 * time.Millisecond)
						s.Sweep()
					}
					if n := s.Len(); n > 256 {
						err = fmt.Errorf("Len = %d > 256", n)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func BenchmarkIncrParallel(b *testing.B) {
	const keys = 100_000
	ctx := context.Background()
	s := memstore.New(memstore.Options{})
	defer s.Close()
	names := make([]string, keys)
	for i := range names {
		names[i] = "ratelimit:203.0.113." + strconv.Itoa(i)
		if _, err := s.Incr(ctx, names[i], 1, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	parallelOver(b, keys, 7919, func(i int) error {
		_, err := s.Incr(ctx, names[i], 1, time.Hour)
		return err
	})
}

// parallelOver runs op from RunParallel's goroutines over the indexes
// 0..n-1, the g-th goroutine starting at g×stride (mod n), so that they
// work on different keys.
func parallelOver(b *testing.B, n, stride int, op func(i int) error) {
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)-1) * stride % n
		for pb.Next() {
			if i++; i == n {
				i = 0
			}
			if err := op(i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkIncrOneKeyParallel(b *testing.B) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{})
	defer s.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Incr(ctx, "hot", 1, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInsertEvictParallel inserts distinct keys into a full store, so
// every operation evicts: the cost of an attacker inventing client keys.
func BenchmarkInsertEvictParallel(b *testing.B) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{MaxKeys: 10_000})
	defer s.Close()
	names := make([]string, 1<<20)
	for i := range names {
		names[i] = "client:" + strconv.Itoa(i)
	}
	parallelOver(b, len(names), 1<<18, func(i int) error {
		_, err := s.Incr(ctx, names[i], 1, time.Minute)
		return err
	})
}

func BenchmarkSetGetParallel(b *testing.B) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{})
	defer s.Close()
	value := make([]byte, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			key := names64[i&63]
			if err := s.Set(ctx, key, value, time.Minute); err != nil {
				b.Error(err)
				return
			}
			if _, _, err := s.Get(ctx, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var names64 = func() []string {
	n := make([]string, 64)
	for i := range n {
		n[i] = "session:" + strconv.Itoa(i)
	}
	return n
}()
