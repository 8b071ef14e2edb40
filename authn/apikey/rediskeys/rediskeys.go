// Package rediskeys keeps API key records in Redis, shared by every
// replica, with a memory cache of verified keys so that a hot key costs
// no round trip — and a revocation is seen by every replica within
// milliseconds, not at the end of a TTL.
//
// # Layout
//
// Each record is a Redis hash under the store's prefix (redisstore's, then
// Options.KeyPrefix, default "apikey:"): Key("apikey:rec:" + id) with the
// field "rec" (the record's JSON, the package apikey record format) and,
// once revoked, "revoked_at" (RFC 3339). Revocation is a field of its own,
// so that a later Put of the record cannot undo it: a revoked key stays
// revoked; issue a new one. Last-used times are separate keys,
// "apikey:used:" + id, written in batches (apikey.Toucher). Every command
// touches one key, so the layout works on Redis Cluster. A record whose
// key expires is kept 7 days after its expiry, then Redis drops it; a
// record without expiry has no TTL (run Redis with the noeviction policy,
// as package redisstore says).
//
// # The cache and its invalidation
//
// Lookup answers from memory when it can: up to Options.MaxCached entries,
// each for at most Options.CacheTTL. Every write through the Store (Put,
// Revoke, Delete) is followed, in the same round trip, by a PUBLISH of the
// key's ID on the channel Key("apikey:invalidate"); every Store subscribes
// to it and drops the entry when the message arrives — in practice within
// a few milliseconds on every replica. The guarantee rests on the
// subscription, so the cache is used only while it is confirmed: until
// Redis confirms the SUBSCRIBE, and from the moment the subscription's
// connection breaks until a new one is confirmed, every Lookup goes to
// Redis, and each (re)confirmation empties the cache, since messages sent
// meanwhile are lost. A lookup that races with an invalidation does not
// fill the cache. So a revocation reaches every replica as fast as Redis
// delivers one message, or the replica is not caching.
//
// What the channel does not see: a record changed behind the Store's back
// (redis-cli, a script). CacheTTL (default 1 minute) bounds how long such
// a change goes unseen; revoke with Revoke or `bulwark apikey` instead.
// Unknown IDs are not cached: a flood of well-formed unknown keys costs a
// round trip each, which the rate limit before authentication bounds.
//
// # Outages
//
// Commands run under the redisstore.Store's timeout, behind a circuit
// breaker of their own (the one every Redis-backed store uses; its
// changes are audit events of guard "apikey"). When Redis is down a cached
// key still works only while the subscription is believed up — it drops
// with the connection — so after an outage Lookup fails with an error
// matching store.ErrUnavailable, and the authenticator answers 503, never
// 401.
package rediskeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/apikey/internal/idtable"
	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Defaults for Options.
const (
	DefaultKeyPrefix = "apikey:"
	DefaultMaxCached = 100_000
	DefaultCacheTTL  = time.Minute
)

// Options configure a Store. The zero value of every field but Redis is a
// sensible default.
type Options struct {
	// Redis is the store whose client, key prefix and timeout the key
	// store uses. Required.
	Redis *redisstore.Store `json:"-" yaml:"-"`
	// KeyPrefix is put after the Redis store's prefix. Default "apikey:".
	KeyPrefix string `json:"key_prefix,omitempty" yaml:"key_prefix,omitempty"`
	// MaxCached bounds the cache of verified records; beyond it, an
	// arbitrary entry makes room. Default 100,000 (a few hundred bytes
	// each). Negative disables the cache.
	MaxCached int `json:"max_cached,omitempty" yaml:"max_cached,omitempty"`
	// CacheTTL is the longest a record is served from memory. Revocations
	// through the Store are seen at once regardless (see the package
	// doc); this bounds changes made behind its back. Default 1 minute.
	CacheTTL time.Duration `json:"cache_ttl,omitempty" yaml:"cache_ttl,omitempty"`
	// OnInvalidate, when set, is called after the cache dropped id because
	// another Store (or this one) wrote it, and with id "" when the whole
	// cache was dropped (a new or lost subscription). It must be fast.
	OnInvalidate func(id string) `json:"-" yaml:"-"`
	// Audit receives the circuit breaker's changes. Default: a log line
	// on slog.Default().
	Audit audit.Sink `json:"-" yaml:"-"`
	// Now is the cache's clock, for tests. Default: the monotonic clock
	// (time since New), which wall-clock steps do not disturb.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Store is an apikey.Store (and apikey.Toucher) on Redis. Safe for
// concurrent use; Close stops its subscription.
type Store struct {
	redis   *redisstore.Store
	client  rueidis.Client
	prefix  string // full: Redis store prefix + KeyPrefix
	channel string
	now     func() time.Time // Options.Now; nil: monotonic time since base
	base    time.Time
	breaker *breaker.Breaker
	onInval func(string)

	cache cache

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ apikey.Store   = (*Store)(nil)
	_ apikey.Toucher = (*Store)(nil)
)

// New validates opts, starts the invalidation subscription and returns a
// Store. It does not wait for Redis: until the subscription is confirmed
// every lookup goes to Redis.
func New(opts Options) (*Store, error) {
	if opts.Redis == nil {
		return nil, errors.New("rediskeys: Options.Redis is required (a *redisstore.Store from redisstore.Open)")
	}
	kp := opts.KeyPrefix
	if kp == "" {
		kp = DefaultKeyPrefix
	}
	if opts.CacheTTL < 0 {
		return nil, errors.New("rediskeys: Options.CacheTTL must not be negative (0: the default, 1 minute)")
	}
	ttl := opts.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	max := opts.MaxCached
	if max == 0 {
		max = DefaultMaxCached
	}
	s := &Store{
		redis: opts.Redis, client: opts.Redis.Client(), prefix: opts.Redis.Key(kp),
		now: opts.Now, base: time.Now(), onInval: opts.OnInvalidate,
	}
	s.channel = s.prefix + "invalidate"
	s.cache = cache{max: max, ttl: int64(ttl)}
	s.breaker = breaker.New(breaker.Options{OnChange: breaker.Report(opts.Audit, "apikey", slog.String("prefix", s.prefix))})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	go s.subscribe()
	return s, nil
}

func (s *Store) recKey(id string) string  { return s.prefix + "rec:" + id }
func (s *Store) usedKey(id string) string { return s.prefix + "used:" + id }

// Channel returns the Redis channel invalidations travel on.
func (s *Store) Channel() string { return s.channel }

// Live reports whether the invalidation subscription is confirmed, so
// that the cache is in use.
func (s *Store) Live() bool { return s.cache.live.Load() }

// Close stops the subscription and empties the cache. The redisstore.Store
// stays open (it is the caller's).
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// subscribe keeps the invalidation subscription up on a dedicated
// connection, whose hooks report its loss whatever the client's retry
// settings, backing off up to a second between attempts.
func (s *Store) subscribe() {
	defer close(s.done)
	backoff := 50 * time.Millisecond
	for s.ctx.Err() == nil {
		start := time.Now()
		err := s.subscribeOnce()
		s.reset(false)
		if s.ctx.Err() != nil {
			return
		}
		if time.Since(start) > 5*time.Second {
			backoff = 50 * time.Millisecond // it ran for a while: a fresh failure
		}
		slog.Default().Debug("rediskeys: invalidation subscription lost; lookups go to Redis until it is back", "error", fmt.Sprint(err))
		select {
		case <-time.After(backoff):
		case <-s.ctx.Done():
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// subscribeOnce subscribes on one dedicated connection and returns when
// the connection is lost or the Store closes.
func (s *Store) subscribeOnce() error {
	dc, release := s.client.Dedicate()
	defer release()
	lost := dc.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage: func(m rueidis.PubSubMessage) {
			s.cache.invalidate(m.Message)
			if s.onInval != nil {
				s.onInval(m.Message)
			}
		},
		OnSubscription: func(sub rueidis.PubSubSubscription) {
			switch sub.Kind {
			case "subscribe":
				s.reset(true)
			case "unsubscribe":
				s.reset(false)
			}
		},
	})
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	err := dc.Do(ctx, dc.B().Subscribe().Channel(s.channel).Build()).Error()
	cancel()
	if err != nil {
		return err
	}
	select {
	case err := <-lost:
		return err
	case <-s.ctx.Done():
		return nil
	}
}

func (s *Store) reset(live bool) {
	s.cache.reset(live)
	if s.onInval != nil {
		s.onInval("")
	}
}

// clock is the breaker's time (monotonic nanoseconds).
func (s *Store) clock() int64 { return int64(time.Since(s.base)) }

// do sends cmds in one round trip behind the breaker and the timeout.
func (s *Store) do(ctx context.Context, op string, cmds ...rueidis.Completed) ([]rueidis.RedisResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, ok := s.breaker.Allow(s.clock())
	if !ok {
		return nil, &store.UnavailableError{Op: op, Err: errors.New("rediskeys: Redis failed repeatedly; not asking it until the back-off ends")}
	}
	cctx, cancel := s.redis.Context(ctx)
	res := s.client.DoMulti(cctx, cmds...)
	cancel()
	var err error
	for _, r := range res {
		if e := r.Error(); e != nil && !rueidis.IsRedisNil(e) {
			err = redisstore.Unavailable(op, e)
			break
		}
	}
	switch {
	case err == nil:
		s.breaker.Success(s.clock(), t)
	case ctx.Err() == nil && errors.Is(err, store.ErrUnavailable):
		s.breaker.Failure(s.clock(), t, err)
	default:
		s.breaker.Release(t)
	}
	return res, err
}

// cacheNow is the cache's clock in nanoseconds: monotonic time since the
// Store was made (one clock read, immune to wall-clock steps), or
// Options.Now.
func (s *Store) cacheNow() int64 {
	if s.now != nil {
		return s.now().UnixNano()
	}
	return int64(time.Since(s.base))
}

// Prefetch is a hint that a Lookup of id follows shortly: it starts
// loading the cache slot that lookup reads, so that the CPU fetches it
// while the caller does other work (the authenticator calls it before it
// checks the key's format). It takes no lock and changes nothing.
func (s *Store) Prefetch(id string) {
	if k, ok := idtable.KeyOf(id); ok {
		s.cache.t.Prefetch(k)
	}
}

// Lookup implements apikey.Store: from the cache when it holds id and the
// subscription is live, else one HGETALL.
func (s *Store) Lookup(ctx context.Context, id string) (*apikey.Entry, error) {
	now := s.cacheNow()
	if e := s.cache.get(id, now); e != nil {
		return e, nil
	}
	gen := s.cache.gen.Load()
	e, _, err := s.fetch(ctx, id)
	if err != nil || e == nil {
		return nil, err
	}
	s.cache.put(id, e, gen, now)
	return e, nil
}

// fetch reads the record id from Redis.
func (s *Store) fetch(ctx context.Context, id string) (*apikey.Entry, apikey.Record, error) {
	res, err := s.do(ctx, "apikey_get", s.client.B().Hgetall().Key(s.recKey(id)).Build())
	if err != nil {
		return nil, apikey.Record{}, err
	}
	m, err := res[0].AsStrMap()
	if err != nil {
		return nil, apikey.Record{}, err
	}
	raw, ok := m["rec"]
	if !ok {
		return nil, apikey.Record{}, nil
	}
	var rec apikey.Record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return nil, rec, fmt.Errorf("rediskeys: record %q: %w", id, err)
	}
	if rec.ID != id {
		return nil, rec, fmt.Errorf("rediskeys: the record under id %q names id %q", id, rec.ID)
	}
	if v, ok := m["revoked_at"]; ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			rec.RevokedAt = t
		} else {
			rec.RevokedAt = time.Unix(0, 0) // unreadable: revoked all the same
		}
	}
	e, err := apikey.NewEntry(rec)
	if err != nil {
		return nil, rec, err
	}
	return e, rec, nil
}

// Get returns the record id as stored, with its last-used time, for an
// operator's view.
func (s *Store) Get(ctx context.Context, id string) (apikey.Record, bool, error) {
	e, rec, err := s.fetch(ctx, id)
	if err != nil || e == nil {
		return rec, false, err
	}
	res, err := s.do(ctx, "apikey_used", s.client.B().Get().Key(s.usedKey(id)).Build())
	if err != nil {
		return rec, true, err
	}
	if v, err := res[0].ToString(); err == nil {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			rec.LastUsedAt = time.Unix(n, 0).UTC()
		}
	}
	return rec, true, nil
}

// retention is how long a record outlives its key's expiry.
const retention = 7 * 24 * time.Hour

// Put stores rec (validated; legacy records belong in an apikey.Static)
// and invalidates it on every replica. It does not undo a revocation.
func (s *Store) Put(ctx context.Context, rec apikey.Record) error {
	if rec.Legacy {
		return errors.New("rediskeys: legacy keys are found by hash; keep them in an apikey.Static")
	}
	if _, err := apikey.NewEntry(rec); err != nil {
		return err
	}
	revoked := rec.RevokedAt
	rec.RevokedAt, rec.LastUsedAt = time.Time{}, time.Time{}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	k := s.recKey(rec.ID)
	c := s.client.B()
	cmds := rueidis.Commands{c.Hset().Key(k).FieldValue().FieldValue("rec", string(b)).Build()}
	if !revoked.IsZero() {
		cmds = append(cmds, c.Hset().Key(k).FieldValue().FieldValue("revoked_at", revoked.UTC().Format(time.RFC3339Nano)).Build())
	}
	if !rec.ExpiresAt.IsZero() {
		cmds = append(cmds, c.Pexpireat().Key(k).MillisecondsTimestamp(rec.ExpiresAt.Add(retention).UnixMilli()).Build())
	} else {
		cmds = append(cmds, c.Persist().Key(k).Build())
	}
	cmds = append(cmds, c.Publish().Channel(s.channel).Message(rec.ID).Build())
	_, err = s.do(ctx, "apikey_put", cmds...)
	s.cache.invalidate(rec.ID)
	return err
}

// Revoke marks the record id revoked at the time at, on every replica at
// once (see the package doc), and reports whether it existed. Revoking
// twice keeps the first time.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) (bool, error) {
	k := s.recKey(id)
	c := s.client.B()
	res, err := s.do(ctx, "apikey_revoke", c.Hexists().Key(k).Field("rec").Build())
	if err != nil {
		return false, err
	}
	if ok, _ := res[0].AsBool(); !ok {
		return false, nil
	}
	_, err = s.do(ctx, "apikey_revoke",
		c.Hsetnx().Key(k).Field("revoked_at").Value(at.UTC().Format(time.RFC3339Nano)).Build(),
		c.Publish().Channel(s.channel).Message(id).Build())
	s.cache.invalidate(id)
	return err == nil, err
}

// Delete removes the record id (and its last-used time) on every replica.
func (s *Store) Delete(ctx context.Context, id string) error {
	c := s.client.B()
	_, err := s.do(ctx, "apikey_delete", c.Del().Key(s.recKey(id), s.usedKey(id)).Build(),
		c.Publish().Channel(s.channel).Message(id).Build())
	s.cache.invalidate(id)
	return err
}

// usedTTL is how long a last-used time is kept.
const usedTTL = 400 * 24 * time.Hour

// touchBatch bounds the commands of one Touch round trip.
const touchBatch = 500

// Touch implements apikey.Toucher: pipelined round trips of up to 500
// SETs each.
func (s *Store) Touch(ctx context.Context, used map[string]time.Time) error {
	c := s.client.B()
	cmds := make(rueidis.Commands, 0, min(len(used), touchBatch))
	var errs []error
	flush := func() {
		if len(cmds) > 0 {
			if _, err := s.do(ctx, "apikey_touch", cmds...); err != nil {
				errs = append(errs, err)
			}
			cmds = cmds[:0]
		}
	}
	for id, t := range used {
		cmds = append(cmds, c.Set().Key(s.usedKey(id)).Value(strconv.FormatInt(t.Unix(), 10)).ExSeconds(int64(usedTTL/time.Second)).Build())
		if len(cmds) == touchBatch {
			flush()
		}
	}
	flush()
	return errors.Join(errs...)
}

// cache holds verified entries while the invalidation subscription is
// live, in the open-addressing table package apikey's Static uses (one
// cache line answers a hit; see internal/idtable). IDs in Bulwark's
// format are apikey.IDLen bytes; others, which no Lookup of the
// authenticator asks for, are not cached.
type cache struct {
	mu   sync.RWMutex
	t    idtable.Table[cached]
	max  int
	ttl  int64
	gen  atomic.Uint64 // bumped by every invalidation and reset
	live atomic.Bool
}

type cached struct {
	e     *apikey.Entry
	until int64
}

func (c *cache) get(id string, now int64) *apikey.Entry {
	k, ok := idtable.KeyOf(id)
	if !ok || !c.live.Load() {
		return nil
	}
	c.mu.RLock()
	x, ok := c.t.Get(k)
	c.mu.RUnlock()
	if !ok || now >= x.until {
		return nil
	}
	return x.e
}

// put caches e, fetched when the generation was gen, unless an
// invalidation or a reset happened since (the entry might be stale).
func (c *cache) put(id string, e *apikey.Entry, gen uint64, now int64) {
	k, ok := idtable.KeyOf(id)
	if !ok || c.max < 0 || !c.live.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen || !c.live.Load() {
		return
	}
	if _, ok := c.t.Get(k); !ok && c.t.Len() >= c.max {
		c.t.Evict(rand.Uint64())
	}
	c.t.Put(k, cached{e: e, until: now + c.ttl})
}

func (c *cache) invalidate(id string) {
	c.mu.Lock()
	c.gen.Add(1)
	if k, ok := idtable.KeyOf(id); ok {
		c.t.Delete(k)
	}
	c.mu.Unlock()
}

func (c *cache) reset(live bool) {
	c.mu.Lock()
	c.gen.Add(1)
	c.t.Clear()
	c.live.Store(live)
	c.mu.Unlock()
}
