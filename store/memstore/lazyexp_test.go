package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// A sliding extension does not move the entry in the expiry heap (lazy
// expiry): the entry must nevertheless live until its true deadline on
// every path that meets the stale bound — a read, the sweep, eviction of
// expired entries — and die at it; a shortened TTL, a value replacing a
// set and a value turned counter keep the right deadline.
func TestLazyExpiry(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t, memstore.Options{MaxKeys: 32, SweepInterval: -1})
	check := func() {
		t.Helper()
		if err := s.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}
	add := func(key, m string, ttl time.Duration) {
		t.Helper()
		if err := s.CountDistinct(ctx, []store.DistinctOp{{Key: key, Member: m, TTL: ttl, Sliding: true}}); err != nil {
			t.Fatal(err)
		}
	}
	// Extended at 5 s to 15 s: alive at 12 s on each path, gone at 16 s.
	for _, path := range []string{"read", "sweep", "evict"} {
		s, clock := newTestStore(t, memstore.Options{MaxKeys: 32, Shards: 1, SweepInterval: -1})
		add := func(m string) {
			t.Helper()
			if err := s.CountDistinct(ctx, []store.DistinctOp{{Key: "k", Member: m, TTL: 10 * time.Second, Sliding: true}}); err != nil {
				t.Fatal(err)
			}
		}
		size := func() int64 {
			t.Helper()
			ops := []store.DistinctOp{{Key: "k", TTL: time.Minute}}
			if err := s.CountDistinct(ctx, ops); err != nil {
				t.Fatal(err)
			}
			return ops[0].Size
		}
		add("a")
		clock.Advance(5 * time.Second)
		add("b")
		clock.Advance(7 * time.Second) // 12 s: past the heap's bound
		switch path {
		case "sweep":
			s.Sweep()
		case "evict": // a full store takes an expired victim first
			for i := range 32 {
				if _, err := s.Incr(ctx, fmt.Sprint("fill", i), 1, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		if n := size(); n != 2 {
			t.Fatalf("%s: extended set at 12 s: size %d; want 2", path, n)
		}
		clock.Advance(4 * time.Second) // 16 s
		if n := size(); n != 0 {
			t.Errorf("%s: extended set at 16 s: size %d; want 0 (expired)", path, n)
		}
	}

	// A shorter TTL after an extension wins.
	add("short", "a", time.Minute)
	clock.Advance(time.Second)
	add("short", "b", time.Hour) // lazily extended
	if err := s.Set(ctx, "short", []byte("v"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second)
	if _, ok, _ := s.Get(ctx, "short"); ok {
		t.Error("a value set with a 2 s TTL over an extended set lives 3 s later")
	}
	// A value extended lazily, then turned into a counter, keeps its
	// extension; a value replacing it keeps it too.
	if err := s.Set(ctx, "v", []byte("7"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if err := s.Set(ctx, "v", []byte("8"), 10*time.Second); err != nil { // to 15 s
		t.Fatal(err)
	}
	if n, err := s.Incr(ctx, "v", 1, time.Second); err != nil || n != 9 {
		t.Fatalf("Incr = %d, %v; want 9", n, err)
	}
	clock.Advance(7 * time.Second) // 12 s after the first Set
	if v, ok, _ := s.Get(ctx, "v"); !ok || string(v) != "9" {
		t.Fatalf("counter from an extended value at 12 s: %q, %v; want 9", v, ok)
	}
	clock.Advance(4 * time.Second)
	if _, ok, _ := s.Get(ctx, "v"); ok {
		t.Error("counter lives past its deadline")
	}
	check()
}
