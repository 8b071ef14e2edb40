package ratelimit

import (
	"context"
	"time"
)

// Store keeps limit state outside the process, so that every replica of a
// service shares one limit: package ratelimit/redislimit implements it on
// Redis. When Options.Store is nil, state lives in this process (bounded,
// see Options.MaxKeys).
type Store interface {
	// Bind prepares the store for one Limiter's validated limits; New calls
	// it once. It returns an error for limits the store cannot decide
	// exactly.
	Bind(limits []Limit) (Bound, error)
}

// Bound decides requests against the limits a Store was bound to.
type Bound interface {
	// Take decides one request of cost units (1 ≤ cost ≤ every limit's
	// Limit): keys[i] is the key of limit i. Either every limit admits the
	// request and all are charged, or none is charged. results[i] receives
	// limit i's outcome. A non-nil error means the store could not decide
	// (errors.Is(err, store.ErrUnavailable) for an outage); the Limiter then
	// applies its Outage policy. Take must not retain keys or results.
	Take(ctx context.Context, keys []string, cost int, results []Result) error
}

// Result is one limit's outcome for one request.
type Result struct {
	// Allowed reports whether the limit admits the request.
	Allowed bool
	// Remaining is the number of units the limit would still admit now
	// (after this request, when allowed).
	Remaining int
	// ResetAfter is the time until the limit is back to its full quota,
	// if no more requests come.
	ResetAfter time.Duration
	// RetryAfter is, for a refused request, the time until the same request
	// would be admitted; 0 when allowed.
	RetryAfter time.Duration
}
