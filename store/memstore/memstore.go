// Package memstore is the in-process implementation of the store contracts
// (store.Store): the default state for every Bulwark guard when no Redis is
// configured.
//
// It is bounded. At most Options.MaxKeys keys live at once, however many
// distinct clients an attacker invents: inserting a new key into a full store
// evicts an expired entry if there is one, and otherwise the least recently
// used one — or, with Options.NoEvict, refuses the write (ErrFull), for
// state whose silent loss would be a security failure (a revocation, a
// refresh-token family). Give such state a Store of its own: shared with
// other guards, their keys would evict it (without NoEvict) or fill the
// store and fail its writes (with NoEvict).
//
// A set holds at most Options.MaxSetMembers members. Memory is therefore
// bounded by MaxKeys × (per-key overhead + key + value) plus the members
// of sets. Sets are bounded per set, not in total: the worst case is
// MaxKeys × MaxSetMembers members, so lower either for a store that holds
// many sets.
//
// Memory per key, measured on Go 1.26/amd64 with 17-byte keys (runtime
// heap after GC, 100,000 keys): a counter about 135 bytes, and about 170
// bytes in a store that has churned through ten times its cap (the maps keep
// their grown size); a 16-byte value about 180 bytes; a set about 440 bytes
// with one member plus about 45 bytes per further short member. So the
// default cap of 100,000 counters costs under 20 MB. TestBounded checks the
// churned counter figure.
//
// TTLs are honoured on every read: an expired entry is never returned, even
// before it is removed. A background janitor removes expired entries, one
// shard at a time, so it never holds more than one shard's lock; Close stops
// it.
//
// Keys are spread over Options.Shards shards, each with its own mutex, LRU
// list and expiry heap, so that goroutines working on different keys rarely
// contend. Recency is tracked per shard with the CLOCK algorithm (an access
// sets a flag; the eviction hand gives flagged entries a second chance), so
// eviction is approximately least recently used within the key's shard, and
// a read never writes to any memory but its own entry's.
//
// memstore never blocks on I/O, so it ignores the contexts it is given.
//
// Keys share one namespace across kinds, as in Redis: Get of a counter
// returns its decimal text, Incr of a value that holds a decimal integer
// turns it into a counter, Set replaces any kind, and a set operation on a
// key that holds something else (or a value operation on a set) returns
// ErrWrongType.
package memstore

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/store"
)

// Defaults for Options.
const (
	DefaultMaxKeys       = 100_000
	DefaultMaxSetMembers = 10_000
	DefaultShards        = 64
	DefaultSweepInterval = time.Minute
)

// maxShards bounds Options.Shards.
const maxShards = 4096

// minKeysPerShard keeps shards large enough for LRU to mean something: a
// small MaxKeys gets fewer shards.
const minKeysPerShard = 32

// maxSweepPerTick bounds how many expired entries the janitor removes under
// one lock acquisition.
const maxSweepPerTick = 4096

// ErrWrongType is returned by an operation on a key that holds a different
// kind of entry (for example AddToSet on a key set by Set), like Redis's
// WRONGTYPE error.
var ErrWrongType = errors.New("memstore: operation against a key holding the wrong kind of value")

// ErrFull is returned, wrapped in a store.UnavailableError (so it also
// matches store.ErrUnavailable), by a write that needs a new key when a
// NoEvict store holds MaxKeys live keys.
var ErrFull = errors.New("memstore: full (MaxKeys live keys and NoEvict set)")

// ErrNotInteger is returned by Incr on a value that is not a decimal
// integer, and when an increment would overflow int64.
var ErrNotInteger = errors.New("memstore: value is not an integer or out of range")

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// MaxKeys is the most keys the store holds at once. A new key beyond it
	// takes the place of an expired entry of its shard if there is one, else
	// of the shard's (approximately) least recently used entry. Default
	// 100,000 (DefaultMaxKeys).
	MaxKeys int `json:"max_keys" yaml:"max_keys"`
	// NoEvict makes a full store refuse a write that needs a new key, with
	// an error matching ErrFull and store.ErrUnavailable, instead of
	// evicting a live entry; expired entries are still reclaimed. Use it for
	// state whose loss is a security failure — revocation denylists,
	// refresh-token families — where a guard should fail closed (say, a 503
	// on login) rather than forget a logout. Default false: evict.
	NoEvict bool `json:"no_evict" yaml:"no_evict"`
	// MaxSetMembers is the most members one set holds. Once a set is full,
	// AddToSet of a new member does not store it and reports the set's size
	// as MaxSetMembers: a size saturates at the cap (a guard that counts
	// distinct items only needs to know the count is above its threshold).
	// Default 10,000 (DefaultMaxSetMembers).
	MaxSetMembers int `json:"max_set_members" yaml:"max_set_members"`
	// Shards is the number of independently locked shards, rounded up to a
	// power of two and reduced for a small MaxKeys so that each shard holds
	// at least 32 keys. Default 64 (DefaultShards); at most 4096.
	Shards int `json:"shards" yaml:"shards"`
	// SweepInterval is how long the janitor takes to visit every shard once,
	// removing expired entries (it sweeps one shard every
	// SweepInterval/Shards). Expired entries are never returned whether or
	// not they have been swept; sweeping only reclaims their memory early.
	// Default 1 minute (DefaultSweepInterval); a negative value disables the
	// janitor (expired entries are then reclaimed by eviction or Sweep).
	SweepInterval time.Duration `json:"sweep_interval" yaml:"sweep_interval"`
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Store is a bounded, sharded in-memory store.Store. It is safe for
// concurrent use. Create it with New and release its janitor with Close.
type Store struct {
	shards     []shard
	mask       uint64
	seed       maphash.Seed
	clock      func() time.Time // nil: time.Since(epoch), one monotonic read
	epoch      time.Time
	maxMembers int
	maxKeys    int64
	noEvict    bool

	// count is the number of keys held, across shards, never above
	// maxKeys. Every insert writes it, so it has a cache line of its own,
	// away from the read-mostly fields every operation loads.
	_     [64]byte
	count atomic.Int64
	_     [56]byte

	consumeMu sync.Mutex // serialises Consume

	closed    atomic.Bool
	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{} // closed when the janitor exits; nil without one
}

var _ store.Store = (*Store)(nil)

type kind uint8

const (
	kindCounter kind = iota
	kindValue
	kindSet
)

// entry is one key. It is linked into its shard's LRU list and expiry heap.
type entry struct {
	// Fields an Incr reads and writes come first, to share a cache line.
	key string
	// exp is the entry's key in the expiry heap: the clock reading (ns
	// since Store.epoch) at which it expires, or, after a value's or set's
	// TTL was extended, an earlier bound (see extra.exp and deadline).
	exp  int64
	n    int64
	hidx int32
	kind kind
	ref  bool // used since the eviction hand last passed (CLOCK)

	prev, next *entry
	x          *extra // nil for a counter
}

// extra holds what a value or set entry has beyond a counter, keeping entry
// at 64 bytes: one cache line, one size class.
type extra struct {
	val []byte
	set map[string]struct{}
	// exp, when later than entry.exp, is the entry's true expiry: an
	// extension recorded without moving the entry in the heap (lazy
	// expiry: a sliding window restarted on every access would otherwise
	// sift the heap on every access). The heap is fixed only when the
	// stale bound reaches its top (settle).
	exp int64
}

type shard struct {
	mu    sync.Mutex
	m     map[string]*entry
	root  entry // LRU sentinel: root.next is the most recent, root.prev the least
	heap  []*entry
	store *Store
	_     [64]byte // keep neighbouring shards' mutexes off one cache line
}

// New returns a Store configured by opts, with its janitor running unless
// opts.SweepInterval is negative. Out-of-range options fall back to their
// defaults.
func New(opts Options) *Store {
	maxKeys := opts.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	maxMembers := opts.MaxSetMembers
	if maxMembers <= 0 {
		maxMembers = DefaultMaxSetMembers
	}
	n := opts.Shards
	if n <= 0 {
		n = DefaultShards
	}
	n = min(n, maxShards)
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	for n > 1 && maxKeys/n < minKeysPerShard {
		n /= 2
	}
	clock := opts.Now
	epoch := time.Now()
	if clock != nil {
		epoch = clock()
	}
	s := &Store{
		shards:     make([]shard, n),
		mask:       uint64(n - 1),
		seed:       maphash.MakeSeed(),
		clock:      clock,
		epoch:      epoch,
		maxMembers: maxMembers,
		maxKeys:    int64(maxKeys),
		noEvict:    opts.NoEvict,
		stop:       make(chan struct{}),
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.store = s
		sh.m = make(map[string]*entry)
		sh.root.next, sh.root.prev = &sh.root, &sh.root
	}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		s.done = make(chan struct{})
		go s.janitor(interval)
	}
	return s
}

// now returns the clock's reading in nanoseconds since the store was made
// (monotonic with the default clock).
func (s *Store) now() int64 {
	if s.clock == nil {
		return int64(time.Since(s.epoch))
	}
	return int64(s.clock().Sub(s.epoch))
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

func expiry(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

func closedErr(op string) error {
	return &store.UnavailableError{Op: op, Err: store.ErrClosed}
}

func fullErr(op string) error {
	return &store.UnavailableError{Op: op, Err: ErrFull}
}

// lock begins operation op on key: it locks key's shard and returns it
// with key's live entry (nil if none). For an operation that stores (write),
// exp is the expiry ttl from now and, when key has no live entry, lock
// inserts one (a counter, not yet touched) with that expiry and reports
// created. It fails, leaving the shard unlocked, when the store is closed,
// when a write's ttl is not positive and when a NoEvict store is full. The
// caller unlocks sh.mu.
func (s *Store) lock(op, key string, write bool, ttl time.Duration) (sh *shard, e *entry, exp int64, created bool, err error) {
	if write && ttl <= 0 {
		return nil, nil, 0, false, store.ErrInvalidTTL
	}
	if s.closed.Load() {
		return nil, nil, 0, false, closedErr(op)
	}
	now := s.now()
	exp = expiry(now, ttl)
	sh = s.shard(key)
	sh.mu.Lock()
	if e = sh.get(key, now); e != nil || !write {
		return sh, e, exp, false, nil
	}
	if e = sh.insert(key, exp, now); e == nil {
		sh.mu.Unlock()
		return nil, nil, 0, false, fullErr(op)
	}
	return sh, e, exp, true, nil
}

// lockRead is lock for an operation that only reads or removes.
func (s *Store) lockRead(op, key string) (*shard, *entry, error) {
	sh, e, _, _, err := s.lock(op, key, false, 0)
	return sh, e, err
}

// Incr implements store.Counters. On an existing counter it does not
// allocate.
func (s *Store) Incr(_ context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	sh, e, _, created, err := s.lock("incr", key, true, ttl)
	if err != nil {
		return 0, err
	}
	if !created {
		switch e.kind {
		case kindSet:
			sh.mu.Unlock()
			return 0, ErrWrongType
		case kindValue:
			v, err := strconv.ParseInt(string(e.x.val), 10, 64)
			if err != nil {
				sh.mu.Unlock()
				return 0, ErrNotInteger
			}
			sh.settle(e) // a counter has no extra to hold a later expiry
			e.kind, e.n, e.x = kindCounter, v, nil
		}
		sh.touch(e)
	}
	n := e.n + delta
	if (n > e.n) != (delta > 0) {
		sh.mu.Unlock()
		return 0, ErrNotInteger
	}
	e.n = n
	sh.mu.Unlock()
	return n, nil
}

// Get implements store.KV. The returned slice is the caller's own copy.
func (s *Store) Get(_ context.Context, key string) ([]byte, bool, error) {
	return s.read("get", key, false)
}

// Take implements store.KV: of concurrent callers for one key, exactly one
// sees found == true.
func (s *Store) Take(_ context.Context, key string) ([]byte, bool, error) {
	return s.read("take", key, true)
}

// read is Get, and with take Take: it returns key's value as a slice of the
// caller's own (a counter's decimal text) and, with take, removes the key.
func (s *Store) read(op, key string, take bool) ([]byte, bool, error) {
	sh, e, err := s.lockRead(op, key)
	if err != nil {
		return nil, false, err
	}
	defer sh.mu.Unlock()
	if e == nil {
		return nil, false, nil
	}
	sh.touch(e)
	var v []byte
	switch e.kind {
	case kindSet:
		return nil, false, ErrWrongType
	case kindCounter:
		v = strconv.AppendInt(nil, e.n, 10)
	default:
		if take {
			v = e.x.val // the entry is going away: hand over its private copy
		} else {
			v = make([]byte, len(e.x.val))
			copy(v, e.x.val)
		}
		if v == nil {
			v = []byte{}
		}
	}
	if take {
		sh.remove(e)
	}
	return v, true, nil
}

// Consume implements store.KV. Consume calls are serialised by one lock
// per Store (they are rare: one per refresh-token rotation), which makes
// the move atomic with respect to each other; the value is copied to
// usedKey before it leaves key, so a full NoEvict store fails the call
// without consuming anything.
func (s *Store) Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) ([]byte, []byte, store.Use, error) {
	if grace <= 0 {
		return nil, nil, store.NotFound, store.ErrInvalidTTL
	}
	s.consumeMu.Lock()
	defer s.consumeMu.Unlock()
	v, ok, err := s.read("consume", key, false)
	if err != nil {
		return nil, nil, store.NotFound, err
	}
	if !ok {
		used, ok, err := s.read("consume", usedKey, false)
		if err != nil || !ok {
			return nil, nil, store.NotFound, err
		}
		v, firstNote, ok := store.SplitNote(used)
		if !ok {
			return nil, nil, store.NotFound, ErrWrongType
		}
		return v, firstNote, store.RepeatUse, nil
	}
	if err := s.Set(ctx, usedKey, store.JoinNote(note, v), grace); err != nil {
		return nil, nil, store.NotFound, err
	}
	if _, ok, err = s.read("consume", key, true); err != nil || !ok {
		// Deleted or expired in between: nothing was consumed.
		_ = s.Delete(ctx, usedKey)
		return nil, nil, store.NotFound, err
	}
	return v, note, store.FirstUse, nil
}

// Set implements store.KV. The store keeps its own copy of value.
func (s *Store) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	sh, e, exp, created, err := s.lock("set", key, true, ttl)
	if err != nil {
		return err
	}
	if !created {
		sh.touch(e)
		sh.setExp(e, exp)
	}
	e.setValue(value)
	sh.mu.Unlock()
	return nil
}

// SetNX implements store.KV. The store keeps its own copy of value.
func (s *Store) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	sh, e, _, created, err := s.lock("setnx", key, true, ttl)
	if err != nil {
		return false, err
	}
	if created {
		e.setValue(value)
	} else {
		sh.touch(e)
	}
	sh.mu.Unlock()
	return created, nil
}

// Delete implements store.KV; deleting a missing key is not an error.
func (s *Store) Delete(_ context.Context, key string) error {
	sh, e, err := s.lockRead("delete", key)
	if err != nil {
		return err
	}
	if e != nil {
		sh.remove(e)
	}
	sh.mu.Unlock()
	return nil
}

// AddToSet implements store.Sets. Every call restarts the set's TTL. A set
// holds at most Options.MaxSetMembers members; see there.
func (s *Store) AddToSet(_ context.Context, key, member string, ttl time.Duration) (int64, error) {
	sh, e, exp, created, err := s.lock("addtoset", key, true, ttl)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	if created {
		e.kind = kindSet
		e.x = &extra{set: make(map[string]struct{}, 1)}
	} else {
		if e.kind != kindSet {
			return 0, ErrWrongType
		}
		sh.touch(e)
		sh.setExp(e, exp)
	}
	set := e.x.set
	if _, ok := set[member]; !ok && len(set) < s.maxMembers {
		set[strings.Clone(member)] = struct{}{}
	}
	return int64(len(set)), nil
}

// SetSize implements store.Sets.
func (s *Store) SetSize(_ context.Context, key string) (int64, error) {
	n, _, err := s.readSet("setsize", key, "")
	return int64(n), err
}

// IsMember implements store.Sets.
func (s *Store) IsMember(_ context.Context, key, member string) (bool, error) {
	_, ok, err := s.readSet("ismember", key, member)
	return ok, err
}

// readSet returns the size of the set at key and whether member is in it:
// 0 and false when key has no live entry.
func (s *Store) readSet(op, key, member string) (int, bool, error) {
	sh, e, err := s.lockRead(op, key)
	if err != nil {
		return 0, false, err
	}
	defer sh.mu.Unlock()
	if e == nil {
		return 0, false, nil
	}
	if e.kind != kindSet {
		return 0, false, ErrWrongType
	}
	sh.touch(e)
	_, ok := e.x.set[member]
	return len(e.x.set), ok, nil
}

// Len returns the number of keys held, including expired ones not yet
// removed. It never exceeds Options.MaxKeys.
func (s *Store) Len() int { return int(s.count.Load()) }

// Sweep removes every expired entry now, locking one shard at a time. The
// janitor does the same in the background; Sweep is for callers that
// disabled it.
func (s *Store) Sweep() {
	for i := range s.shards {
		for s.sweepShard(i) {
		}
	}
}

// Close stops the janitor and releases the entries. Operations on a closed
// store return an error matching store.ErrClosed (and store.ErrUnavailable,
// so guards apply their outage policy during shutdown). Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		if s.done != nil {
			<-s.done
		}
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.m = map[string]*entry{}
			sh.heap = nil
			sh.root.next, sh.root.prev = &sh.root, &sh.root
			sh.mu.Unlock()
		}
		s.count.Store(0)
	})
	return nil
}
