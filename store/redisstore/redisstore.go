package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	client  rueidis.Client
	owned   bool // Close closes client
	prefix  string
	marker  string // the state marker's Redis key
	timeout time.Duration
	now     func() time.Time
	onReset func(since time.Time)
	closed  atomic.Bool
	since   atomic.Int64 // the marker's value, Unix seconds; 0 before the first answer
	resets  atomic.Uint64
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.AnyExister = (*Store)(nil)
)

// Open validates opts and returns a Store: on opts.Client, or with its own
// client for opts.URL (see NewClient: Redis need not be up yet). Errors
// never contain the URL's password.
func Open(opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c, owned := o.Client, false
	if c == nil {
		if c, err = NewClient(o); err != nil {
			return nil, err
		}
		owned = true
	}
	return newStore(c, owned, o), nil
}

func newStore(c rueidis.Client, owned bool, o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{client: c, owned: owned, prefix: o.Prefix, marker: o.Prefix + StateKey, timeout: o.Timeout, now: o.Now, onReset: o.OnReset}
}

// New returns a Store that uses an existing client, with keys under prefix
// (DefaultPrefix if empty) and commands bounded by DefaultTimeout. The
// caller keeps ownership of client: Close does not close it. For another
// timeout, Open with Options.Client.
func New(client rueidis.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return newStore(client, false, Options{Prefix: prefix, Timeout: DefaultTimeout})
}

// Client returns the underlying client, for packages that run their own
// scripts. Before Redis first answers it is a client whose commands fail
// with errors matching store.ErrUnavailable through Unavailable. Build keys
// with Key (and Tag for multi-key scripts).
func (s *Store) Client() rueidis.Client { return s.client }

// Prefix returns the prefix of every key.
func (s *Store) Prefix() string { return s.prefix }

// Key returns the Redis key for a caller's key: Prefix() + k.
func (s *Store) Key(k string) string { return s.prefix + k }

// Timeout returns the bound on every command.
func (s *Store) Timeout() time.Duration { return s.timeout }

// Tag returns s as a Redis Cluster hash tag, "{" + s + "}". Keys that contain
// the same tag hash to the same slot, so one script may use them all. s
// should be non-empty and free of braces: Redis hashes a whole key whose
// first tag is empty.
func Tag(s string) string { return "{" + s + "}" }

// Context returns ctx bounded by the Store's timeout (unless ctx already
// ends sooner), for callers running their own commands on Client.
func (s *Store) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// Close releases the client if the Store opened it. Afterwards every method
// returns an error matching store.ErrClosed and store.ErrUnavailable. Close
// is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.owned {
		s.client.Close()
	}
	return nil
}

// check reports an error for a closed store.
func (s *Store) check(op string) error {
	if s.closed.Load() {
		return &store.UnavailableError{Op: op, Err: store.ErrClosed}
	}
	return nil
}

// fail maps a client error: outages to store.ErrUnavailable, anything else
// (a Redis error such as WRONGTYPE) wrapped with the operation.
func fail(op string, err error) error {
	if mapped := Unavailable(op, err); mapped != err {
		return mapped
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// ms converts a positive TTL to whole milliseconds, rounding up so that a
// sub-millisecond TTL still expires rather than being refused by Redis.
func ms(ttl time.Duration) int64 {
	n := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		n++
	}
	return n
}

// incrScript increments and, when the key has no expiry (it is new), sets
// it: later increments do not extend the window. A key somehow left without
// an expiry gets one rather than living forever.
var incrScript = newScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n`)

// addScript adds a member, restarts the set's expiry and returns its size.
var addScript = newScript(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('SCARD', KEYS[1])`)

// consumeScript moves KEYS[1] to KEYS[2] for ARGV[1] ms, with the note
// ARGV[2] in front (the layout of store.JoinNote): {1, value} for the first
// use, {2, value, note} while KEYS[2] lives, {0} otherwise.
var consumeScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('SET', KEYS[2], #ARGV[2] .. ':' .. ARGV[2] .. v, 'PX', ARGV[1])
  redis.call('DEL', KEYS[1])
  return {1, v}
end
v = redis.call('GET', KEYS[2])
if not v then
  return {0}
end
local i = string.find(v, ':', 1, true)
if not i then
  return redis.error_reply('redisstore: consumed value without a note')
end
local n = tonumber(string.sub(v, 1, i - 1))
return {2, string.sub(v, i + 1 + n), string.sub(v, i + 1, i + n)}`)

// Incr implements store.Counters with one script call.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, store.ErrInvalidTTL
	}
	r, err := s.script(ctx, "incr", incrScript, []string{s.prefix + key}, strconv.FormatInt(delta, 10), strconv.FormatInt(ms(ttl), 10))
	if err != nil {
		return 0, err
	}
	n, err := r.AsInt64()
	if err != nil {
		return 0, fail("incr", err)
	}
	return n, nil
}

// Get implements store.KV (GET).
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := s.do1(ctx, "get", func(b rueidis.Builder) rueidis.Completed { return b.Get().Key(s.prefix + key).Build() })
	if err != nil {
		return nil, false, err
	}
	return bytesResult("get", r)
}

// ExistsAny implements store.AnyExister: one EXISTS per non-empty key, sent
// as one pipeline (one round trip, and Cluster-safe: the keys need not
// share a slot).
func (s *Store) ExistsAny(ctx context.Context, keys ...string) (bool, error) {
	if err := s.check("exists"); err != nil {
		return false, err
	}
	cmds := make(rueidis.Commands, 0, len(keys)+1)
	b := s.client.B()
	for _, k := range keys {
		if k != "" {
			cmds = append(cmds, b.Exists().Key(s.prefix+k).Build())
		}
	}
	if len(cmds) == 0 {
		return false, nil
	}
	res, err := s.do(ctx, "exists", cmds)
	if err != nil {
		return false, err
	}
	found := false
	for _, r := range res {
		n, err := r.AsInt64()
		if err != nil {
			return false, fail("exists", err)
		}
		found = found || n > 0
	}
	return found, nil
}

// Set implements store.KV (SET PX).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return store.ErrInvalidTTL
	}
	r, err := s.do1(ctx, "set", func(b rueidis.Builder) rueidis.Completed {
		return b.Set().Key(s.prefix + key).Value(string(value)).PxMilliseconds(ms(ttl)).Build()
	})
	if err != nil {
		return err
	}
	if err := r.Error(); err != nil {
		return fail("set", err)
	}
	return nil
}

// SetNX implements store.KV (SET NX PX).
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, store.ErrInvalidTTL
	}
	r, err := s.do1(ctx, "setnx", func(b rueidis.Builder) rueidis.Completed {
		return b.Set().Key(s.prefix + key).Value(string(value)).Nx().PxMilliseconds(ms(ttl)).Build()
	})
	if err != nil {
		return false, err
	}
	switch err := r.Error(); {
	case err == nil:
		return true, nil
	case rueidis.IsRedisNil(err):
		return false, nil
	}
	return false, fail("setnx", err)
}

// Take implements store.KV (GETDEL, Redis 6.2 or later).
func (s *Store) Take(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := s.do1(ctx, "take", func(b rueidis.Builder) rueidis.Completed { return b.Getdel().Key(s.prefix + key).Build() })
	if err != nil {
		return nil, false, err
	}
	return bytesResult("take", r)
}

// Consume implements store.KV with one script call.
func (s *Store) Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) ([]byte, []byte, store.Use, error) {
	if grace <= 0 {
		return nil, nil, store.NotFound, store.ErrInvalidTTL
	}
	r, err := s.script(ctx, "consume", consumeScript, []string{s.prefix + key, s.prefix + usedKey}, strconv.FormatInt(ms(grace), 10), string(note))
	if err != nil {
		return nil, nil, store.NotFound, err
	}
	a, err := r.ToArray()
	if err != nil {
		return nil, nil, store.NotFound, fail("consume", err)
	}
	var parts [3][]byte
	for i := range min(len(a), 3) {
		if i > 0 {
			s, err := a[i].ToString()
			if err != nil {
				return nil, nil, store.NotFound, fail("consume", err)
			}
			parts[i] = []byte(s)
		}
	}
	n, err := a[0].AsInt64()
	switch {
	case err != nil:
		return nil, nil, store.NotFound, fail("consume", err)
	case n == 0 && len(a) == 1:
		return nil, nil, store.NotFound, nil
	case n == 1 && len(a) == 2:
		return parts[1], note, store.FirstUse, nil
	case n == 2 && len(a) == 3:
		return parts[1], parts[2], store.RepeatUse, nil
	}
	return nil, nil, store.NotFound, fmt.Errorf("redisstore: consume: unexpected reply of %d elements", len(a))
}

// Delete implements store.KV (DEL).
func (s *Store) Delete(ctx context.Context, key string) error {
	r, err := s.do1(ctx, "delete", func(b rueidis.Builder) rueidis.Completed { return b.Del().Key(s.prefix + key).Build() })
	if err != nil {
		return err
	}
	if err := r.Error(); err != nil {
		return fail("delete", err)
	}
	return nil
}

// AddToSet implements store.Sets with one script call (SADD, PEXPIRE,
// SCARD).
func (s *Store) AddToSet(ctx context.Context, key, member string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, store.ErrInvalidTTL
	}
	r, err := s.script(ctx, "addtoset", addScript, []string{s.prefix + key}, member, strconv.FormatInt(ms(ttl), 10))
	if err != nil {
		return 0, err
	}
	n, err := r.AsInt64()
	if err != nil {
		return 0, fail("addtoset", err)
	}
	return n, nil
}

// SetSize implements store.Sets (SCARD).
func (s *Store) SetSize(ctx context.Context, key string) (int64, error) {
	r, err := s.do1(ctx, "setsize", func(b rueidis.Builder) rueidis.Completed { return b.Scard().Key(s.prefix + key).Build() })
	if err != nil {
		return 0, err
	}
	n, err := r.AsInt64()
	if err != nil {
		return 0, fail("setsize", err)
	}
	return n, nil
}

// IsMember implements store.Sets (SISMEMBER).
func (s *Store) IsMember(ctx context.Context, key, member string) (bool, error) {
	r, err := s.do1(ctx, "ismember", func(b rueidis.Builder) rueidis.Completed {
		return b.Sismember().Key(s.prefix + key).Member(member).Build()
	})
	if err != nil {
		return false, err
	}
	ok, err := r.AsBool()
	if err != nil {
		return false, fail("ismember", err)
	}
	return ok, nil
}

// bytesResult reads a bulk string reply as the caller's own copy; a nil
// reply is a miss.
func bytesResult(op string, r rueidis.RedisResult) ([]byte, bool, error) {
	v, err := r.ToString()
	switch {
	case err == nil:
		return []byte(v), true, nil
	case rueidis.IsRedisNil(err):
		return nil, false, nil
	}
	return nil, false, fail(op, err)
}
