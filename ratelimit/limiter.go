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

	"github.com/bulwark-go/bulwark/problem"
)

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
	watch     storeWatch // the Store's errors and outages, made visible
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
	l.watch.init(opts.Audit, l.outage, l.limits)
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
		if l.watch.degraded.Load() {
			l.watch.succeeded(l.now())
		}
		return l.decision(rs[:len(keys)]), nil
	}
	if ctx.Err() != nil {
		return callerGone(ctx) // not an outage: no OnStoreError, no policy
	}
	l.watch.failed(l.now(), err)
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
// cost above a limit (reason "cost_exceeds_limit"), or 503 when the Store
// is down under FailClosed (reason "ratelimit_unavailable"). A request
// whose context ended before the Store decided is neither charged nor
// refused: there is nobody left to answer. It writes nothing.
func (l *Limiter) Check(r *http.Request) (*http.Request, *problem.Problem) {
	d, err := l.Decide(r)
	if err != nil && r.Context().Err() != nil {
		return r, nil
	}
	return r, l.problem(d, err)
}

// problem is the answer to a refused decision, nil for an admitted one.
func (l *Limiter) problem(d Decision, err error) *problem.Problem {
	switch {
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
		l.deny.Deny(w, r, l.problem(d, err))
	})
}
