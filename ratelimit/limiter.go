package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/problem"
)

// ErrLimited is the cause (problem.Err, in audit events) of a 429 from
// this package; test with errors.Is.
var ErrLimited = errors.New("ratelimit: rate limit exceeded")

// ErrCostExceedsLimit is the cause (problem.Err, in audit events) of a 413
// from this package: the request costs more than a limit's Limit, so it can
// never be admitted; test with errors.Is.
var ErrCostExceedsLimit = errors.New("ratelimit: the request costs more than the limit admits")

// TypeCostExceedsLimit is the problem type of a request that costs more
// than a limit's Limit (413 Content Too Large, reason "cost_exceeds_limit"):
// no wait makes it fit, so the answer carries no Retry-After and no
// RateLimit field, only RateLimit-Policy with the quota.
const TypeCostExceedsLimit = problem.BaseURI + "cost-exceeds-limit"

// ErrInvalidCost is returned by AllowN for a cost below 1.
var ErrInvalidCost = errors.New("ratelimit: cost must be at least 1")

// ErrKeyCount is returned by Allow and AllowN when the number of keys is
// neither 1 nor the number of limits.
var ErrKeyCount = errors.New("ratelimit: pass one key, or one key per limit")

// StatusClientClosedRequest (499, "client closed request" in nginx's logs)
// is what Handler answers, without a body, to a request whose context ended
// before the Store decided: the client has gone (or the request's own
// deadline passed, and whatever set it answers), so there is nobody to send
// a 503 to, and nothing was denied.
const StatusClientClosedRequest = 499

// DefaultMaxKeys is the default Options.MaxKeys.
const DefaultMaxKeys = 100_000

// DefaultMaxMemory is the default Options.MaxMemory: 256 MiB.
const DefaultMaxMemory = 256 << 20

// DefaultOutageRetryAfter is the default Options.OutageRetryAfter.
const DefaultOutageRetryAfter = 5 * time.Second

// Outage says what a Limiter does when its Store cannot decide (Redis down
// or too slow).
type Outage uint8

const (
	// FallbackLocal (the default) decides with an in-process limiter of
	// the same limits while the store is unavailable. Each replica then
	// enforces the limits on its own: during an outage a client spread
	// over N replicas can get up to N × Limit (plus what it had already
	// used in the store), and a client that had exhausted its shared
	// quota gets a fresh local one. Once the store answers again,
	// decisions go back to it (the local state is not copied over).
	FallbackLocal Outage = iota
	// FailOpen admits every request while the store is unavailable: no
	// limit at all, but no dependency on the store for availability.
	FailOpen
	// FailClosed refuses every request while the store is unavailable
	// with 503 Service Unavailable (a problem with Retry-After:
	// OutageRetryAfter) — not 429, since the client is not over its
	// limit, the service cannot check.
	FailClosed
)

var outageNames = [...]string{FallbackLocal: "fallback_local", FailOpen: "fail_open", FailClosed: "fail_closed"}

// String returns the policy's configuration name.
func (o Outage) String() string {
	if int(o) < len(outageNames) {
		return outageNames[o]
	}
	return "Outage(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (o Outage) MarshalText() ([]byte, error) {
	if int(o) >= len(outageNames) {
		return nil, fmt.Errorf("ratelimit: unknown outage policy %d", o)
	}
	return []byte(outageNames[o]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "fallback_local",
// "fail_open" or "fail_closed".
func (o *Outage) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(string(b))), "-", "_")
	for i, n := range outageNames {
		if n == s {
			*o = Outage(i)
			return nil
		}
	}
	return fmt.Errorf("ratelimit: unknown outage policy %q (want fallback_local, fail_open or fail_closed)", b)
}

// HeaderMode says on which responses the RateLimit headers are sent.
type HeaderMode uint8

const (
	// HeadersAlways (the default) sends RateLimit-Policy and RateLimit on
	// every response the limiter decided, allowed or refused.
	HeadersAlways HeaderMode = iota
	// HeadersOnDeny sends them on 429 responses only.
	HeadersOnDeny
	// HeadersNever sends none (Retry-After is still sent with a 429).
	HeadersNever
)

var headerModeNames = [...]string{HeadersAlways: "always", HeadersOnDeny: "on_deny", HeadersNever: "never"}

// MarshalText implements encoding.TextMarshaler.
func (m HeaderMode) MarshalText() ([]byte, error) {
	if int(m) >= len(headerModeNames) {
		return nil, fmt.Errorf("ratelimit: unknown header mode %d", m)
	}
	return []byte(headerModeNames[m]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "always", "on_deny"
// or "never".
func (m *HeaderMode) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(string(b))), "-", "_")
	for i, n := range headerModeNames {
		if n == s {
			*m = HeaderMode(i)
			return nil
		}
	}
	return fmt.Errorf("ratelimit: unknown header mode %q (want always, on_deny or never)", b)
}

// Options configure a Limiter. Only Limits is required.
type Options struct {
	// Limits are the limits every request is checked against, together:
	// a request is admitted only if all admit it, and a refusal by one
	// does not consume the others. Required, at most 8. Each needs a Key
	// and, when there are several, a unique Name.
	Limits []Limit `json:"limits" yaml:"limits"`
	// Store holds the state; nil (the default) keeps it in this process.
	// Use redislimit.New to share limits across replicas.
	Store Store `json:"-" yaml:"-"`
	// MaxKeys bounds the keys tracked per limit in memory (the default
	// store, and the FallbackLocal limiter); beyond it, a new key evicts
	// one (see the package documentation for which). Default
	// DefaultMaxKeys (100,000).
	MaxKeys int `json:"max_keys" yaml:"max_keys"`
	// MaxMemory bounds, in bytes, the memory the in-process state (the
	// default store, and the FallbackLocal limiter) may take once full:
	// New refuses limits whose worst case — bytes per key (see the package
	// documentation) × MaxKeys, summed over the limits — exceeds it.
	// Default DefaultMaxMemory (256 MiB).
	MaxMemory int64 `json:"max_memory" yaml:"max_memory"`
	// Outage is what to do when Store cannot decide. Default FallbackLocal.
	Outage Outage `json:"outage" yaml:"outage"`
	// OutageRetryAfter is the Retry-After of the 503 sent under FailClosed.
	// Default DefaultOutageRetryAfter (5s).
	OutageRetryAfter time.Duration `json:"outage_retry_after" yaml:"outage_retry_after"`
	// OnStoreError, when set, is called with every error from Store (for
	// logs and metrics) before the Outage policy applies. It must be safe
	// for concurrent use and quick.
	OnStoreError func(error) `json:"-" yaml:"-"`
	// Cost returns the units a request costs (weighted requests); results
	// below 1 count as 1. A request costing more than a limit's Limit gets
	// 413, not 429 (see the package documentation). Default: 1.
	Cost func(*http.Request) int `json:"-" yaml:"-"`
	// Headers says which responses carry the IETF RateLimit-Policy and
	// RateLimit headers (draft-ietf-httpapi-ratelimit-headers). Default
	// HeadersAlways.
	Headers HeaderMode `json:"headers" yaml:"headers"`
	// LegacyHeaders also sends X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (seconds from now) wherever RateLimit is sent.
	// Default false.
	LegacyHeaders bool `json:"legacy_headers" yaml:"legacy_headers"`
	// Now is the clock of the in-process state. Default time.Now. (A
	// Redis store uses the Redis server's clock.)
	Now func() time.Time `json:"-" yaml:"-"`
	// Audit receives one event per refused request. Default: none.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes refusals: 429, 413 for a cost above a limit, and
	// 503 under FailClosed. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Decision is the outcome of one request against a Limiter's limits. When
// several limits apply, the fields describe the binding one: the refusing
// limit with the longest RetryAfter, else the limit with the fewest units
// left.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Policy is the binding limit's Name ("" when decided FailOpen).
	Policy string
	// Limit is the binding limit's Limit.
	Limit int
	// Remaining is the units the binding limit still admits.
	Remaining int
	// ResetAfter is the time until the binding limit has its full quota
	// again.
	ResetAfter time.Duration
	// RetryAfter is, for a refused request, how long until the same
	// request would be admitted (0 when allowed, or when CostTooHigh).
	RetryAfter time.Duration
	// CostTooHigh is set when the request costs more than a limit's Limit:
	// it can never be admitted (Policy and Limit name that limit; Remaining
	// and ResetAfter are not known, as no state was consulted).
	CostTooHigh bool
	// Degraded is set when the Store could not decide and the Outage
	// policy did.
	Degraded bool

	index int // binding limit
}

// Limiter checks requests against a set of limits. It is safe for
// concurrent use.
type Limiter struct {
	limits    []Limit
	minLimit  int
	mem       *memoryStore // in-process state, when Store is nil
	bound     Bound        // the Store's, else nil
	fallback  *memoryStore // FallbackLocal state, when Store is set
	outage    Outage
	outageRA  time.Duration
	onErr     func(error)
	cost      func(*http.Request) int
	headers   HeaderMode
	legacy    bool
	clock     func() time.Time // nil: the real clock
	base      time.Time
	baseUnix  int64
	deny      problem.Denier
	policyHdr []string   // RateLimit-Policy, built once
	limitHdr  [][]string // X-RateLimit-Limit per limit, built once
	limitErr  []error    // ErrLimited per limit, built once
	costErr   []error    // ErrCostExceedsLimit per limit, built once
}

// New validates opts and returns a Limiter.
func New(opts Options) (*Limiter, error) {
	if len(opts.Limits) == 0 {
		return nil, errors.New("ratelimit: Options.Limits is empty: add a limit, e.g. ratelimit.TokenBucket(100, 10).By(ratelimit.ByIP())")
	}
	if len(opts.Limits) > maxLimitsPerLimiter {
		return nil, fmt.Errorf("ratelimit: at most %d limits per limiter, got %d", maxLimitsPerLimiter, len(opts.Limits))
	}
	if opts.MaxKeys < 0 {
		return nil, errors.New("ratelimit: MaxKeys must not be negative")
	}
	if opts.MaxKeys == 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.MaxMemory < 0 {
		return nil, errors.New("ratelimit: MaxMemory must not be negative")
	}
	if opts.MaxMemory == 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	if opts.Outage > FailClosed {
		return nil, fmt.Errorf("ratelimit: unknown Outage %d", opts.Outage)
	}
	if opts.Headers > HeadersNever {
		return nil, fmt.Errorf("ratelimit: unknown Headers mode %d", opts.Headers)
	}
	if opts.OutageRetryAfter < 0 {
		return nil, errors.New("ratelimit: OutageRetryAfter must not be negative")
	}
	if opts.OutageRetryAfter == 0 {
		opts.OutageRetryAfter = DefaultOutageRetryAfter
	}
	l := &Limiter{
		limits:   append([]Limit(nil), opts.Limits...),
		outage:   opts.Outage,
		outageRA: opts.OutageRetryAfter,
		onErr:    opts.OnStoreError,
		cost:     opts.Cost,
		headers:  opts.Headers,
		legacy:   opts.LegacyHeaders,
		clock:    opts.Now,
		deny:     problem.Denier{Guard: "ratelimit", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	if len(l.limits) == 1 && l.limits[0].Name == "" {
		l.limits[0].Name = "default"
	}
	seen := make(map[string]bool, len(l.limits))
	l.minLimit = l.limits[0].Limit
	var policy strings.Builder
	for i := range l.limits {
		lim := &l.limits[i]
		if err := lim.validate(); err != nil {
			return nil, err
		}
		if seen[lim.Name] {
			return nil, fmt.Errorf("ratelimit: two limits are named %q; names must be unique", lim.Name)
		}
		seen[lim.Name] = true
		l.minLimit = min(l.minLimit, lim.Limit)
		if i > 0 {
			policy.WriteString(", ")
		}
		fmt.Fprintf(&policy, "%q;q=%d;w=%d", lim.Name, lim.Limit, lim.windowSeconds())
		l.limitHdr = append(l.limitHdr, []string{strconv.Itoa(lim.Limit)})
		l.limitErr = append(l.limitErr, fmt.Errorf("%w (policy %q: %d per %s by %s)", ErrLimited, lim.Name, lim.Limit, lim.Window, lim.Key))
		l.costErr = append(l.costErr, fmt.Errorf("%w (policy %q admits at most %d units at once)", ErrCostExceedsLimit, lim.Name, lim.Limit))
	}
	l.policyHdr = []string{policy.String()}
	if l.clock != nil {
		l.base = l.clock()
	} else {
		l.base = time.Now()
	}
	l.baseUnix = l.base.UnixNano()
	if opts.Store == nil || l.outage == FallbackLocal {
		if err := checkMemory(l.limits, opts.MaxKeys, opts.MaxMemory); err != nil {
			return nil, err
		}
	}
	if opts.Store == nil {
		l.mem = newMemoryStore(l.limits, opts.MaxKeys)
		return l, nil
	}
	b, err := opts.Store.Bind(l.limits)
	if err != nil {
		return nil, err
	}
	l.bound = b
	if l.outage == FallbackLocal {
		l.fallback = newMemoryStore(l.limits, opts.MaxKeys)
	}
	return l, nil
}

// checkMemory refuses limits whose in-process state may outgrow budget.
func checkMemory(limits []Limit, maxKeys int, budget int64) error {
	var perKey int64
	big := 0
	for i := range limits {
		b := memoryPerKey(limits[i].Algorithm, limits[i].Limit)
		perKey += b
		if b > memoryPerKey(limits[big].Algorithm, limits[big].Limit) {
			big = i
		}
	}
	total := perKey * int64(maxKeys)
	if total <= budget {
		return nil
	}
	l := &limits[big]
	what := fmt.Sprintf("limit %q (%s %d per %s)", l.Name, l.Algorithm, l.Limit, l.Window)
	if len(limits) > 1 {
		what = fmt.Sprintf("the %d limits (the largest: %s)", len(limits), what)
	}
	why := ""
	if l.Algorithm == AlgSlidingWindow {
		why = " (a sliding window keeps an 8-byte timestamp per unit of its Limit)"
	}
	fits := max(budget/perKey, 1)
	hint := fmt.Sprintf("lower MaxKeys to at most %d, or raise MaxMemory", fits)
	if l.Algorithm == AlgSlidingWindow {
		hint = fmt.Sprintf("use ratelimit.GCRA or ratelimit.TokenBucket (at most %d bytes per key, whatever the Limit), ", memoryPerKey(AlgGCRA, 1)) + hint
	}
	return fmt.Errorf("ratelimit: %s may take up to %s of memory: %d bytes per key%s × MaxKeys %d, above MaxMemory (%s); %s",
		what, formatBytes(total), perKey, why, maxKeys, formatBytes(budget), hint)
}

// formatBytes writes n in binary units, e.g. "1.1 GiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTP"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[exp])
}

// Limits returns a copy of the limiter's limits, defaults applied.
func (l *Limiter) Limits() []Limit { return append([]Limit(nil), l.limits...) }

// now reads the in-process clock: nanoseconds since the Unix epoch, but
// advancing with the monotonic clock, so a wall-clock step does not move
// it. (time.Since reads only the monotonic clock: half the cost of
// time.Now.)
func (l *Limiter) now() int64 {
	if l.clock != nil {
		return l.baseUnix + int64(l.clock().Sub(l.base))
	}
	return l.baseUnix + int64(time.Since(l.base))
}

// Decide checks r against every limit and charges them if all admit it,
// and returns the whole outcome: Check's decision with the figures behind
// it (for the RateLimit headers, see SetHeaders). It writes nothing. The
// error is non-nil only when the Store could not decide and the Outage
// policy is FailClosed (the Decision then refuses the request, with
// RetryAfter set to OutageRetryAfter), or when r's context ended before
// the Store decided: the error then wraps ctx.Err()
// (context.Canceled, context.DeadlineExceeded), the Decision admits
// nothing, and neither OnStoreError nor the Outage policy applies — a
// caller that gave up says nothing about the Store.
func (l *Limiter) Decide(r *http.Request) (d Decision, err error) {
	cost := 1
	if l.cost != nil {
		cost = max(l.cost(r), 1)
	}
	var buf [256]byte
	if l.mem != nil {
		if len(l.limits) == 1 {
			l.decideOne(&d, hashKey(l.mem.seed, l.limits[0].Key.appendKey(buf[:0], r)), cost)
			return d, nil
		}
		var hs [maxLimitsPerLimiter]uint64
		for i := range l.limits {
			hs[i] = hashKey(l.mem.seed, l.limits[i].Key.appendKey(buf[:0], r))
		}
		return l.decideMemory(l.mem, hs[:len(l.limits)], cost), nil
	}
	sc := getScratch()
	defer putScratch(sc)
	keys := sc.keys[:len(l.limits)]
	for i := range l.limits {
		keys[i] = string(l.limits[i].Key.appendKey(buf[:0], r))
	}
	return l.decideStore(r.Context(), sc, keys, cost)
}

// Allow is AllowN with a cost of 1.
func (l *Limiter) Allow(ctx context.Context, keys ...string) (Decision, error) {
	return l.AllowN(ctx, 1, keys...)
}

// AllowN decides a request of cost units for the given keys, outside HTTP:
// one key for every limit, or one key per limit (in Options.Limits order).
// The limits' Key fields are not used. Keys are used as given: bound their
// length, and hash secrets first. Errors: ErrInvalidCost, ErrKeyCount,
// under FailClosed a Store outage, and ctx ending before the Store decided
// (see Decide).
func (l *Limiter) AllowN(ctx context.Context, cost int, keys ...string) (d Decision, err error) {
	if l.mem != nil && len(l.limits) == 1 && len(keys) == 1 && cost >= 1 {
		l.decideOne(&d, hashString(l.mem.seed, keys[0]), cost) // the hot path
		return d, nil
	}
	return l.allowN(ctx, cost, keys)
}

func (l *Limiter) allowN(ctx context.Context, cost int, keys []string) (Decision, error) {
	if cost < 1 {
		return Decision{}, ErrInvalidCost
	}
	if len(keys) != 1 && len(keys) != len(l.limits) {
		return Decision{}, ErrKeyCount
	}
	if l.mem != nil {
		var hs [maxLimitsPerLimiter]uint64
		for i := range l.limits {
			hs[i] = hashString(l.mem.seed, keys[min(i, len(keys)-1)])
		}
		return l.decideMemory(l.mem, hs[:len(l.limits)], cost), nil
	}
	sc := getScratch()
	defer putScratch(sc)
	ks := sc.keys[:len(l.limits)]
	for i := range ks {
		ks[i] = keys[min(i, len(keys)-1)]
	}
	return l.decideStore(ctx, sc, ks, cost)
}

// storeScratch is the space a Store decision passes to Bound.Take: the
// interface call would move it to the heap on every decision, so it is
// pooled instead (Take retains neither keys nor results).
type storeScratch struct {
	keys [maxLimitsPerLimiter]string
	rs   [maxLimitsPerLimiter]Result
}

var scratchPool = sync.Pool{New: func() any { return new(storeScratch) }}

func getScratch() *storeScratch { return scratchPool.Get().(*storeScratch) }

func putScratch(sc *storeScratch) {
	clear(sc.keys[:]) // no key outlives its decision
	scratchPool.Put(sc)
}

func hashKey(seed maphash.Seed, b []byte) uint64 {
	h := maphash.Bytes(seed, b)
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

func hashString(seed maphash.Seed, s string) uint64 {
	h := maphash.String(seed, s)
	if h == 0 {
		h = 1
	}
	return h
}

// tooCostly returns the decision for a cost above some limit's Limit.
func (l *Limiter) tooCostly(cost int) (Decision, bool) {
	if cost <= l.minLimit {
		return Decision{}, false
	}
	for i := range l.limits {
		if cost > l.limits[i].Limit {
			return Decision{Policy: l.limits[i].Name, Limit: l.limits[i].Limit, CostTooHigh: true, index: i}, true
		}
	}
	return Decision{}, false
}

// decideOne is decideMemory for a limiter of one limit, in memory: the
// hot path.
func (l *Limiter) decideOne(d *Decision, h uint64, cost int) {
	lim := &l.limits[0]
	d.Policy, d.Limit = lim.Name, lim.Limit
	if cost > lim.Limit {
		d.CostTooHigh = true
		return
	}
	var r Result
	t := l.mem.tables[0]
	t.touch(h)
	t.take(h, l.now(), int64(cost), &r)
	d.Allowed, d.Remaining, d.ResetAfter, d.RetryAfter = r.Allowed, r.Remaining, r.ResetAfter, r.RetryAfter
}

func (l *Limiter) decideMemory(s *memoryStore, hs []uint64, cost int) Decision {
	if d, ok := l.tooCostly(cost); ok {
		return d
	}
	for k, h := range hs {
		s.tables[k].touch(h) // see touch: overlaps the misses with the clock read
	}
	now := l.now()
	var rs [maxLimitsPerLimiter]Result
	if len(hs) == 1 {
		s.tables[0].take(hs[0], now, int64(cost), &rs[0])
	} else {
		s.takeAll(hs, now, int64(cost), rs[:len(hs)])
	}
	return l.decision(rs[:len(hs)])
}

func (l *Limiter) decideStore(ctx context.Context, sc *storeScratch, keys []string, cost int) (Decision, error) {
	if d, ok := l.tooCostly(cost); ok {
		return d, nil
	}
	if ctx.Err() != nil {
		return callerGone(ctx)
	}
	rs := &sc.rs
	clear(rs[:len(keys)]) // a Store that fills nothing refuses, as with fresh results
	err := l.bound.Take(ctx, keys, cost, rs[:len(keys)])
	if err == nil {
		return l.decision(rs[:len(keys)]), nil
	}
	if ctx.Err() != nil {
		return callerGone(ctx) // not an outage: no OnStoreError, no policy
	}
	if l.onErr != nil {
		l.onErr(err)
	}
	switch l.outage {
	case FailOpen:
		return Decision{Allowed: true, Degraded: true, index: -1}, nil
	case FailClosed:
		return Decision{RetryAfter: l.outageRA, Degraded: true, index: -1}, fmt.Errorf("ratelimit: cannot decide: %w", err)
	}
	var hs [maxLimitsPerLimiter]uint64
	for i, k := range keys {
		hs[i] = hashString(l.fallback.seed, k)
	}
	d := l.decideMemory(l.fallback, hs[:len(keys)], cost)
	d.Degraded = true
	return d, nil
}

// callerGone is the outcome of a decision whose caller gave up first.
func callerGone(ctx context.Context) (Decision, error) {
	return Decision{index: -1}, fmt.Errorf("ratelimit: the caller gave up before the store decided: %w", ctx.Err())
}

// decision folds per-limit results into the binding limit's view.
func (l *Limiter) decision(rs []Result) Decision {
	b := 0
	allowed := rs[0].Allowed
	for i := 1; i < len(rs); i++ {
		allowed = allowed && rs[i].Allowed
		switch {
		case !rs[i].Allowed && (rs[b].Allowed || rs[i].RetryAfter > rs[b].RetryAfter):
			b = i
		case rs[i].Allowed && rs[b].Allowed && (rs[i].Remaining < rs[b].Remaining ||
			rs[i].Remaining == rs[b].Remaining && rs[i].ResetAfter > rs[b].ResetAfter):
			b = i
		}
	}
	r := &rs[b]
	return Decision{
		Allowed:    allowed,
		Policy:     l.limits[b].Name,
		Limit:      l.limits[b].Limit,
		Remaining:  r.Remaining,
		ResetAfter: r.ResetAfter,
		RetryAfter: r.RetryAfter,
		index:      b,
	}
}

// Check is the guard's decision (see Decide): it charges the limits and
// returns r and, when the request is refused, the problem Handler would
// answer with — 429 with Retry-After (reason "rate_limited"), 413 for a
// cost above a limit (reason "cost_exceeds_limit"), 503 when the Store is
// down under FailClosed (reason "ratelimit_unavailable"), or 503 with
// reason "client_gone" when r's context ended first. It writes nothing.
func (l *Limiter) Check(r *http.Request) (*http.Request, *problem.Problem) {
	d, err := l.Decide(r)
	return r, l.problem(r, d, err)
}

// problem is the answer to a refused decision, nil for an admitted one.
func (l *Limiter) problem(r *http.Request, d Decision, err error) *problem.Problem {
	switch {
	case err != nil && r.Context().Err() != nil:
		return problem.Unavailable(0, "the request ended before the rate limit was decided").
			WithReason("client_gone").WithErr(err)
	case err != nil:
		return problem.Unavailable(d.RetryAfter, "rate limiting is temporarily unavailable; retry later").
			WithReason("ratelimit_unavailable").WithErr(err)
	case d.Allowed:
		return nil
	case d.CostTooHigh:
		return problem.New(http.StatusRequestEntityTooLarge, TypeCostExceedsLimit,
			"the request costs more than the rate limit ever admits at once; retrying cannot help").
			WithReason("cost_exceeds_limit").With("policy", d.Policy).With("limit", d.Limit).WithErr(l.costErr[d.index])
	}
	return problem.TooManyRequests(d.RetryAfter, "rate limit exceeded; retry after the time given in Retry-After").
		WithReason("rate_limited").With("policy", d.Policy).WithErr(l.limitErr[d.index])
}

// Handler returns middleware that admits requests within the limits and
// refuses the others with the problem Check returns, one audit event each
// (a request whose client has gone gets a bare 499, unaudited: nothing was
// denied). Responses carry the RateLimit headers as Options.Headers says;
// nested limiters (a route's limiter inside a site-wide one) each add
// their own members to those lists (see SetHeaders).
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := l.Decide(r)
		if err != nil && r.Context().Err() != nil {
			// The client has gone: no 503, no audit event.
			w.WriteHeader(StatusClientClosedRequest)
			return
		}
		if d.Allowed {
			if l.headers == HeadersAlways {
				l.SetHeaders(w.Header(), d)
			}
			next.ServeHTTP(w, r)
			return
		}
		if err == nil && l.headers != HeadersNever {
			l.SetHeaders(w.Header(), d)
		}
		l.deny.Deny(w, r, l.problem(r, d, err))
	})
}

// SetHeaders writes the RateLimit-Policy and RateLimit headers for d (and
// the legacy X-RateLimit-* ones if enabled) into h, whatever
// Options.Headers says. It writes nothing for a decision without a policy
// (FailOpen).
//
// Both headers are Structured Field lists, so SetHeaders adds to them
// rather than replacing them: when limiters are nested (a login limit
// inside a site-wide bucket) the response lists every policy and each one's
// state. A limiter's own members are never repeated: its policies are
// added once, and its RateLimit member replaces an earlier one of the same
// policy name. The legacy headers are not lists; they describe the most
// restrictive limit, the one with the fewest units remaining. For a
// decision with CostTooHigh only the policy (and the legacy limit) is
// written: the request can never pass, so no RateLimit member invites a
// retry.
func (l *Limiter) SetHeaders(h http.Header, d Decision) {
	if d.index < 0 || d.Policy == "" {
		return
	}
	own := addPolicy(h, l.policyHdr)
	if d.CostTooHigh {
		if l.legacy {
			h["X-Ratelimit-Limit"] = l.limitHdr[d.index]
		}
		return
	}
	// One allocation holds every value written: the RateLimit member, and
	// the legacy remaining and reset, which are parts of it.
	buf := new(headerValues)
	v := append(buf.b[:0], '"')
	v = append(v, d.Policy...)
	v = append(v, `";r=`...)
	r0 := len(v)
	v = strconv.AppendInt(v, int64(d.Remaining), 10)
	r1 := len(v)
	v = append(v, ";t="...)
	t0 := len(v)
	v = strconv.AppendInt(v, seconds(d.ResetAfter), 10)
	s := unsafe.String(&v[0], len(v)) // v is never written again
	buf.vals = [3]string{s, s[r0:r1], s[t0:]}
	addMember(h, "Ratelimit", d.Policy, buf.vals[0:1:1], own)
	if l.legacy && !moreRestrictive(h, d.Remaining) {
		h["X-Ratelimit-Limit"] = l.limitHdr[d.index]
		h["X-Ratelimit-Remaining"] = buf.vals[1:2:2]
		h["X-Ratelimit-Reset"] = buf.vals[2:3:3]
	}
}

// headerValues is the one allocation behind a response's rate-limit
// header values.
type headerValues struct {
	vals [3]string // RateLimit member, X-RateLimit-Remaining, X-RateLimit-Reset
	b    [96]byte  // their bytes: a quoted name of ≤ 64 bytes and two numbers
}

// addPolicy adds a limiter's RateLimit-Policy members (one value, built
// once) to h, unless they are there already. It reports whether they were:
// then an earlier RateLimit member of the same name is this policy's own
// (written again), not another limiter's that happens to share the name.
func addPolicy(h http.Header, p []string) (present bool) {
	old := h["Ratelimit-Policy"]
	if len(old) == 0 {
		h["Ratelimit-Policy"] = p // the common case: shared, never written to
		return false
	}
	for _, v := range old {
		if v == p[0] {
			return true
		}
	}
	h["Ratelimit-Policy"] = append(old[:len(old):len(old)], p[0]) // a copy: old may be shared
	return false
}

// addMember adds the RateLimit member of policy name to h. With replace,
// an earlier member of the same name is this limiter's own and is dropped;
// otherwise a member of another limiter that shares the name (two unnamed
// limiters are both "default") is kept beside it, never silently lost.
func addMember(h http.Header, key, name string, item []string, replace bool) {
	old := h[key]
	if len(old) == 0 {
		h[key] = item
		return
	}
	out := make([]string, 0, len(old)+1)
	for _, v := range old {
		if !replace || !(len(v) > len(name)+1 && v[0] == '"' && v[1:1+len(name)] == name && v[1+len(name)] == '"') {
			out = append(out, v)
		}
	}
	h[key] = append(out, item[0])
}

// moreRestrictive reports whether h's legacy headers already describe a
// limit with at most remaining units left.
func moreRestrictive(h http.Header, remaining int) bool {
	old := h["X-Ratelimit-Remaining"]
	if len(old) == 0 {
		return false
	}
	n, err := strconv.Atoi(old[0])
	return err == nil && n <= remaining
}

// seconds rounds d up to whole seconds (0 stays 0).
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
