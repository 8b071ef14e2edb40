package redislimit

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/store"
)

// breaker stops a Store from asking a Redis that keeps failing. After
// breakerThreshold consecutive outage errors it opens for a back-off
// (breakerMin the first time): decisions then fail at once with
// store.ErrUnavailable, so the Limiter's outage policy applies without
// every request first waiting out the timeout. When the back-off ends, one
// decision probes Redis; its success closes the breaker, its failure
// reopens it for twice as long (up to breakerMax).
//
// Only those two events lengthen the back-off. Decisions in flight when
// the breaker opens fail too, typically all at once when Redis freezes;
// they count for nothing, and neither do failures of decisions that
// started before the breaker last closed (they describe the outage that
// has ended, not the Redis that just answered the probe). Times are the
// Store's clock: nanoseconds on the monotonic clock.
type breaker struct {
	openUntil atomic.Int64  // when the back-off ends; 0 when closed
	failures  atomic.Int32  // consecutive outage errors while closed
	epoch     atomic.Uint64 // bumped whenever the breaker closes
	probing   atomic.Bool   // a probe is in flight

	mu      sync.Mutex // opening and closing
	backoff int64      // the current back-off (ns); 0 when closed
}

const breakerThreshold = 3

// The back-off bounds (variables for tests).
var (
	breakerMin = 250 * time.Millisecond
	breakerMax = 2 * time.Second
)

var errBreakerOpen = &store.UnavailableError{Op: "ratelimit", Err: errors.New("redislimit: Redis failed repeatedly; not asking it until the back-off ends")}

// allow reports whether a decision may go to Redis and whether it is the
// probe after a back-off, and returns the ticket to hand to failure.
func (b *breaker) allow(now int64) (ok, probe bool, ticket uint64) {
	u := b.openUntil.Load()
	ticket = b.epoch.Load() // after openUntil: a close bumps the epoch first
	if u == 0 {
		return true, false, ticket
	}
	if now < u || !b.probing.CompareAndSwap(false, true) {
		return false, false, ticket
	}
	return true, true, ticket
}

// success records an answer from Redis: the breaker closes.
func (b *breaker) success(probe bool) {
	if b.failures.Load() != 0 || b.openUntil.Load() != 0 {
		b.mu.Lock()
		b.failures.Store(0)
		if b.openUntil.Load() != 0 {
			b.epoch.Add(1)
			b.openUntil.Store(0)
			b.backoff = 0
		}
		b.mu.Unlock()
	}
	b.release(probe)
}

// failure records an outage error of a decision that allow let through
// with ticket.
func (b *breaker) failure(now int64, probe bool, ticket uint64) {
	b.mu.Lock()
	switch {
	case b.epoch.Load() != ticket:
		// Started before the breaker last closed: a late report of the
		// outage that has ended.
	case probe:
		b.open(now) // Redis is still down: twice as long
	case b.openUntil.Load() != 0:
		// In flight when the breaker opened: already accounted for.
	case b.failures.Add(1) >= breakerThreshold:
		b.open(now)
	}
	b.mu.Unlock()
	b.release(probe)
}

// open starts a back-off: breakerMin after a close, else twice the last
// one, at most breakerMax. b.mu is held.
func (b *breaker) open(now int64) {
	b.backoff = min(max(2*b.backoff, int64(breakerMin)), int64(breakerMax))
	b.failures.Store(0)
	b.openUntil.Store(now + b.backoff)
}

// release ends a decision that says nothing about Redis (its caller gave
// up, or Redis answered with an error of another kind).
func (b *breaker) release(probe bool) {
	if probe {
		b.probing.Store(false)
	}
}
