package redislimit

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/store"
)

// breaker stops a Store from asking a Redis that keeps failing. After
// breakerThreshold consecutive outage errors it opens for a back-off
// (breakerMin, doubling up to breakerMax): decisions then fail at once
// with store.ErrUnavailable, so the Limiter's outage policy applies without
// every request first waiting out the timeout. When the back-off ends, one
// decision probes Redis; its success closes the breaker, its failure
// reopens it for longer.
type breaker struct {
	failures  atomic.Int32
	openUntil atomic.Int64 // Unix ns; 0 when closed
	backoff   atomic.Int64
	probing   atomic.Bool
}

const breakerThreshold = 3

// The back-off bounds (variables for tests).
var (
	breakerMin = 250 * time.Millisecond
	breakerMax = 2 * time.Second
)

var errBreakerOpen = &store.UnavailableError{Op: "ratelimit", Err: errors.New("redislimit: Redis failed repeatedly; not asking it until the back-off ends")}

// allow reports whether a decision may go to Redis, and whether it is the
// probe after a back-off.
func (b *breaker) allow(now int64) (ok, probe bool) {
	u := b.openUntil.Load()
	if u == 0 {
		return true, false
	}
	if now < u || !b.probing.CompareAndSwap(false, true) {
		return false, false
	}
	return true, true
}

// release ends a decision that says nothing about Redis (its caller gave
// up, or Redis answered with an error of another kind).
func (b *breaker) release(probe bool) {
	if probe {
		b.probing.Store(false)
	}
}

func (b *breaker) success(probe bool) {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if b.openUntil.Load() != 0 {
		b.openUntil.Store(0)
		b.backoff.Store(0)
	}
	if probe {
		b.probing.Store(false)
	}
}

func (b *breaker) failure(now int64, probe bool) {
	if n := b.failures.Add(1); n >= breakerThreshold || probe {
		d := min(max(2*b.backoff.Load(), int64(breakerMin)), int64(breakerMax))
		b.backoff.Store(d)
		b.openUntil.Store(now + d)
	}
	if probe {
		b.probing.Store(false)
	}
}
