// Package redislimit keeps rate-limit state in Redis, so that every
// replica of a service enforces one shared limit.
//
//	client, _ := redisstore.NewClient(redisstore.Options{URL: "redis://127.0.0.1:6379/0"})
//	st, _ := redislimit.New(redislimit.Options{Client: client})
//	lim, _ := ratelimit.New(ratelimit.Options{
//		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())},
//		Store:  st,
//		Outage: ratelimit.FallbackLocal,
//	})
//
// It needs Redis 6.2 or later, like every Redis-backed part of Bulwark (or
// a server compatible with it, such as Valkey). If the script fails on a
// server too old to run it (before 6.0), the Store finds out why (its
// INFO), and decisions fail with
// ErrUnsupportedServer — reported to Options.Logger and the Limiter's
// OnStoreError, while its Outage policy decides — until the server is
// upgraded. Check reports it before any traffic, for a startup check.
//
// # One atomic round trip per decision
//
// Every decision is one Lua script run (EVALSHA, falling back to EVAL after
// a Redis restart): all of a request's limits are read, checked and — only
// if all admit it — charged in one atomic step, so concurrent replicas can
// never admit more than the limit. Decisions made at the same moment by
// many goroutines are coalesced by two batch workers, each batch one
// script run (up to Options.MaxBatch decisions; each request is still
// decided atomically and in arrival order): under load a decision costs a
// small fraction of a round trip.
//
// On a standalone Redis each worker writes its batch and reads the reply
// on a connection of its own, a rueidis dedicated connection (two per
// Store, beside the client's shared connection), with no hand-off to the
// client's pipeline goroutines. Until it has one — at start, or for a
// second after a lost connection or a timeout, which closes it — it uses
// the shared client while a new one is dialled in the background; an
// error reply from Redis keeps the connection. In Cluster mode every
// decision of a batch is its own script run (see Keys), pipelined by
// rueidis on the shared client. Through a Sentinel client, batches also
// go through the shared client, so that a failover moves them with it.
//
// # Whose clock counts
//
// The Redis server's: the script reads redis.call('TIME'), so replicas
// with skewed clocks agree on every window and refill. Times are kept in
// microseconds (refill intervals and windows are rounded to the
// microsecond; a refill interval must be at least 1µs). If the server's
// clock steps backwards, limits only get stricter until it catches up —
// never a free burst.
//
// # Keys
//
// A limit's state lives at PREFIX{KEY}:NAME:ALG. The {KEY} hash tag puts
// all the limits of one key in one Redis Cluster slot, so a multi-limit
// decision stays one script. In Cluster mode, the limits of one Limiter
// must all use the same Key (Bind refuses others), and each decision is a
// script run of its own (requests for different keys live in different
// slots); on a single Redis server or behind Sentinel there is no such
// restriction. A key that is longer than 128 bytes, empty, holds a '{' or
// '}', or starts with '#' is replaced by '#' and a digest (base64url of 16
// bytes of SHA-256), so the hash tag is never empty or cut short — every
// limit of a decision stays in its slot — and no raw key can pose as
// another's digest. (The keys ratelimit derives from requests never need it
// but for their length.) Every key expires once its state is
// indistinguishable from a fresh key's, so idle clients leave nothing
// behind.
//
// # Keys already over their limit
//
// When Redis refuses a key, the refusal is remembered in this process until
// the moment Redis said the same request could be retried: until then that
// key's requests (of the same cost) are refused without a round
// trip, so a client hammering past its limit costs no Redis capacity. This
// never admits anything Redis would refuse: a refusal can only last longer,
// not shorter, as others consume the same key.
//
// # Outages
//
// Every decision is bounded by Options.Timeout (default 150ms): a slow or
// unreachable Redis yields an error matching store.ErrUnavailable within
// that time, and the Limiter applies its Outage policy (fall back to a
// local limiter, fail open, or fail closed). A caller that gives up first
// (its context cancelled, or past a deadline of its own) gets its
// context's error instead: that is not an outage, and counts for nothing
// below. A decision that timed out may still have been applied by Redis
// (one still waiting in a batch is dropped unsent).
//
// The timeout costs no timer per decision: each queued decision carries
// its deadline, and a worker answers one it takes past that deadline with
// the timeout, unsent. While a batch is out at Redis, one timer per worker
// answers each of its decisions at that decision's deadline, and the batch
// runs under the latest of them, so a decision that waited in the queue
// never shortens another's time. A worker whose decisions have all been
// answered while the client has still not returned (a client that ignores
// its context) hands over to a new worker: the queue never waits on it.
//
// After 3 consecutive failures the Store stops asking Redis for a back-off
// of 250ms: decisions fail at once, so a frozen Redis does not add the
// timeout to every request; then one decision probes Redis. Its success
// ends the outage; its failure starts a back-off twice as long (up to 500ms).
// Only these two events lengthen it: the decisions in flight when Redis
// froze, failing together, count once, and failures of decisions that
// started before Redis recovered do not reopen the breaker. (It is the
// circuit breaker of package redisstore too: one implementation.) The
// back-off and the deny cache keep time on the monotonic clock (a
// wall-clock step moves neither). The client reconnects on its own; the
// scripts are reloaded when Redis restarted; nothing needs rebuilding.
//
// The breaker's changes are audit events of guard "redislimit" (to
// Options.Audit; without one, a log line on Options.Logger): reason
// store_unavailable when it opens, store_still_unavailable at most once a
// minute while the outage goes on, store_recovered when it closes — one
// event per change, never one per decision. Available reports its state,
// for a readiness check.
package redislimit

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "bulwark:rl:"

// maxBatchLimit caps Options.MaxBatch (the batcher's queue holds 4096).
const maxBatchLimit = 4096

// DefaultTimeout is the default Options.Timeout.
const DefaultTimeout = 150 * time.Millisecond

// Options configure a Store. Client or URL is required.
type Options struct {
	// Client is the Redis client to use, e.g. from redisstore.NewClient;
	// the Store does not close it.
	Client rueidis.Client `json:"-" yaml:"-"`
	// URL, when Client is nil, is a redis:// or rediss:// URL the Store
	// connects to (through redisstore.NewClient); Close then closes that
	// client.
	URL string `json:"url" yaml:"url"`
	// Prefix is prepended to every key. It must not contain '{' or '}'.
	// Default DefaultPrefix ("bulwark:rl:").
	Prefix string `json:"prefix" yaml:"prefix"`
	// Timeout bounds every decision, from the call to the answer: past it
	// the decision fails with store.ErrUnavailable. Default
	// DefaultTimeout (150ms).
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// DisableDenyCache turns off the local memory of keys known to be over
	// their limit (see the package documentation). Default false: on.
	DisableDenyCache bool `json:"disable_deny_cache" yaml:"disable_deny_cache"`
	// MaxDenyCache bounds the keys the deny cache remembers. Default 10,000.
	MaxDenyCache int `json:"max_deny_cache" yaml:"max_deny_cache"`
	// Logger receives an error when the Redis server turns out to be too
	// old (ErrUnsupportedServer; at most once a minute while it stays
	// so), and the breaker's changes when Audit is nil. Default
	// slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Audit receives one event per change of the circuit breaker (see
	// Outages): Redis unavailable, still unavailable, recovered. Default:
	// a log line on Logger.
	Audit audit.Sink `json:"-" yaml:"-"`
	// MaxBatch is the most decisions coalesced into one script run.
	// Default 64; 1 disables coalescing; values above 4096 count as 4096.
	// A batch may mix decisions of any number of limiters.
	MaxBatch int `json:"max_batch" yaml:"max_batch"`
	// Now is the local clock of the deny cache and of the back-off after
	// repeated failures; only the time elapsed between its readings is
	// used (see Outages). Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Store is a ratelimit.Store on Redis. It is safe for concurrent use.
type Store struct {
	client  rueidis.Client
	own     bool
	prefix  string
	timeout time.Duration
	now     func() time.Time // Options.Now; nil for time.Now
	base    time.Time        // the real clock's origin: when New ran
	deny    *denyCache
	batch   *batcher
	breaker *breaker.Breaker
	closed  atomic.Bool
	script  string // the Lua source (tests swap the clock)
	sha     string
	evals   atomic.Int64 // script runs, for tests
	log     *slog.Logger
	compat  compat
	info    func(context.Context) (string, error) // INFO server (tests replace it)

	mu    sync.Mutex
	names map[string]string // limit name → its definition, to catch conflicting limiters
}

// The breaker's back-off bounds (variables for tests).
var (
	breakerMin = breaker.DefaultMinBackoff
	breakerMax = breaker.DefaultMaxBackoff
)

var errBreakerOpen = &store.UnavailableError{Op: "ratelimit", Err: errors.New("redislimit: Redis failed repeatedly; not asking it until the back-off ends")}

// New returns a Store. It does not need Redis to be up.
func New(opts Options) (*Store, error) { return newStore(opts, script) }

func newStore(opts Options, src string) (*Store, error) {
	if opts.Timeout < 0 || opts.MaxBatch < 0 || opts.MaxDenyCache < 0 {
		return nil, errors.New("redislimit: Timeout, MaxBatch and MaxDenyCache must not be negative")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redislimit: Prefix %q must not contain '{' or '}' (they delimit the Redis Cluster hash tag)", opts.Prefix)
	}
	s := &Store{
		client:  opts.Client,
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		now:     opts.Now,
		names:   map[string]string{},
		script:  src,
	}
	sum := sha1.Sum([]byte(src))
	s.sha = hex.EncodeToString(sum[:])
	s.log = opts.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	s.info = s.serverInfo
	sink := opts.Audit
	if sink == nil {
		sink = breaker.Log(opts.Logger)
	}
	s.breaker = breaker.New(breaker.Options{
		MinBackoff: breakerMin, MaxBackoff: breakerMax,
		OnChange: breaker.Report(sink, "redislimit", slog.String("prefix", opts.Prefix)),
	})
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	s.base = time.Now() // with a monotonic reading: clock() reads only that
	if s.client == nil {
		if opts.URL == "" {
			return nil, errors.New("redislimit: set Options.Client (e.g. from redisstore.NewClient) or Options.URL")
		}
		c, err := redisstore.NewClient(redisstore.Options{URL: opts.URL, Timeout: s.timeout})
		if err != nil {
			return nil, err
		}
		s.client, s.own = c, true
	}
	if !opts.DisableDenyCache {
		n := opts.MaxDenyCache
		if n == 0 {
			n = 10_000
		}
		s.deny = newDenyCache(n)
	}
	maxBatch := opts.MaxBatch
	if maxBatch == 0 {
		maxBatch = 64
	}
	maxBatch = min(maxBatch, maxBatchLimit)
	if maxBatch > 1 {
		s.batch = newBatcher(s, maxBatch)
	}
	return s, nil
}

// Close stops the Store's goroutines and, if the Store opened its own
// client (Options.URL), closes it. Decisions after Close fail with
// store.ErrClosed (which matches store.ErrUnavailable).
func (s *Store) Close() {
	if !s.closed.CompareAndSwap(false, true) {
		return
	}
	if s.batch != nil {
		s.batch.close()
	}
	if s.own {
		s.client.Close()
	}
}

// Bind implements ratelimit.Store.
func (s *Store) Bind(limits []ratelimit.Limit) (ratelimit.Bound, error) {
	if len(limits) == 0 || len(limits) > 8 {
		return nil, fmt.Errorf("redislimit: want 1 to 8 limits, got %d", len(limits))
	}
	b := &bound{s: s, n: len(limits), spec: []string{strconv.Itoa(len(limits))}}
	for i, l := range limits {
		var alg string
		var p time.Duration
		switch l.Algorithm {
		case ratelimit.AlgTokenBucket, ratelimit.AlgGCRA:
			alg, p = "g", l.Interval()
			if p < time.Microsecond {
				return nil, fmt.Errorf("redislimit: limit %q refills every %s; Redis keeps microseconds, so the interval (Window/Limit) must be at least 1µs", l.Name, p)
			}
		case ratelimit.AlgFixedWindow:
			alg, p = "f", l.Window
		case ratelimit.AlgSlidingWindow:
			alg, p = "s", l.Window
		default:
			return nil, fmt.Errorf("redislimit: limit %q: unknown algorithm %v", l.Name, l.Algorithm)
		}
		us := int64((p + time.Microsecond/2) / time.Microsecond)
		if l.Algorithm == ratelimit.AlgFixedWindow || l.Algorithm == ratelimit.AlgSlidingWindow {
			us = int64((p + time.Microsecond - 1) / time.Microsecond) // never shorter than asked
		}
		b.suffix = append(b.suffix, "}:"+l.Name+":"+alg)
		b.spec = append(b.spec, alg, strconv.Itoa(l.Limit), strconv.FormatInt(us, 10))
		b.gcra = append(b.gcra, alg == "g")
		b.p = append(b.p, us)
		b.cap = append(b.cap, us*int64(l.Limit))
		if alg == "g" {
			b.width++
		} else {
			b.width += 4
		}
		if k := l.Key.String(); s.cluster() && i > 0 && (k != limits[0].Key.String() || strings.Contains(k, "func")) {
			return nil, fmt.Errorf("redislimit: in Redis Cluster mode the limits of one limiter must share one Key (limit %q is by %s, %q by %s): their state must live in one hash slot to be decided atomically; use separate limiters", limits[0].Name, limits[0].Key, l.Name, l.Key)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range limits {
		def := strings.Join(b.spec[1+3*i:4+3*i], " ")
		if prev, ok := s.names[l.Name]; ok && prev != def {
			return nil, fmt.Errorf("redislimit: another limiter on this store already has a limit named %q with a different definition; limits of the same name share state, so give each distinct limit its own name", l.Name)
		}
		s.names[l.Name] = def
	}
	return b, nil
}

type bound struct {
	s      *Store
	n      int
	suffix []string // per limit: "}:NAME:ALG"
	spec   []string // the script's spec: n, then per limit alg, limit, parameter (µs)
	gcra   []bool   // per limit: a GCRA reply (one value) rather than four
	p, cap []int64  // per limit: parameter and, for GCRA, capacity (µs)
	width  int      // values in the reply per request
}

// request is one decision for the script.
type request struct {
	b    *bound
	keys []string // Redis keys, one per limit
	cost int
}

// errClosed is returned after Close.
var errClosed = &store.UnavailableError{Op: "ratelimit", Err: store.ErrClosed}

// Take implements ratelimit.Bound.
func (b *bound) Take(ctx context.Context, keys []string, cost int, results []ratelimit.Result) error {
	s := b.s
	if s.closed.Load() {
		return errClosed
	}
	if len(keys) != b.n || len(results) != b.n {
		return fmt.Errorf("redislimit: %d keys for %d limits", len(keys), b.n)
	}
	var kbuf [8]string // on the stack: the request copies what it keeps
	rkeys := kbuf[:b.n]
	for i, k := range keys {
		rkeys[i] = b.redisKey(k, i)
	}
	if b.n > 1 && s.cluster() {
		for _, k := range keys[1:] {
			if k != keys[0] {
				return errors.New("redislimit: in Redis Cluster mode all limits of a request must have the same key")
			}
		}
	}
	now := s.clock()
	var hs [8]uint64
	if s.deny != nil {
		for i, k := range rkeys {
			hs[i] = maphash.String(s.deny.seed, k)
			if e, ok := s.deny.get(hs[i], now, cost); ok {
				// The other limits were not consulted; the refusing one
				// binds the decision.
				for j := range results {
					results[j] = ratelimit.Result{Allowed: true, Remaining: math.MaxInt}
				}
				results[i] = ratelimit.Result{Remaining: e.remaining, RetryAfter: time.Duration(e.until - now), ResetAfter: time.Duration(max(e.reset-now, e.until-now))}
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err // the caller has given up: no round trip, and no outage
	}
	ticket, ok := s.breaker.Allow(now)
	if !ok {
		return errBreakerOpen
	}
	if err := s.compat.verdict(now); err != nil {
		s.breaker.Release(ticket)
		return err // a server too old for the script: no round trip
	}
	req := request{b: b, cost: cost}
	var vals []int64
	var err error
	if s.batch != nil {
		c := s.batch.getCall(req)
		if b.n == 1 {
			c.key[0] = rkeys[0]
			c.req.keys = c.key[:]
		} else {
			c.req.keys = append([]string(nil), rkeys...)
		}
		vals, err = s.batch.do(ctx, c)
	} else {
		req.keys = append([]string(nil), rkeys...)
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		vals, err = s.eval(ctx, s.client, []request{req})
		cancel()
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			// The caller gave up (cancelled, or past a deadline of its
			// own) — whatever the error says, that is no sign of an
			// outage: the breaker does not count it.
			s.breaker.Release(ticket)
			return ctx.Err()
		case errors.Is(err, store.ErrUnavailable):
			s.breaker.Failure(s.clock(), ticket, err)
		default:
			s.breaker.Release(ticket)
		}
		return err
	}
	s.breaker.Success(s.clock(), ticket)
	if len(vals) != b.width {
		return fmt.Errorf("redislimit: script returned %d values for %d limits", len(vals), b.n)
	}
	for i := range results {
		r := &results[i]
		if b.gcra[i] {
			// One value: 2×d + admitted, d = the TAT (new when admitted,
			// current when refused) − now.
			v := vals[0]
			vals = vals[1:]
			d, p, c := v>>1, b.p[i], b.cap[i]
			*r = ratelimit.Result{
				Allowed:    v&1 == 1,
				Remaining:  int(max((c-d)/p, 0)),
				ResetAfter: time.Duration(d) * time.Microsecond,
			}
			if !r.Allowed {
				r.RetryAfter = time.Duration(d+int64(cost)*p-c) * time.Microsecond
			}
		} else {
			v := vals[:4]
			vals = vals[4:]
			*r = ratelimit.Result{
				Allowed:    v[0] == 1,
				Remaining:  int(v[1]),
				ResetAfter: time.Duration(v[2]) * time.Microsecond,
				RetryAfter: time.Duration(v[3]) * time.Microsecond,
			}
		}
		if s.deny != nil && !r.Allowed && r.RetryAfter > 0 {
			s.deny.put(hs[i], denyEntry{until: now + int64(r.RetryAfter), reset: now + int64(r.ResetAfter), cost: cost, remaining: r.Remaining})
		}
	}
	return nil
}

// Available reports whether the Store asks Redis: false while its circuit
// breaker is open (Redis failed repeatedly, and decisions fail at once
// until a probe succeeds). For a readiness check or a dashboard.
func (s *Store) Available() bool { return s.breaker.State() == breaker.Closed }

// clock is the Store's local time: nanoseconds since New, as elapsed on
// the monotonic clock, so that a step of the wall clock moves no
// deny-cache entry and no back-off. An injected Options.Now is read as
// Unix nanoseconds: only differences between its readings matter, and a
// test clock may start anywhere (even at the zero Time) before it is set.
func (s *Store) clock() int64 {
	if s.now == nil {
		return int64(time.Since(s.base))
	}
	return s.now().UnixNano()
}

// mono is the time elapsed since New on the real monotonic clock, whatever
// Options.Now says: the timeout of every decision is kept on it.
func (s *Store) mono() int64 { return int64(time.Since(s.base)) }

// redisKey is the Redis key of limit i for key k: PREFIX{K}:NAME:ALG, K
// being k itself or, when k is long, empty, holds a brace (which would make
// Redis Cluster hash a different tag, or the whole key) or starts with '#'
// (which marks digests, so no raw key can pose as one), "#" and a digest.
func (b *bound) redisKey(k string, i int) string {
	var sb strings.Builder
	if len(k) > 128 || k == "" || k[0] == '#' || strings.ContainsAny(k, "{}") {
		sum := sha256.Sum256([]byte(k))
		k = "#" + base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	sb.Grow(len(b.s.prefix) + 1 + len(k) + len(b.suffix[i]))
	sb.WriteString(b.s.prefix)
	sb.WriteByte('{')
	sb.WriteString(k)
	sb.WriteString(b.suffix[i])
	return sb.String()
}

// distinctSeed hashes keys for distinct.
var distinctSeed = maphash.MakeSeed()

// distinct reports whether no key occurs twice in keys, for batches of up
// to 256 (larger ones are reported not distinct: the script then checks
// for itself). Two keys whose 64-bit hashes collide count as the same,
// which is only ever the safe answer.
func distinct(keys []string) bool {
	if len(keys) > 256 {
		return false
	}
	var set [512]uint64 // open addressing; 0 = empty
	for _, k := range keys {
		h := maphash.String(distinctSeed, k) | 1
		for i := h; ; i++ {
			j := i & uint64(len(set)-1)
			if set[j] == 0 {
				set[j] = h
				break
			}
			if set[j] == h {
				return false
			}
		}
	}
	return true
}

// cluster reports whether the client talks to a Redis Cluster. (A client
// that has not connected yet cannot know; it is asked again every time.)
func (s *Store) cluster() bool { return s.client.Mode() == rueidis.ClientModeCluster }

// eval runs the script once for reqs, loading it if Redis does not have
// it (after a restart, or a SCRIPT FLUSH). It returns the values of every
// request, bound.width each.
func (s *Store) eval(ctx context.Context, c rueidis.CoreClient, reqs []request) ([]int64, error) {
	nkeys, width := 0, 0
	for _, r := range reqs {
		nkeys += len(r.keys)
		width += r.b.width
	}
	keys := make([]string, 0, nkeys)
	args := make([]string, 2, 2+len(reqs[0].b.spec)+len(reqs))
	// The distinct specs first (a batch rarely mixes more than a few
	// limiters, but may mix any number), then each request's code: its spec
	// index (from 1) + (S+1) × its cost, S the number of specs — or one code
	// for all when they are alike. Codes stay below 2^53, exact in Lua's
	// doubles: cost ≤ 2^30 and S ≤ maxBatchLimit.
	var specBuf [16]*bound
	specs := specBuf[:0]
	idx := make([]int, len(reqs))
	for i, r := range reqs {
		j := 0
		for j < len(specs) && specs[j] != r.b {
			j++
		}
		if j == len(specs) {
			specs = append(specs, r.b)
			args = append(args, r.b.spec...)
		}
		idx[i] = j + 1
		keys = append(keys, r.keys...)
	}
	base := len(specs) + 1
	uniform := true
	for i := range reqs {
		uniform = uniform && idx[i] == idx[0] && reqs[i].cost == reqs[0].cost
	}
	args[0] = strconv.Itoa(len(specs))
	if uniform {
		args[1] = strconv.Itoa(idx[0] + base*reqs[0].cost)
		if len(specs) == 1 && specs[0].n == 1 && specs[0].gcra[0] && distinct(keys) {
			args = append(args, "d") // the script's fast path need not track what it wrote
		}
	} else {
		args[1] = "0"
		for i, r := range reqs {
			args = append(args, strconv.Itoa(idx[i]+base*r.cost))
		}
	}
	s.evals.Add(1)
	resp := c.Do(ctx, c.B().Evalsha().Sha1(s.sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build())
	if re, ok := rueidis.IsRedisErr(resp.Error()); ok && re.IsNoScript() {
		resp = c.Do(ctx, c.B().Eval().Script(s.script).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build())
	}
	vals, err := resp.AsIntSlice()
	if err != nil {
		if mapped := redisstore.Unavailable("ratelimit", err); mapped != err || !isRedisErr(err) {
			return nil, mapped
		}
		return nil, s.scriptFailed(ctx, err)
	}
	if len(vals) != width {
		return nil, fmt.Errorf("redislimit: script returned %d values, want %d", len(vals), width)
	}
	return vals, nil
}
