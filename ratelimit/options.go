package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// Outage is what to do when Store cannot decide. Default FallbackLocal;
	// FailClosed for login and other limits that guard a secret (see the
	// package documentation, "Choosing an outage policy").
	Outage Outage `json:"outage" yaml:"outage"`
	// OutageRetryAfter is the Retry-After of the 503 sent under FailClosed.
	// Default DefaultOutageRetryAfter (5s).
	OutageRetryAfter time.Duration `json:"outage_retry_after" yaml:"outage_retry_after"`
	// OnStoreError, when set, is called with every error from Store
	// before the Outage policy applies. It must be safe for concurrent use
	// and quick. Without it, errors are still counted (StoreHealth) and
	// their outages recorded (see Audit).
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
	// Audit receives one event per refused request, and, with a Store,
	// one per change of the Store's health: when it starts failing
	// (ReasonFallbackLocal, ReasonFailOpen or ReasonFailClosed, by
	// Outage), at most once a minute while it keeps failing
	// (ReasonStillDegraded), and when it decides again after a second
	// without errors (ReasonRecovered). Default: no refusal events, and
	// the Store's as log lines on slog.Default(), so that an outage is
	// never silent.
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
