package ratelimit

import (
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/internal/prefetch"
)

// The in-process state of one Limit: a hash table of keys, split into
// shards. Each shard is an open-addressing table (linear probing,
// backward-shift deletion) over a flat []int64, so that a decision on a
// known key allocates nothing and touches one cache line.
//
// Slot layouts (one int64 per field):
//
//	token bucket, GCRA: [key, tat]               tat = theoretical arrival time
//	fixed window:       [key, end, count]        end = end of the current window
//	sliding window:     [key, expires, ring, head] ring = the key's timestamp ring
//
// Field 1 is always the instant after which the key's state is
// indistinguishable from a fresh key's: the table evicts such keys first.
//
// Concurrency. Word 0 of a slot holds the key's hash with bit 0 clear, and
// bit 0 is the slot's lock. A decision on a known key finds its slot
// without any shard-wide lock (probing with atomic loads), locks the slot
// with one compare-and-swap, and updates the state under it: two decisions
// share a cache line only when they concern the same key. Structural
// changes — inserting a key, evicting one, growing the table — take the
// shard's mutex, and move or clear a slot only while holding its lock.
// A probe that misses, or whose slot changed under it, retries under the
// mutex, so a concurrent change is never mistaken for an absent key.

// never is the timestamp of an empty sliding-log entry and the TAT of a
// fresh key: far enough in the past to be expired at any clock reading.
const never = math.MinInt64 / 4

// maxLimitsPerLimiter bounds the limits one Limiter decides together, so
// that their scratch space lives on the stack.
const maxLimitsPerLimiter = 8

const lockBit = 1

// slotHash turns a 64-bit key hash into a slot's word 0: bit 0 is the lock
// and 0 means empty.
func slotHash(h uint64) int64 {
	v := int64(h &^ lockBit)
	if v == 0 {
		v = 2
	}
	return v
}

// lockSlot spins until it holds the lock of slot word w for key hv; it
// returns false, without the lock, if the slot stops holding hv.
func lockSlot(w *int64, hv int64) bool {
	for spins := 0; ; spins++ {
		v := atomic.LoadInt64(w)
		if v&^lockBit != hv {
			return false
		}
		if v&lockBit == 0 && atomic.CompareAndSwapInt64(w, v, v|lockBit) {
			return true
		}
		if spins >= 16 {
			runtime.Gosched()
		}
	}
}

func unlockSlot(w *int64, hv int64) { atomic.StoreInt64(w, hv) }

// memoryTable holds the state of one limit.
//
// Keys are hashed with a per-process random seed (hash/maphash) and only
// 63 bits of the hash are stored (bit 0 is the slot's lock): memory per key
// is fixed whatever the key's length, no client identifier is kept, and two
// keys share state only if their hashes collide — for 100,000 tracked keys,
// a probability of about 5.4·10⁻¹⁰ (n²/2⁶⁴), which an attacker cannot aim
// at without the seed.
type memoryTable struct {
	alg      Algorithm
	limit    int64 // units
	interval int64 // ns: refill interval T (token bucket, GCRA) or window (windows)
	capacity int64 // ns: limit × T (token bucket, GCRA)
	stride   uint64
	perShard int // most keys a shard holds (MaxKeys/shards with room for imbalance)
	maxSlots int // most slots a shard's table grows to (a power of two)
	maxKeys  int64
	nshards  int
	shards   []memShard
	_        [64]byte
	count    atomic.Int64 // keys held, all shards: at most maxKeys
	_        [56]byte
}

// slotTable is one generation of a shard's hash table; growing replaces it.
type slotTable struct {
	mask  uint64
	words []int64
}

// ringsPerChunk is how many sliding-window rings one allocation holds at
// most. Rings never move once allocated, so a decision can use its ring
// while another key's insertion adds a chunk. A shard never allocates more
// rings than the keys it may hold (perShard), and uses the whole capacity
// Go rounds an allocation up to, so the rings cost little beyond their
// timestamps. A ring is referred to by chunk<<32 | index in the chunk.
const ringsPerChunk = 64

type ringChunks struct{ chunks [][]int64 }

type memShard struct {
	tab   atomic.Pointer[slotTable]  // read by every decision
	rings atomic.Pointer[ringChunks] // sliding window
	_     [48]byte
	mu    sync.Mutex // structural changes
	n     int        // keys held
	hand  uint64     // rotating position for eviction
	free  int64      // sliding window: 1 + the first free ring (0: none); each free ring's word 0 links to the next
	next  int32      // sliding window: next unused ring of the last chunk
	alloc int32      // sliding window: rings allocated
	_     [64]byte
}

// memoryStore is the default, in-process Store: one table per limit.
type memoryStore struct {
	seed   maphash.Seed
	tables []*memoryTable
}

func newMemoryStore(limits []Limit, maxKeys int) *memoryStore {
	s := &memoryStore{seed: maphash.MakeSeed()}
	for i := range limits {
		s.tables = append(s.tables, newMemoryTable(&limits[i], maxKeys, runtime.GOMAXPROCS(0)))
	}
	return s
}

// shardCount picks a power of two of shards: enough that structural
// changes rarely contend, few enough that small tables are not all slack.
// (tableShape may then add some, to halve the size of each shard's table.)
func shardCount(maxKeys, procs int) int {
	n := 1 << bits.Len(uint(procs*16-1))
	n = max(n, 16)
	for n > 1 && maxKeys/n < 64 {
		n /= 2
	}
	return min(n, 1024)
}

func newMemoryTable(l *Limit, maxKeys, procs int) *memoryTable {
	t := tableShape(l, maxKeys, procs)
	t.shards = make([]memShard, t.nshards)
	initial := uint64(min(t.maxSlots, 64))
	for i := range t.shards {
		sh := &t.shards[i]
		sh.tab.Store(&slotTable{mask: initial - 1, words: make([]int64, initial*t.stride)})
		sh.rings.Store(&ringChunks{})
	}
	return t
}

// tableShape returns the parameters of a table for l, without its shards.
func tableShape(l *Limit, maxKeys, procs int) *memoryTable {
	// Keys do not spread evenly: give each shard a quarter more than its
	// share, while count holds the total to maxKeys.
	perShard := func(n int) int { return max(1, (maxKeys*5/4+n-1)/n) }
	// Load factor at most 3/4 when full.
	slots := func(perShard int) int { return 1 << bits.Len(uint(perShard*4/3)) }
	n := shardCount(maxKeys, procs)
	// Tables are powers of two, so a shard's may be up to half slack when
	// full. Fewer than twice as many shards may fit in tables of half the
	// size: less memory in all, and fewer cache lines for decisions to
	// miss (at 100,000 keys on 2 CPUs, 41 shards of 4,096 slots instead of
	// 32 of 8,192). Only for large shards (1,024 keys each on average), so
	// that the quarter of headroom still dwarfs the uneven spread. (Shards
	// need not be a power of two: see shard.)
	for m := n + 1; m < 2*n && m <= 1024 && maxKeys/m >= 1024; m++ {
		if slots(perShard(m)) < slots(perShard(n)) {
			n = m
			break
		}
	}
	t := &memoryTable{
		alg:      l.Algorithm,
		limit:    int64(l.Limit),
		interval: int64(l.Interval()),
		perShard: perShard(n),
		maxSlots: slots(perShard(n)),
		maxKeys:  int64(maxKeys),
		nshards:  n,
	}
	switch l.Algorithm {
	case AlgTokenBucket, AlgGCRA:
		t.stride = 2
		t.capacity = t.limit * t.interval
	case AlgFixedWindow:
		t.stride = 3
	case AlgSlidingWindow:
		t.stride = 4
	}
	return t
}

// shard returns the shard of key hash h, chosen by its top 32 bits (a
// table's slot by its low bits): h>>32 scaled to the number of shards.
func (t *memoryTable) shard(h uint64) *memShard {
	return &t.shards[(h>>32)*uint64(len(t.shards))>>32]
}

// bytesPerKeyBound is the most memory the table takes per key when it
// tracks maxKeys keys: every shard at its largest (the hash table's slack,
// the shards' imbalance and Go's rounding of allocations included), its
// structures included, divided by maxKeys. It does not allocate the table:
// tests compare it with the documented memoryPerKey over many shapes.
func (t *memoryTable) bytesPerKeyBound() int {
	b := allocSize(t.maxSlots*int(t.stride)*8) + int(unsafe.Sizeof(slotTable{})+unsafe.Sizeof(ringChunks{}))
	if t.alg == AlgSlidingWindow {
		// The rings, as newRing allocates them for perShard keys, and the
		// chunk list (the last one: earlier ones are garbage).
		L := int(t.limit)
		chunks, n := 0, 0
		if full := allocSize(ringsPerChunk * L * 8); t.perShard >= ringsPerChunk {
			per := full / (L * 8) // rings in a full chunk
			chunks = (t.perShard-ringsPerChunk)/per + 1
			b += chunks * full
			n = chunks * per
		}
		for ; n < t.perShard; chunks++ {
			sz := allocSize(min(ringsPerChunk, t.perShard-n) * L * 8)
			b += sz
			n += sz / (L * 8)
		}
		b += allocSize(chunks * int(unsafe.Sizeof([]int64(nil))))
	}
	n := t.nshards
	total := b*n + allocSize(n*int(unsafe.Sizeof(memShard{}))) + int(unsafe.Sizeof(memoryTable{}))
	return (total + int(t.maxKeys) - 1) / int(t.maxKeys)
}

// memoryPerKey is the documented bound on the memory one tracked key of a
// limit takes in the in-process state, with the table full, for MaxKeys of
// 10,000 or more on any GOMAXPROCS (TestMemoryPerKeyBound checks it against
// bytesPerKeyBound over those shapes; TestMemoryBound against the heap).
func memoryPerKey(alg Algorithm, limit int) int64 {
	switch alg {
	case AlgFixedWindow:
		return 84
	case AlgSlidingWindow:
		return 110 + 12*int64(limit)
	}
	return 58
}

// allocSize is what the Go runtime allocates for n bytes: small sizes are
// rounded up to a size class, large ones to whole 8 KiB pages.
func allocSize(n int) int {
	if n <= 32<<10 {
		return cap(slices.Grow([]byte(nil), n))
	}
	return (n + 8191) &^ 8191
}

// acquire returns the slot of key hv, locked, inserting the key if it is
// new. The caller releases it with unlockSlot.
func (t *memoryTable) acquire(sh *memShard, hv, now int64) (*slotTable, uint64) {
	tab := sh.tab.Load()
	i := uint64(hv) & tab.mask
	for {
		w := &tab.words[i*t.stride]
		v := atomic.LoadInt64(w)
		if v&^lockBit == hv {
			if v == hv && atomic.CompareAndSwapInt64(w, hv, hv|lockBit) || lockSlot(w, hv) {
				if sh.tab.Load() == tab {
					return tab, i
				}
				unlockSlot(w, hv) // the table grew meanwhile
			}
			break
		}
		if v&^lockBit == 0 {
			break
		}
		i = (i + 1) & tab.mask
	}
	return t.acquireSlow(sh, hv, now)
}

// acquireSlow finds or inserts key hv under the shard's mutex. When the
// shard is full and every key it holds is in use by a decision at that
// instant, no key can be evicted to make room: it then releases the mutex,
// yields, and tries again. A decision holds a slot only while it checks and
// charges it, and never needs this shard's mutex to release it (a request of
// several limits locks their slots in table order, so no cycle can form), so
// a slot frees up soon; a key is never inserted without room for it, and the
// table never exceeds its bounds.
func (t *memoryTable) acquireSlow(sh *memShard, hv, now int64) (*slotTable, uint64) {
	for {
		if tab, i, ok := t.findOrInsert(sh, hv, now); ok {
			return tab, i
		}
		runtime.Gosched()
	}
}

// findOrInsert is one attempt of acquireSlow; it reports false, having
// changed nothing, when the key is new and no room could be made for it.
func (t *memoryTable) findOrInsert(sh *memShard, hv, now int64) (*slotTable, uint64, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tab := sh.tab.Load()
	i := uint64(hv) & tab.mask
	for {
		w := &tab.words[i*t.stride]
		v := atomic.LoadInt64(w)
		if v == 0 {
			break
		}
		if v&^lockBit == hv && lockSlot(w, hv) { // under mu the key cannot move
			return tab, i, true
		}
		i = (i + 1) & tab.mask
	}
	// A new key. A full table first drops one key, preferring one whose
	// state has expired (forgetting it changes no decision); expired keys
	// are otherwise left in place, so a client that comes back finds its
	// slot.
	// The new key's place in the total is reserved first, so that
	// concurrent insertions in other shards cannot overshoot maxKeys.
	if t.count.Add(1) > t.maxKeys && sh.n > 0 || sh.n >= t.perShard {
		if !t.evict(sh, now) {
			t.count.Add(-1)
			return nil, 0, false
		}
	}
	// Now sh.n < perShard < maxSlots×3/4: the table has a free slot, once
	// grown if it must be.
	if (sh.n+1)*4 > int(tab.mask+1)*3 && int(tab.mask+1) < t.maxSlots {
		t.grow(sh)
		tab = sh.tab.Load()
	}
	i = uint64(hv) & tab.mask
	for atomic.LoadInt64(&tab.words[i*t.stride]) != 0 {
		i = (i + 1) & tab.mask
	}
	w := &tab.words[i*t.stride]
	atomic.StoreInt64(w, lockBit) // taken but still empty to probes, which then wait for mu
	s := tab.words[i*t.stride : (i+1)*t.stride]
	switch t.alg {
	case AlgTokenBucket, AlgGCRA:
		s[1] = never
	case AlgFixedWindow:
		s[1], s[2] = never, 0
	case AlgSlidingWindow:
		s[1], s[3] = never, 0
		s[2] = t.newRing(sh)
	}
	atomic.StoreInt64(w, hv|lockBit)
	sh.n++
	return tab, i, true
}

// ring returns the timestamp ring r (chunk<<32 | index in the chunk).
func (t *memoryTable) ring(sh *memShard, r int64) []int64 {
	L := t.limit
	c := sh.rings.Load().chunks[r>>32]
	o := (r & (1<<32 - 1)) * L
	return c[o : o+L : o+L]
}

// newRing hands out a ring of never-entries; sh.mu is held. Rings in use
// never outnumber the shard's keys, so at most perShard are ever allocated.
func (t *memoryTable) newRing(sh *memShard) int64 {
	var r int64
	if sh.free != 0 {
		r = sh.free - 1
		sh.free = t.ring(sh, r)[0]
	} else {
		old := sh.rings.Load()
		c := len(old.chunks) - 1
		if c < 0 || int64(sh.next+1)*t.limit > int64(len(old.chunks[c])) {
			// A new chunk: no more rings than the shard may still need,
			// and every ring that the allocation's rounding makes room for.
			want := max(1, min(ringsPerChunk, t.perShard-int(sh.alloc)))
			buf := slices.Grow([]int64(nil), want*int(t.limit))
			buf = buf[:int64(cap(buf))/t.limit*t.limit]
			chunks := append(old.chunks[:len(old.chunks):len(old.chunks)], buf)
			sh.rings.Store(&ringChunks{chunks: chunks})
			sh.alloc += int32(int64(len(buf)) / t.limit)
			c, sh.next = c+1, 0
		}
		r = int64(c)<<32 | int64(sh.next)
		sh.next++
	}
	for j, ring := 0, t.ring(sh, r); j < len(ring); j++ {
		ring[j] = never
	}
	return r
}

// evict removes one key; sh.mu is held (the package documentation states
// this policy: keep the two in step). It takes the first key holding no
// units (its state has expired: forgetting it changes no decision) among
// up to 16 held keys after the hand, else, of the first 8 of them, the one
// holding the fewest units — whose loss admits the least. A key over its
// limit holds many units, so flooding the table with new keys does not
// buy a limited client a fresh quota while lighter keys remain. Keys in
// use at that instant are passed over; evict reports false when every key
// of the shard was, and so nothing was removed.
func (t *memoryTable) evict(sh *memShard, now int64) bool {
	tab := sh.tab.Load()
	best, bestUse, bestHash := uint64(math.MaxUint64), int64(math.MaxInt64), int64(0)
	seen := 0
	for j := uint64(1); j <= tab.mask+1 && seen < 16; j++ {
		i := (sh.hand + j) & tab.mask
		w := &tab.words[i*t.stride]
		v := atomic.LoadInt64(w)
		if v == 0 || v&lockBit != 0 || !atomic.CompareAndSwapInt64(w, v, v|lockBit) {
			continue // empty, or in use
		}
		seen++
		if tab.words[i*t.stride+1] <= now { // expired: holds nothing
			sh.hand = i
			t.remove(sh, tab, i)
			return true
		}
		if seen <= 8 {
			if use := t.usage(sh, tab, i, now); use < bestUse {
				best, bestUse, bestHash = i, use, v
			}
		}
		unlockSlot(w, v)
	}
	if best != math.MaxUint64 && lockSlot(&tab.words[best*t.stride], bestHash) {
		sh.hand = best
		t.remove(sh, tab, best)
		return true
	}
	return false
}

// usage measures what the key in slot i (locked, not expired) holds now:
// the more its limit is used, the more.
func (t *memoryTable) usage(sh *memShard, tab *slotTable, i uint64, now int64) int64 {
	s := tab.words[i*t.stride : (i+1)*t.stride]
	switch t.alg {
	case AlgTokenBucket, AlgGCRA:
		return s[1] - now // the time its used units take to refill
	case AlgFixedWindow:
		return s[2]
	default:
		var r Result
		slidingState(t.ring(sh, s[2]), int(s[3]), now, t.interval, &r)
		return t.limit - int64(r.Remaining) // units in the window
	}
}

// remove deletes the key in slot i, which the caller has locked, by
// backward-shift deletion (no tombstones accumulate); sh.mu is held. Each
// entry moved into the hole is locked while it moves.
func (t *memoryTable) remove(sh *memShard, tab *slotTable, i uint64) {
	stride := t.stride
	if t.alg == AlgSlidingWindow {
		r := tab.words[i*stride+2] // onto the free list, linked through the ring itself
		t.ring(sh, r)[0] = sh.free
		sh.free = r + 1
	}
	j := i
	for {
		j = (j + 1) & tab.mask
		w := &tab.words[j*stride]
		v := atomic.LoadInt64(w)
		if v == 0 {
			break
		}
		h := v &^ lockBit
		lockSlot(w, h)            // cannot fail: under mu the key stays
		k := uint64(h) & tab.mask // home slot of the entry at j
		// Leave it if its home lies cyclically in (i, j].
		if i <= j && i < k && k <= j || i > j && (i < k || k <= j) {
			unlockSlot(w, h)
			continue
		}
		copy(tab.words[i*stride+1:(i+1)*stride], tab.words[j*stride+1:(j+1)*stride])
		unlockSlot(&tab.words[i*stride], h) // the entry now lives at i; j is the hole, still locked
		i = j
	}
	clear(tab.words[i*stride+1 : (i+1)*stride])
	atomic.StoreInt64(&tab.words[i*stride], 0)
	sh.n--
	t.count.Add(-1)
}

// grow doubles the shard's table; sh.mu is held. Every held slot of the
// old table is locked while the entries are copied, and unlocked only once
// the new table is published: a decision that then takes an old slot sees
// that the table changed and retries.
func (t *memoryTable) grow(sh *memShard) {
	stride := t.stride
	old := sh.tab.Load()
	for i := uint64(0); i <= old.mask; i++ {
		w := &old.words[i*stride]
		if v := atomic.LoadInt64(w); v != 0 {
			lockSlot(w, v&^lockBit)
		}
	}
	slots := (old.mask + 1) * 2
	nt := &slotTable{mask: slots - 1, words: make([]int64, slots*stride)}
	for i := uint64(0); i <= old.mask; i++ {
		h := atomic.LoadInt64(&old.words[i*stride]) &^ lockBit
		if h == 0 {
			continue
		}
		j := uint64(h) & nt.mask
		for nt.words[j*stride] != 0 {
			j = (j + 1) & nt.mask
		}
		copy(nt.words[j*stride+1:(j+1)*stride], old.words[i*stride+1:(i+1)*stride])
		nt.words[j*stride] = h
	}
	sh.tab.Store(nt)
	for i := uint64(0); i <= old.mask; i++ {
		w := &old.words[i*stride]
		if v := atomic.LoadInt64(w); v != 0 {
			unlockSlot(w, v&^lockBit)
		}
	}
}

// check computes the outcome of taking cost units from the key in slot i
// (locked) without changing it.
func (t *memoryTable) check(sh *memShard, tab *slotTable, i uint64, now, cost int64, r *Result) {
	s := tab.words[i*t.stride : (i+1)*t.stride]
	switch t.alg {
	case AlgTokenBucket, AlgGCRA:
		gcraCheck(s[1], now, t.interval, t.capacity, cost, r)
	case AlgFixedWindow:
		end, count := s[1], s[2]
		if now >= end {
			end, count = windowEnd(now, t.interval), 0
		}
		fixedCheck(end, count, now, t.limit, cost, r)
	case AlgSlidingWindow:
		slidingCheck(t.ring(sh, s[2]), int(s[3]), now, t.interval, cost, r)
	}
}

// apply commits a take that check allowed.
func (t *memoryTable) apply(sh *memShard, tab *slotTable, i uint64, now, cost int64) {
	s := tab.words[i*t.stride : (i+1)*t.stride]
	switch t.alg {
	case AlgTokenBucket, AlgGCRA:
		s[1] = max(s[1], now) + cost*t.interval
	case AlgFixedWindow:
		if now >= s[1] {
			s[1], s[2] = windowEnd(now, t.interval), 0
		}
		s[2] += cost
	case AlgSlidingWindow:
		ring := t.ring(sh, s[2])
		L := len(ring)
		head := int(s[3])
		ts := max(now, ring[(head+L-1)%L]) // never older than the newest: the log stays sorted
		for j := 0; j < int(cost); j++ {
			ring[(head+j)%L] = ts
		}
		s[3] = int64((head + int(cost)) % L)
		s[1] = ts + t.interval
	}
}

// afterApply fills r's Remaining and ResetAfter from the committed state.
func (t *memoryTable) afterApply(sh *memShard, tab *slotTable, i uint64, now int64, r *Result) {
	s := tab.words[i*t.stride : (i+1)*t.stride]
	switch t.alg {
	case AlgTokenBucket, AlgGCRA:
		gcraState(s[1], now, t.interval, t.capacity, r)
	case AlgFixedWindow:
		r.Remaining = int(t.limit - s[2])
		r.ResetAfter = time.Duration(s[1] - now)
	case AlgSlidingWindow:
		slidingState(t.ring(sh, s[2]), int(s[3]), now, t.interval, r)
	}
}

// touch starts loading the cache line of key hash h's home slot into the
// CPU's cache, without waiting for it: the caller reads the clock next,
// and reading the clock waits for every load before it (the TSC read is
// ordered), so a plain load here would not overlap the two. On a table
// larger than the cache the line is a miss more often than not; this hides
// part of it behind the clock read (about 10 ns of 120 in
// BenchmarkLimiter_BulwarkGCRA on amd64).
func (t *memoryTable) touch(h uint64) {
	tab := t.shard(h).tab.Load()
	i := uint64(slotHash(h)) & tab.mask
	prefetch.Line(unsafe.Pointer(&tab.words[i*t.stride]))
}

// take decides one single-limit request.
func (t *memoryTable) take(h uint64, now, cost int64, r *Result) {
	sh := t.shard(h)
	hv := slotHash(h)
	tab, i := t.acquire(sh, hv, now)
	if t.stride == 2 { // token bucket, GCRA: the common case, without the switches
		s := tab.words[i*2 : i*2+2 : i*2+2]
		gcraCheck(s[1], now, t.interval, t.capacity, cost, r)
		if r.Allowed {
			s[1] = max(s[1], now) + cost*t.interval
			gcraState(s[1], now, t.interval, t.capacity, r)
		}
		unlockSlot(&s[0], hv)
		return
	}
	t.check(sh, tab, i, now, cost, r)
	if r.Allowed {
		t.apply(sh, tab, i, now, cost)
		t.afterApply(sh, tab, i, now, r)
	}
	unlockSlot(&tab.words[i*t.stride], hv)
}

// takeAll decides one request against several tables atomically: the key's
// slot in every table is locked (in table order, the same for every request
// of a limiter, so there is no deadlock), all limits are checked, and only
// if all allow is any state changed.
func (s *memoryStore) takeAll(hs []uint64, now, cost int64, rs []Result) bool {
	var tabs [maxLimitsPerLimiter]*slotTable
	var slots [maxLimitsPerLimiter]uint64
	n := len(s.tables)
	for k := 0; k < n; k++ {
		t := s.tables[k]
		tabs[k], slots[k] = t.acquire(t.shard(hs[k]), slotHash(hs[k]), now)
	}
	all := true
	for k := 0; k < n; k++ {
		t := s.tables[k]
		t.check(t.shard(hs[k]), tabs[k], slots[k], now, cost, &rs[k])
		all = all && rs[k].Allowed
	}
	for k := 0; k < n; k++ {
		t := s.tables[k]
		if all {
			t.apply(t.shard(hs[k]), tabs[k], slots[k], now, cost)
			t.afterApply(t.shard(hs[k]), tabs[k], slots[k], now, &rs[k])
		}
		unlockSlot(&tabs[k].words[slots[k]*t.stride], slotHash(hs[k]))
	}
	return all
}

// windowEnd is the end of the epoch-aligned window of length w holding now.
func windowEnd(now, w int64) int64 {
	m := now % w
	if m < 0 {
		m += w
	}
	return now - m + w
}
