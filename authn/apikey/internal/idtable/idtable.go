// Package idtable is the open-addressing hash table the API-key stores
// find entries in by key identifier: IDLen (14) bytes, drawn from
// crypto/rand by Generate, inserted only by the operator.
//
// Why not a Go map: a check of one of 100,000 cold keys is bound by
// memory latency, and a map lookup by a 14-byte array touches a control
// word, then the slot, then compares the key through a call. Here a slot
// holds the identifier (as two overlapping 64-bit words, which determine
// its 14 bytes) next to the value, so one cache line answers a hit, and
// the comparison is two integer compares.
//
// Slots are placed by a multiplicative hash of all 14 bytes with linear
// probing, kept at most half full; deletion shifts the following slots
// back (no tombstones), so probe chains stay short whatever the history
// of puts and deletes. An adversary cannot lengthen them: only the
// operator inserts identifiers (random ones, for generated keys), and a
// lookup of an absent identifier stops at the first empty slot.
//
// A Table is not safe for concurrent use — its owners guard it with their
// own lock, readers sharing it — but for Prefetch, a hint that may run
// alongside anything.
package idtable

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/bulwark-go/bulwark/internal/prefetch"
)

// Len is the length of the identifiers a Table holds (apikey.IDLen).
const Len = 14

// Key is an identifier as the table compares it: bytes 0-7 and 6-13,
// little-endian. The first word of a valid identifier (base62 bytes) is
// never zero, which marks an empty slot.
type Key struct{ lo, hi uint64 }

// KeyOf returns id's Key, and false when id is not Len bytes or cannot
// be held (its first 8 bytes are zero).
func KeyOf(id string) (Key, bool) {
	if len(id) != Len {
		return Key{}, false
	}
	k := Key{le64(id[:8]), le64(id[6:])}
	return k, k.lo != 0
}

// le64 reads the first 8 bytes of s, little-endian (one load).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func (k Key) hash() uint64 {
	return (k.lo ^ bits.RotateLeft64(k.hi, 29)) * 0x9e3779b97f4a7c15
}

type slot[V any] struct {
	k Key
	v V
}

// Table maps identifiers to values of type V. The zero value is an empty
// table ready to use.
type Table[V any] struct {
	slots []slot[V]
	shift uint // 64 - log2(len(slots))
	n     int
	// view is slots and shift again, for Prefetch: published atomically,
	// so that a prefetch needs no lock (they change on growth only).
	view atomic.Pointer[view[V]]
}

type view[V any] struct {
	slots []slot[V]
	shift uint
}

// minSlots is the size of a table's first allocation.
const minSlots = 16

// New returns a table sized for n identifiers without growing.
func New[V any](n int) *Table[V] {
	t := &Table[V]{}
	t.resize(n)
	return t
}

// Len returns the number of identifiers held.
func (t *Table[V]) Len() int { return t.n }

// resize rehashes the table into the smallest power of two of slots that
// keeps n identifiers at most half full.
func (t *Table[V]) resize(n int) {
	size := minSlots
	for size < 2*n {
		size *= 2
	}
	old := t.slots
	t.slots = make([]slot[V], size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.view.Store(&view[V]{t.slots, t.shift})
	t.n = 0
	for i := range old {
		if old[i].k.lo != 0 {
			t.Put(old[i].k, old[i].v)
		}
	}
}

// find returns the index of k's slot, or of the empty slot that ends its
// probe chain, and whether k is there.
func (t *Table[V]) find(k Key) (int, bool) {
	mask := len(t.slots) - 1
	i := int(k.hash() >> t.shift)
	for {
		s := &t.slots[i]
		if s.k == k {
			return i, true
		}
		if s.k.lo == 0 {
			return i, false
		}
		i = (i + 1) & mask
	}
}

// Prefetch starts loading the slot where a lookup of k begins, so that
// the lookup that follows finds it in the CPU's cache. Safe for concurrent
// use with every other method: on a table that grows meanwhile it fetches
// a line of the old slots, which is harmless.
func (t *Table[V]) Prefetch(k Key) {
	if v := t.view.Load(); v != nil {
		prefetch.Line(unsafe.Pointer(&v.slots[k.hash()>>v.shift]))
	}
}

// Get returns k's value, and whether k is held.
func (t *Table[V]) Get(k Key) (v V, ok bool) {
	if len(t.slots) == 0 || k.lo == 0 {
		return v, false
	}
	i, ok := t.find(k)
	if !ok {
		return v, false
	}
	return t.slots[i].v, true
}

// Put sets k's value. k must come from KeyOf (its ok true).
func (t *Table[V]) Put(k Key, v V) {
	if k.lo == 0 {
		panic("idtable: Put of an invalid key")
	}
	if 2*(t.n+1) > len(t.slots) {
		t.resize(2 * (t.n + 1))
	}
	i, ok := t.find(k)
	if !ok {
		t.slots[i].k = k
		t.n++
	}
	t.slots[i].v = v
}

// Delete removes k, and reports whether it was held.
func (t *Table[V]) Delete(k Key) bool {
	if len(t.slots) == 0 || k.lo == 0 {
		return false
	}
	i, ok := t.find(k)
	if !ok {
		return false
	}
	t.remove(i)
	return true
}

// remove empties slot i and shifts back the slots after it whose probe
// chains cross it (backward-shift deletion), so that no lookup stops
// early at the hole.
func (t *Table[V]) remove(i int) {
	mask := len(t.slots) - 1
	var zero slot[V]
	j := i
	for {
		j = (j + 1) & mask
		s := &t.slots[j]
		if s.k.lo == 0 {
			break
		}
		home := int(s.k.hash() >> t.shift)
		// Move s to the hole at i unless its home lies cyclically in
		// (i, j]: then its chain does not cross the hole.
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = *s
			i = j
		}
	}
	t.slots[i] = zero
	t.n--
}

// Evict removes one identifier chosen by r (any number: a random one
// spreads evictions), and reports whether the table held any.
func (t *Table[V]) Evict(r uint64) bool {
	if t.n == 0 {
		return false
	}
	mask := len(t.slots) - 1
	i := int(r) & mask
	for t.slots[i].k.lo == 0 {
		i = (i + 1) & mask
	}
	t.remove(i)
	return true
}

// Clear removes every identifier, keeping the table's memory.
func (t *Table[V]) Clear() {
	clear(t.slots)
	t.n = 0
}

// All calls f with each identifier's value, in no particular order, until
// f returns false.
func (t *Table[V]) All(f func(V) bool) {
	for i := range t.slots {
		if t.slots[i].k.lo != 0 && !f(t.slots[i].v) {
			return
		}
	}
}
