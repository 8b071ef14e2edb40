package memstore

import (
	"runtime"
	"strings"
	"time"
)

// The shards' internals: each shard is a map, an LRU list and an expiry
// heap under one mutex; the janitor sweeps expired entries a shard at a
// time, and a full store makes room by eviction (see the package
// documentation).

// janitor sweeps one shard per tick, so that every shard is swept once
// per interval.
func (s *Store) janitor(interval time.Duration) {
	defer close(s.done)
	tick := max(interval/time.Duration(len(s.shards)), time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	i := 0
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweepShard(i)
			i = (i + 1) & int(s.mask)
		}
	}
}

// sweepShard removes up to maxSweepPerTick expired entries from shard i and
// reports whether more may remain.
func (s *Store) sweepShard(i int) bool {
	sh := &s.shards[i]
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for n := 0; n < maxSweepPerTick; n++ {
		if len(sh.heap) == 0 || sh.heap[0].exp > now {
			return false
		}
		if e := sh.heap[0]; e.deadline() > now {
			sh.settle(e) // extended meanwhile: not expired
			continue
		}
		sh.remove(sh.heap[0])
	}
	return true
}

// setValue turns e into a value entry holding a private copy of v.
func (e *entry) setValue(v []byte) {
	e.kind, e.n = kindValue, 0
	// Reuse the buffer of a previous value (callers only ever get copies of
	// it), unless it is much larger than needed.
	if e.x == nil || e.x.set != nil || cap(e.x.val) > 2*len(v)+64 {
		x := &extra{}
		if e.x != nil {
			x.exp = e.x.exp // keep a lazily extended expiry
		}
		e.x = x
	}
	e.x.val = append(e.x.val[:0], v...)
}

// The methods below require sh.mu.

// get returns the live entry for key, removing it if it has expired.
func (sh *shard) get(key string, now int64) *entry {
	e := sh.m[key]
	if e == nil {
		return nil
	}
	if e.exp <= now {
		if e.deadline() > now {
			sh.settle(e) // extended: live
			return e
		}
		sh.remove(e)
		return nil
	}
	return e
}

// insert adds a new entry for key (which must be absent). When the store is
// full it takes the place of a victim: an expired entry of this shard, else
// its least recently used one, else (an empty shard) one from another shard.
// A NoEvict store takes only expired victims, and insert returns nil when
// there is none.
func (sh *shard) insert(key string, exp, now int64) *entry {
	s := sh.store
	switch {
	case s.reserve():
	case s.noEvict:
		if !sh.evictExpired(now) && !s.evictExpiredElsewhere(sh, now) {
			return nil
		}
	case !sh.evict(now):
		s.evictElsewhere(sh, now)
	}
	// Clone the key: a caller's string may share memory with a much larger
	// one (a request header), which the store must not keep alive.
	e := &entry{key: strings.Clone(key), exp: exp}
	sh.m[e.key] = e
	e.prev, e.next = &sh.root, sh.root.next
	e.next.prev, sh.root.next = e, e
	e.hidx = int32(len(sh.heap))
	sh.heap = append(sh.heap, e)
	sh.up(int(e.hidx))
	return e
}

// reserve counts one more key, unless the store is full.
func (s *Store) reserve() bool {
	for {
		c := s.count.Load()
		if c >= s.maxKeys {
			return false
		}
		if s.count.CompareAndSwap(c, c+1) {
			return true
		}
	}
}

// evict unlinks one entry, the first to expire if it has expired, else the
// least recently used, and leaves its place in the key count to the caller.
// It reports false for an empty shard.
func (sh *shard) evict(now int64) bool {
	if sh.evictExpired(now) {
		return true
	}
	// Each pass either evicts or clears one flag, so this ends within
	// len(sh.m)+1 passes.
	for {
		lru := sh.root.prev
		if lru == &sh.root {
			return false
		}
		if !lru.ref {
			sh.unlink(lru)
			return true
		}
		lru.ref = false
		sh.moveToFront(lru)
	}
}

// evictExpired unlinks this shard's first-expiring entry if it has expired,
// leaving its place in the key count to the caller.
func (sh *shard) evictExpired(now int64) bool {
	for len(sh.heap) > 0 && sh.heap[0].exp <= now {
		e := sh.heap[0]
		if e.deadline() > now {
			sh.settle(e) // extended meanwhile: it moves down, never comes back before its deadline
			continue
		}
		sh.unlink(e)
		return true
	}
	return false
}

// makeRoomElsewhere makes room for one key from outside own (whose lock the
// caller holds): a slot freed meanwhile (other shards may empty
// concurrently through Delete, Take or expiry), or a victim that pick takes
// from another shard, in one pass. It only try-locks, so two shards never
// wait on each other.
func (s *Store) makeRoomElsewhere(own *shard, now int64, pick func(*shard, int64) bool) bool {
	if s.reserve() {
		return true
	}
	for i := range s.shards {
		sh := &s.shards[i]
		if sh == own || !sh.mu.TryLock() {
			continue
		}
		ok := pick(sh, now)
		sh.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// evictExpiredElsewhere makes room for one key without evicting a live
// entry; it reports false when there is neither a free slot nor an expired
// entry to reclaim.
func (s *Store) evictExpiredElsewhere(own *shard, now int64) bool {
	return s.makeRoomElsewhere(own, now, (*shard).evictExpired) || s.reserve()
}

// evictElsewhere makes room for one key, evicting a live entry of another
// shard if it must; the store is full, so some shard holds a key or a slot
// frees up.
func (s *Store) evictElsewhere(own *shard, now int64) {
	for !s.makeRoomElsewhere(own, now, (*shard).evict) {
		runtime.Gosched()
	}
}

// remove deletes e from the shard and the key count.
func (sh *shard) remove(e *entry) {
	sh.unlink(e)
	sh.store.count.Add(-1)
}

// unlink deletes e from the shard's map, LRU list and heap.
func (sh *shard) unlink(e *entry) {
	delete(sh.m, e.key)
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	i, last := int(e.hidx), len(sh.heap)-1
	if i != last {
		sh.swap(i, last)
	}
	sh.heap[last] = nil
	sh.heap = sh.heap[:last]
	if i != last {
		sh.fix(i)
	}
	e.hidx = -1
	e.x = nil
}

// touch marks e as used. Eviction approximates LRU with the CLOCK (second
// chance) algorithm: an access only sets a flag in the entry, rather than
// moving it in a list, which would write to two other entries' memory; the
// eviction hand moves flagged entries to the front as it meets them.
func (sh *shard) touch(e *entry) {
	if !e.ref {
		e.ref = true
	}
}

// moveToFront puts e at the most recent end of the LRU list.
func (sh *shard) moveToFront(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &sh.root, sh.root.next
	e.next.prev, sh.root.next = e, e
}

// setExp makes exp e's expiry. An extension of a value or set is lazy: it
// is recorded in e.x and the heap keeps the earlier bound until it reaches
// the top (get, sweepShard, evictExpired settle it then). An earlier expiry,
// or any change to a counter, fixes the heap now.
func (sh *shard) setExp(e *entry, exp int64) {
	if e.x != nil {
		if exp > e.exp {
			e.x.exp = exp
			return
		}
		e.x.exp = 0
	}
	if e.exp != exp {
		e.exp = exp
		sh.fix(int(e.hidx))
	}
}

// deadline is e's true expiry: its heap key, or a later lazy extension.
func (e *entry) deadline() int64 {
	if e.x != nil && e.x.exp > e.exp {
		return e.x.exp
	}
	return e.exp
}

// settle moves e in the heap to its true expiry.
func (sh *shard) settle(e *entry) {
	if d := e.deadline(); d != e.exp {
		e.exp = d
		sh.fix(int(e.hidx))
	}
}

// Expiry heap: a binary min-heap on exp, positions stored in entry.hidx.

func (sh *shard) swap(i, j int) {
	h := sh.heap
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = int32(i), int32(j)
}

func (sh *shard) fix(i int) {
	if !sh.down(i) {
		sh.up(i)
	}
}

func (sh *shard) up(i int) {
	h := sh.heap
	for i > 0 {
		p := (i - 1) / 2
		if h[p].exp <= h[i].exp {
			return
		}
		sh.swap(i, p)
		i = p
	}
}

func (sh *shard) down(i int) bool {
	h := sh.heap
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && h[r].exp < h[l].exp {
			c = r
		}
		if h[i].exp <= h[c].exp {
			break
		}
		sh.swap(i, c)
		i = c
	}
	return i > start
}
