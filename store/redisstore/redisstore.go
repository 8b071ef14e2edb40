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
	timeout time.Duration
	closed  atomic.Bool
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
	if o.Client != nil {
		return &Store{client: o.Client, prefix: o.Prefix, timeout: o.Timeout}, nil
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	return &Store{client: c, owned: true, prefix: o.Prefix, timeout: o.Timeout}, nil
}

// New returns a Store that uses an existing client, with keys under prefix
// (DefaultPrefix if empty) and commands bounded by DefaultTimeout. The
// caller keeps ownership of client: Close does not close it. For another
// timeout, Open with Options.Client.
func New(client rueidis.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{client: client, prefix: prefix, timeout: DefaultTimeout}
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
var incrScript = rueidis.NewLuaScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n`)

// addScript adds a member, restarts the set's expiry and returns its size.
var addScript = rueidis.NewLuaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('SCARD', KEYS[1])`)

// Incr implements store.Counters with one script call.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, store.ErrInvalidTTL
	}
	if err := s.check("incr"); err != nil {
		return 0, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	n, err := incrScript.Exec(ctx, s.client, []string{s.prefix + key}, []string{strconv.FormatInt(delta, 10), strconv.FormatInt(ms(ttl), 10)}).AsInt64()
	if err != nil {
		return 0, fail("incr", err)
	}
	return n, nil
}

// Get implements store.KV (GET).
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := s.check("get"); err != nil {
		return nil, false, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	return bytesResult("get", c.Do(ctx, c.B().Get().Key(s.prefix+key).Build()))
}

// ExistsAny implements store.AnyExister: one EXISTS per non-empty key, sent
// as one pipeline (one round trip, and Cluster-safe: the keys need not
// share a slot).
func (s *Store) ExistsAny(ctx context.Context, keys ...string) (bool, error) {
	if err := s.check("exists"); err != nil {
		return false, err
	}
	cmds := make(rueidis.Commands, 0, len(keys))
	c := s.client
	for _, k := range keys {
		if k != "" {
			cmds = append(cmds, c.B().Exists().Key(s.prefix+k).Build())
		}
	}
	if len(cmds) == 0 {
		return false, nil
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	found := false
	for _, r := range c.DoMulti(ctx, cmds...) {
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
	if err := s.check("set"); err != nil {
		return err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	if err := c.Do(ctx, c.B().Set().Key(s.prefix+key).Value(string(value)).PxMilliseconds(ms(ttl)).Build()).Error(); err != nil {
		return fail("set", err)
	}
	return nil
}

// SetNX implements store.KV (SET NX PX).
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, store.ErrInvalidTTL
	}
	if err := s.check("setnx"); err != nil {
		return false, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	err := c.Do(ctx, c.B().Set().Key(s.prefix+key).Value(string(value)).Nx().PxMilliseconds(ms(ttl)).Build()).Error()
	switch {
	case err == nil:
		return true, nil
	case rueidis.IsRedisNil(err):
		return false, nil
	}
	return false, fail("setnx", err)
}

// Take implements store.KV (GETDEL, Redis 6.2 or later).
func (s *Store) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := s.check("take"); err != nil {
		return nil, false, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	return bytesResult("take", c.Do(ctx, c.B().Getdel().Key(s.prefix+key).Build()))
}

// Delete implements store.KV (DEL).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check("delete"); err != nil {
		return err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	if err := c.Do(ctx, c.B().Del().Key(s.prefix+key).Build()).Error(); err != nil {
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
	if err := s.check("addtoset"); err != nil {
		return 0, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	n, err := addScript.Exec(ctx, s.client, []string{s.prefix + key}, []string{member, strconv.FormatInt(ms(ttl), 10)}).AsInt64()
	if err != nil {
		return 0, fail("addtoset", err)
	}
	return n, nil
}

// SetSize implements store.Sets (SCARD).
func (s *Store) SetSize(ctx context.Context, key string) (int64, error) {
	if err := s.check("setsize"); err != nil {
		return 0, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	n, err := c.Do(ctx, c.B().Scard().Key(s.prefix+key).Build()).AsInt64()
	if err != nil {
		return 0, fail("setsize", err)
	}
	return n, nil
}

// IsMember implements store.Sets (SISMEMBER).
func (s *Store) IsMember(ctx context.Context, key, member string) (bool, error) {
	if err := s.check("ismember"); err != nil {
		return false, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	ok, err := c.Do(ctx, c.B().Sismember().Key(s.prefix+key).Member(member).Build()).AsBool()
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
