package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/store"
)

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	client  rueidis.Client
	owned   bool // Close closes client
	prefix  string
	timeout time.Duration
	now     func() time.Time // Options.Now; nil for the monotonic clock
	base    time.Time        // the monotonic clock's origin: when the Store was made
	breaker *breaker.Breaker
	closed  atomic.Bool

	marker  string                 // the state marker's Redis key
	onReset func(since time.Time)  // Options.OnReset
	state   atomic.Pointer[marker] // the marker as last read; nil before the first answer
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
	if o.Client != nil {
		return newStore(o.Client, false, o), nil
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	return newStore(c, true, o), nil
}

// New returns a Store that uses an existing client, with keys under prefix
// (DefaultPrefix if empty), commands bounded by DefaultTimeout and the
// breaker's changes logged on slog.Default(). The caller keeps ownership
// of client: Close does not close it. For other settings, Open with
// Options.Client.
func New(client rueidis.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return newStore(client, false, Options{Prefix: prefix, Timeout: DefaultTimeout})
}

// The breaker's back-off bounds (variables for tests).
var (
	breakerMin = breaker.DefaultMinBackoff
	breakerMax = breaker.DefaultMaxBackoff
)

// newStore makes a Store on c with validated options o.
func newStore(c rueidis.Client, owned bool, o Options) *Store {
	s := &Store{client: c, owned: owned, prefix: o.Prefix, timeout: o.Timeout, now: o.Now, base: time.Now(),
		marker: o.Prefix + StateKey, onReset: o.OnReset}
	s.breaker = breaker.New(breaker.Options{
		MinBackoff: breakerMin, MaxBackoff: breakerMax,
		OnChange: breaker.Report(o.Audit, "redisstore", slog.String("prefix", o.Prefix)),
	})
	return s
}

// Client returns the underlying client, for packages that run their own
// scripts. Before Redis first answers it is a client whose commands fail
// with errors matching store.ErrUnavailable through Unavailable. Build keys
// with Key (and Tag for multi-key scripts). Commands sent on it bypass the
// Store's circuit breaker.
func (s *Store) Client() rueidis.Client { return s.client }

// Prefix returns the prefix of every key.
func (s *Store) Prefix() string { return s.prefix }

// Key returns the Redis key for a caller's key: Prefix() + k.
func (s *Store) Key(k string) string { return s.prefix + k }

// Timeout returns the bound on every command.
func (s *Store) Timeout() time.Duration { return s.timeout }

// Available reports whether the Store asks Redis: false while its circuit
// breaker is open (Redis failed repeatedly, and every method fails at once
// with store.ErrUnavailable until a probe succeeds). For a readiness
// check or a dashboard.
func (s *Store) Available() bool { return s.breaker.State() == breaker.Closed }

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

// errBreakerOpen is the cause of every call refused by the open breaker.
var errBreakerOpen = errors.New("redisstore: Redis failed repeatedly; not asking it until the back-off ends")

// do sends cmds in one round trip, pipelined with a read of the state
// marker (see "Lost state"), under the Store's timeout, and is the one
// path of every method to Redis. It refuses calls to a closed Store, and
// those the circuit breaker stops (store.ErrUnavailable at once); it
// observes the marker, then hands the commands' replies to parse, reports
// the outcome to the breaker and maps the error (see fail). parse returns
// the client's error, or nil for any answer from Redis that is not an
// error (a nil reply included).
func (s *Store) do(ctx context.Context, op string, cmds rueidis.Commands, parse func([]rueidis.RedisResult) error) error {
	return s.doParse(ctx, op, cmds, parseFunc(parse))
}

// parser reads the replies of do's commands (the marker's excluded). A
// pooled pointer passed as a parser costs no allocation, where a closure
// capturing the call's state would.
type parser interface {
	parse(res []rueidis.RedisResult) error
}

type parseFunc func([]rueidis.RedisResult) error

func (f parseFunc) parse(res []rueidis.RedisResult) error { return f(res) }

// doParse is do with a parser.
func (s *Store) doParse(ctx context.Context, op string, cmds rueidis.Commands, p parser) error {
	if s.closed.Load() {
		return &store.UnavailableError{Op: op, Err: store.ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return fail(op, err) // the caller has given up: no round trip, and no outage
	}
	t, ok := s.breaker.Allow(s.clock())
	if !ok {
		return &store.UnavailableError{Op: op, Err: errBreakerOpen}
	}
	cctx, cancel := s.Context(ctx)
	c := s.client
	res := c.DoMulti(cctx, append(cmds, c.B().Get().Key(s.marker).Build())...)
	err := s.observe(cctx, res[len(res)-1])
	if err == nil {
		err = p.parse(res[:len(res)-1])
	}
	cancel()
	if err == nil {
		s.breaker.Success(s.clock(), t)
		return nil
	}
	err = fail(op, err)
	switch {
	case ctx.Err() != nil:
		// The caller gave up (cancelled, or past a deadline of its own
		// shorter than the timeout): no sign of an outage.
		s.breaker.Release(t)
	case errors.Is(err, store.ErrUnavailable):
		s.breaker.Failure(s.clock(), t, err)
	default:
		// Redis answered, with an error reply (out of memory, a wrong
		// type): no outage, but no proof of recovery either.
		s.breaker.Release(t)
	}
	return err
}

// do1 is do for the one command build makes, whose reply parse reads.
func (s *Store) do1(ctx context.Context, op string, build func(rueidis.Builder) rueidis.Completed, parse func(rueidis.RedisResult) error) error {
	cmds := make(rueidis.Commands, 1, 2) // room for do's marker read
	cmds[0] = build(s.client.B())
	return s.do(ctx, op, cmds, func(res []rueidis.RedisResult) error { return parse(res[0]) })
}

// clock is the breaker's time: nanoseconds since the Store was made on
// the monotonic clock, so that a step of the wall clock moves no back-off,
// or Options.Now read as Unix nanoseconds (only differences matter).
func (s *Store) clock() int64 {
	if s.now == nil {
		return int64(time.Since(s.base))
	}
	return s.now().UnixNano()
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
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (n int64, err error) {
	if ttl <= 0 {
		return 0, store.ErrInvalidTTL
	}
	err = s.script(ctx, "incr", incrScript, []string{s.prefix + key}, []string{strconv.FormatInt(delta, 10), strconv.FormatInt(ms(ttl), 10)},
		func(r rueidis.RedisResult) (err error) {
			n, err = r.AsInt64()
			return err
		})
	return n, err
}

// Get implements store.KV (GET).
func (s *Store) Get(ctx context.Context, key string) (v []byte, found bool, err error) {
	err = s.do1(ctx, "get", func(b rueidis.Builder) rueidis.Completed { return b.Get().Key(s.prefix + key).Build() },
		func(r rueidis.RedisResult) (err error) {
			v, found, err = bytesResult(r)
			return err
		})
	return v, found && err == nil, err
}

// ExistsAny implements store.AnyExister: one EXISTS per non-empty key, sent
// as one pipeline (one round trip, and Cluster-safe: the keys need not
// share a slot).
func (s *Store) ExistsAny(ctx context.Context, keys ...string) (found bool, err error) {
	if s.closed.Load() {
		return false, &store.UnavailableError{Op: "exists", Err: store.ErrClosed}
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
	err = s.do(ctx, "exists", cmds, func(res []rueidis.RedisResult) error {
		for _, r := range res {
			n, err := r.AsInt64()
			if err != nil {
				return err
			}
			found = found || n > 0
		}
		return nil
	})
	return found && err == nil, err
}

// Set implements store.KV (SET PX).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return store.ErrInvalidTTL
	}
	return s.do1(ctx, "set", func(b rueidis.Builder) rueidis.Completed {
		return b.Set().Key(s.prefix + key).Value(string(value)).PxMilliseconds(ms(ttl)).Build()
	}, rueidis.RedisResult.Error)
}

// SetNX implements store.KV (SET NX PX).
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (stored bool, err error) {
	if ttl <= 0 {
		return false, store.ErrInvalidTTL
	}
	err = s.do1(ctx, "setnx", func(b rueidis.Builder) rueidis.Completed {
		return b.Set().Key(s.prefix + key).Value(string(value)).Nx().PxMilliseconds(ms(ttl)).Build()
	}, func(r rueidis.RedisResult) error {
		err := r.Error()
		switch {
		case err == nil:
			stored = true
		case rueidis.IsRedisNil(err): // not stored: an answer, not an error
			return nil
		}
		return err
	})
	return stored && err == nil, err
}

// Take implements store.KV (GETDEL, Redis 6.2 or later).
func (s *Store) Take(ctx context.Context, key string) (v []byte, found bool, err error) {
	err = s.do1(ctx, "take", func(b rueidis.Builder) rueidis.Completed { return b.Getdel().Key(s.prefix + key).Build() },
		func(r rueidis.RedisResult) (err error) {
			v, found, err = bytesResult(r)
			return err
		})
	return v, found && err == nil, err
}

// Consume implements store.KV with one script call.
func (s *Store) Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) (v, first []byte, use store.Use, err error) {
	if grace <= 0 {
		return nil, nil, store.NotFound, store.ErrInvalidTTL
	}
	err = s.script(ctx, "consume", consumeScript, []string{s.prefix + key, s.prefix + usedKey}, []string{strconv.FormatInt(ms(grace), 10), string(note)},
		func(r rueidis.RedisResult) error {
			a, err := r.ToArray()
			if err != nil {
				return err
			}
			var parts [3][]byte
			for i := 1; i < min(len(a), 3); i++ {
				s, err := a[i].ToString()
				if err != nil {
					return err
				}
				parts[i] = []byte(s)
			}
			n, err := a[0].AsInt64()
			switch {
			case err != nil:
				return err
			case n == 0 && len(a) == 1:
				use = store.NotFound
			case n == 1 && len(a) == 2:
				v, first, use = parts[1], note, store.FirstUse
			case n == 2 && len(a) == 3:
				v, first, use = parts[1], parts[2], store.RepeatUse
			default:
				return fmt.Errorf("unexpected reply of %d elements", len(a))
			}
			return nil
		})
	if err != nil {
		return nil, nil, store.NotFound, err
	}
	return v, first, use, nil
}

// Delete implements store.KV (DEL).
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do1(ctx, "delete", func(b rueidis.Builder) rueidis.Completed { return b.Del().Key(s.prefix + key).Build() },
		rueidis.RedisResult.Error)
}

// AddToSet implements store.Sets with one script call (SADD, PEXPIRE,
// SCARD).
func (s *Store) AddToSet(ctx context.Context, key, member string, ttl time.Duration) (n int64, err error) {
	if ttl <= 0 {
		return 0, store.ErrInvalidTTL
	}
	err = s.script(ctx, "addtoset", addScript, []string{s.prefix + key}, []string{member, strconv.FormatInt(ms(ttl), 10)},
		func(r rueidis.RedisResult) (err error) {
			n, err = r.AsInt64()
			return err
		})
	return n, err
}

// SetSize implements store.Sets (SCARD).
func (s *Store) SetSize(ctx context.Context, key string) (n int64, err error) {
	err = s.do1(ctx, "setsize", func(b rueidis.Builder) rueidis.Completed { return b.Scard().Key(s.prefix + key).Build() },
		func(r rueidis.RedisResult) (err error) {
			n, err = r.AsInt64()
			return err
		})
	return n, err
}

// IsMember implements store.Sets (SISMEMBER).
func (s *Store) IsMember(ctx context.Context, key, member string) (ok bool, err error) {
	err = s.do1(ctx, "ismember", func(b rueidis.Builder) rueidis.Completed {
		return b.Sismember().Key(s.prefix + key).Member(member).Build()
	}, func(r rueidis.RedisResult) (err error) {
		ok, err = r.AsBool()
		return err
	})
	return ok && err == nil, err
}

// bytesResult reads a bulk string reply as the caller's own copy; a nil
// reply is a miss.
func bytesResult(r rueidis.RedisResult) ([]byte, bool, error) {
	v, err := r.ToString()
	switch {
	case err == nil:
		return []byte(v), true, nil
	case rueidis.IsRedisNil(err):
		return nil, false, nil
	}
	return nil, false, err
}
