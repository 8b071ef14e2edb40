// Package breaker is the circuit breaker of every Redis-backed store
// (store/redisstore and ratelimit/redislimit): after a few consecutive
// outage errors it stops the store from asking Redis for a back-off, so
// that calls fail at once with store.ErrUnavailable — each guard's outage
// policy then answers in microseconds instead of after the store's
// timeout — and then lets one call probe Redis.
//
// Each change of state is reported once (Options.OnChange; Report turns it
// into one audit event, which the slog sink writes as one log line and
// metrics.Sink counts): the opening, a summary at most once a minute while
// the outage goes on, and the closing — never one report per call.
package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options.
const (
	DefaultThreshold  = 3
	DefaultMinBackoff = 250 * time.Millisecond
	DefaultMaxBackoff = 500 * time.Millisecond
	DefaultSummary    = time.Minute
)

// State is a breaker's state.
type State uint8

const (
	// Closed: calls go to Redis.
	Closed State = iota
	// Open: calls fail at once, but for the probe at the end of each
	// back-off.
	Open
)

// String returns "closed" or "open".
func (s State) String() string {
	if s == Open {
		return "open"
	}
	return "closed"
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Options configure a Breaker. The zero value of each field is its default.
type Options struct {
	// Threshold is the number of consecutive outage errors that open the
	// breaker. Default 3.
	Threshold int
	// MinBackoff is the first back-off after the breaker opens; each
	// failed probe doubles it, up to MaxBackoff. Defaults 250ms and 500ms: a Redis that comes back is asked again within half a second.
	MinBackoff, MaxBackoff time.Duration
	// Summary is the least time between two reports of an outage that
	// goes on (Change.Ongoing). Default one minute.
	Summary time.Duration
	// OnChange, when set, is called with each change: under the breaker's
	// lock, so that changes arrive in order. It must be quick and must not
	// call the breaker's Allow, Success or Failure.
	OnChange func(Change)
}

// Change is one report of a Breaker.
type Change struct {
	// To is the state entered: Open when the breaker opened (or, with
	// Ongoing, stays open), Closed when it closed.
	To State
	// Ongoing marks a summary of an outage that goes on: a probe failed,
	// and the last report is at least Options.Summary old.
	Ongoing bool
	// Err is the failure that opened the breaker, or the failed probe.
	Err error
	// Backoff is the back-off that starts (To == Open).
	Backoff time.Duration
	// Duration is how long the breaker has been open (Ongoing, Closed).
	Duration time.Duration
	// Refused is the number of calls refused at once since it opened.
	Refused int64
	// Probes is the number of failed probes since it opened.
	Probes int64
}

// Breaker counts outage errors and opens after Options.Threshold in a row.
// Its methods take the time as nanoseconds on the caller's clock (only
// differences matter; stores use the monotonic clock, so that a step of
// the wall clock moves no back-off).
//
// Only two events lengthen the back-off: the opening (MinBackoff) and a
// failed probe (twice the last, at most MaxBackoff). Calls in flight when
// the breaker opens fail too, typically all at once when Redis freezes;
// they count for nothing, and neither do failures of calls that started
// before the breaker last closed (they describe the outage that has ended,
// not the Redis that just answered the probe). It is safe for concurrent
// use; a closed breaker costs each call two atomic loads.
type Breaker struct {
	openUntil atomic.Int64  // when the back-off ends; 0 when closed
	failures  atomic.Int32  // consecutive outage errors while closed
	epoch     atomic.Uint64 // bumped whenever the breaker closes
	probing   atomic.Bool   // a probe is in flight
	refused   atomic.Int64  // calls refused since it opened

	mu       sync.Mutex // opening and closing
	backoff  int64      // the current back-off (ns); 0 when closed
	openedAt int64      // when it opened
	reported int64      // when the last Change was reported
	probes   int64      // failed probes since it opened

	threshold          int32
	minBackoff, maxOff int64
	summary            int64
	onChange           func(Change)
}

// New returns a closed Breaker.
func New(opts Options) *Breaker {
	b := &Breaker{
		threshold:  int32(opts.Threshold),
		minBackoff: int64(opts.MinBackoff),
		maxOff:     int64(opts.MaxBackoff),
		summary:    int64(opts.Summary),
		onChange:   opts.OnChange,
	}
	if b.threshold <= 0 {
		b.threshold = DefaultThreshold
	}
	if b.minBackoff <= 0 {
		b.minBackoff = int64(DefaultMinBackoff)
	}
	if b.maxOff <= 0 {
		b.maxOff = int64(DefaultMaxBackoff)
	}
	b.maxOff = max(b.maxOff, b.minBackoff)
	if b.summary <= 0 {
		b.summary = int64(DefaultSummary)
	}
	return b
}

// Ticket is what Allow hands a call, to give back to Success, Failure or
// Release.
type Ticket struct {
	epoch uint64
	probe bool
}

// Probe reports whether the call is the probe at the end of a back-off.
func (t Ticket) Probe() bool { return t.probe }

// State returns the breaker's state.
func (b *Breaker) State() State {
	if b.openUntil.Load() != 0 {
		return Open
	}
	return Closed
}

// Allow reports whether a call may go to Redis at now; if it may, the
// caller must end it with exactly one of Success, Failure or Release.
func (b *Breaker) Allow(now int64) (Ticket, bool) {
	u := b.openUntil.Load()
	t := Ticket{epoch: b.epoch.Load()} // after openUntil: a close bumps the epoch first
	if u == 0 {
		return t, true
	}
	if now < u || !b.probing.CompareAndSwap(false, true) {
		b.refused.Add(1)
		return t, false
	}
	t.probe = true
	return t, true
}

// Success records an answer from Redis at now: the breaker closes.
func (b *Breaker) Success(now int64, t Ticket) {
	if b.failures.Load() != 0 || b.openUntil.Load() != 0 {
		b.mu.Lock()
		b.failures.Store(0)
		if b.openUntil.Load() != 0 {
			b.epoch.Add(1)
			b.openUntil.Store(0)
			c := Change{To: Closed, Duration: time.Duration(now - b.openedAt), Refused: b.refused.Swap(0), Probes: b.probes}
			b.backoff, b.probes, b.reported = 0, 0, now
			b.notify(c)
		}
		b.mu.Unlock()
	}
	b.Release(t)
}

// Failure records an outage error err, at now, of a call that Allow let
// through with t.
func (b *Breaker) Failure(now int64, t Ticket, err error) {
	b.mu.Lock()
	switch {
	case b.epoch.Load() != t.epoch:
		// Started before the breaker last closed: a late report of the
		// outage that has ended.
	case t.probe:
		b.open(now) // Redis is still down: twice as long
		b.probes++
		if now-b.reported >= b.summary {
			b.reported = now
			b.notify(Change{To: Open, Ongoing: true, Err: err, Backoff: time.Duration(b.backoff),
				Duration: time.Duration(now - b.openedAt), Refused: b.refused.Load(), Probes: b.probes})
		}
	case b.openUntil.Load() != 0:
		// In flight when the breaker opened: already accounted for.
	case b.failures.Add(1) >= b.threshold:
		b.open(now)
		b.openedAt, b.reported = now, now
		b.refused.Store(0)
		b.notify(Change{To: Open, Err: err, Backoff: time.Duration(b.backoff)})
	}
	b.mu.Unlock()
	b.Release(t)
}

// Release ends a call that says nothing about Redis: its caller gave up,
// or Redis answered with an error of another kind (a script error, out of
// memory), which is no outage.
func (b *Breaker) Release(t Ticket) {
	if t.probe {
		b.probing.Store(false)
	}
}

// open starts a back-off: MinBackoff after a close, else twice the last
// one, at most MaxBackoff. b.mu is held.
func (b *Breaker) open(now int64) {
	b.backoff = min(max(2*b.backoff, b.minBackoff), b.maxOff)
	b.failures.Store(0)
	b.openUntil.Store(now + b.backoff)
}

// notify reports c; b.mu is held.
func (b *Breaker) notify(c Change) {
	if b.onChange != nil {
		b.onChange(c)
	}
}
