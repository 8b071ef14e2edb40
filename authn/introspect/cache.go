package introspect

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/bulwark-go/bulwark/authn"
)

// digest is the SHA-256 of a token: the only form in which a token is
// kept, in memory and in the shared store.
type digest = [32]byte

// entry is one cached answer. It is immutable once published, but for
// ref, the CLOCK reference bit.
type entry struct {
	key      digest
	deadline int64            // Unix nanoseconds: dead from then on
	p        *authn.Principal // nil for a refusal
	reason   string           // the refusal's reason when p is nil
	ref      atomic.Bool
}

// numShards spreads the cache's locks; a power of two.
const numShards = 16

// clockCache is a bounded map from token digests to answers, evicting
// with the CLOCK algorithm (an approximation of LRU in which a hit only
// sets a bit: reads take a shared lock and write no shared state beyond
// that bit). Expired entries are evicted first when the hand meets them.
type clockCache struct {
	shards [numShards]shard
}

type shard struct {
	mu   sync.RWMutex
	m    map[digest]int // index in ring
	ring []*entry
	max  int
	hand int
}

func newClockCache(size int) *clockCache {
	c := &clockCache{}
	per := (size + numShards - 1) / numShards
	for i := range c.shards {
		c.shards[i] = shard{m: make(map[digest]int, per), max: per}
	}
	return c
}

func (c *clockCache) shard(k *digest) *shard {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])%numShards]
}

// get returns the live entry for k, nil when there is none.
func (c *clockCache) get(k *digest, now int64) *entry {
	s := c.shard(k)
	s.mu.RLock()
	i, ok := s.m[*k]
	var e *entry
	if ok {
		e = s.ring[i]
	}
	s.mu.RUnlock()
	if e == nil || now >= e.deadline {
		return nil
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

// put stores e, replacing the entry of its key or evicting one.
func (c *clockCache) put(e *entry, now int64) {
	s := c.shard(&e.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.m[e.key]; ok {
		s.ring[i] = e
		return
	}
	if len(s.ring) < s.max {
		s.m[e.key] = len(s.ring)
		s.ring = append(s.ring, e)
		return
	}
	// Sweep: clear reference bits until an unreferenced or dead entry is
	// under the hand; at most two turns.
	for range 2 * len(s.ring) {
		v := s.ring[s.hand]
		if now >= v.deadline || !v.ref.Swap(false) {
			break
		}
		s.hand = (s.hand + 1) % len(s.ring)
	}
	delete(s.m, s.ring[s.hand].key)
	s.ring[s.hand] = e
	s.m[e.key] = s.hand
	s.hand = (s.hand + 1) % len(s.ring)
}

// len returns the number of entries, dead ones included.
func (c *clockCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.ring)
		s.mu.RUnlock()
	}
	return n
}

// flight coalesces concurrent misses for one token: the first caller runs
// the introspection, the others wait for its answer.
type flight struct {
	mu    sync.Mutex
	calls map[digest]*call
}

type call struct {
	done chan struct{}
	res  outcome
}

// outcome is the answer to one token: an entry (a principal or a 401
// refusal), or the reason and cause of a 503, which is not cached. Each
// waiter builds its own problem from it: problems are mutable.
type outcome struct {
	e      *entry
	reason string
	cause  error
}

// do runs fn for k unless a call for k is running, and returns its
// outcome; leader reports whether this caller ran it.
func (f *flight) do(k *digest, fn func() outcome) (*call, bool) {
	key := *k
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		return c, false
	}
	c := &call{done: make(chan struct{})}
	if f.calls == nil {
		f.calls = make(map[digest]*call)
	}
	f.calls[key] = c
	f.mu.Unlock()
	go func() {
		defer func() {
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(c.done)
		}()
		c.res = fn()
	}()
	return c, true
}
