package rediskeys

import (
	"fmt"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

func testEntries(t *testing.T, n int) ([]*apikey.Entry, []string) {
	t.Helper()
	h, err := apikey.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	es := make([]*apikey.Entry, n)
	ids := make([]string, n)
	for i := range es {
		_, rec, err := apikey.Generate(h, apikey.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		if es[i], err = apikey.NewEntry(rec); err != nil {
			t.Fatal(err)
		}
		ids[i] = rec.ID
	}
	return es, ids
}

// TestCacheTable: the cache holds at most max entries (evicting one to
// make room), each until its TTL, drops an invalidated ID, refuses a put
// that raced with an invalidation, and caches nothing while not live or
// for IDs of another length.
func TestCacheTable(t *testing.T) {
	es, ids := testEntries(t, 50)
	c := &cache{max: 20, ttl: 100}
	c.put(ids[0], es[0], c.gen.Load(), 0)
	if c.get(ids[0], 0) != nil {
		t.Fatal("cached while not live")
	}
	c.reset(true)
	for i := range ids {
		c.put(ids[i], es[i], c.gen.Load(), 0)
		if c.t.Len() > 20 {
			t.Fatalf("%d entries; max 20", c.t.Len())
		}
		if c.get(ids[i], 0) != es[i] {
			t.Fatalf("entry %d not cached", i)
		}
	}
	held := 0
	for i := range ids {
		if e := c.get(ids[i], 99); e != nil {
			if e != es[i] {
				t.Fatalf("entry %d: another entry", i)
			}
			held++
		}
		if c.get(ids[i], 100) != nil {
			t.Fatalf("entry %d served past its TTL", i)
		}
	}
	if held != 20 {
		t.Fatalf("%d entries found; want 20", held)
	}
	last := ids[len(ids)-1]
	c.invalidate(last)
	if c.get(last, 0) != nil {
		t.Fatal("served after invalidation")
	}
	gen := c.gen.Load()
	c.invalidate(ids[0])
	c.put(last, es[len(es)-1], gen, 0)
	if c.get(last, 0) != nil {
		t.Fatal("a put that raced with an invalidation was cached")
	}
	c.put("short", es[0], c.gen.Load(), 0)
	if c.get("short", 0) != nil {
		t.Fatal("an ID of another length was cached")
	}
	c.reset(true)
	if c.t.Len() != 0 {
		t.Fatal("reset kept entries")
	}
}

// TestCacheConcurrent: gets and prefetches run alongside puts (growing
// the table), invalidations, evictions and resets; a get returns nil or
// the entry of that ID. Run with -race.
func TestCacheConcurrent(t *testing.T) {
	es, ids := testEntries(t, 300)
	s := &Store{cache: cache{max: 200, ttl: 1 << 40}}
	s.cache.reset(true)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for w := range 3 {
		wg.Go(func() {
			for i := range 5000 {
				j := (i*7 + w) % len(ids)
				s.Prefetch(ids[j])
				if e := s.cache.get(ids[j], 0); e != nil && e != es[j] {
					errs <- fmt.Errorf("get(%s) returned another entry", ids[j])
					return
				}
			}
		})
	}
	for i := range 3000 {
		j := i % len(ids)
		s.cache.put(ids[j], es[j], s.cache.gen.Load(), 0)
		switch {
		case i%50 == 0:
			s.cache.invalidate(ids[(i*3)%len(ids)])
		case i%997 == 0:
			s.cache.reset(true)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
