package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Algorithm selects how a Limit counts. The text forms ("token_bucket",
// "gcra", "sliding_window", "fixed_window") are what configuration files
// use.
type Algorithm uint8

// The algorithms. See the package documentation for the accuracy of each.
const (
	// AlgTokenBucket is a bucket of Limit tokens refilled continuously at
	// Limit per Window. It is implemented as GCRA: identical decisions,
	// one timestamp of state, integer arithmetic.
	AlgTokenBucket Algorithm = iota + 1
	// AlgGCRA is the generic cell rate algorithm: a sustained rate of
	// Limit per Window with bursts of up to Limit. Exact.
	AlgGCRA
	// AlgSlidingWindow admits at most Limit units in any window of length
	// Window (an exact sliding log; Limit ≤ MaxSlidingLimit).
	AlgSlidingWindow
	// AlgFixedWindow admits at most Limit units per calendar window of
	// length Window aligned to the Unix epoch; up to 2×Limit can pass
	// around a window boundary.
	AlgFixedWindow
)

// MaxSlidingLimit is the largest Limit a sliding window accepts: its state
// keeps one timestamp per admitted unit (8 bytes each). Use GCRA for larger
// limits.
const MaxSlidingLimit = 1000

// MaxWindow is the longest Window a limit accepts.
const MaxWindow = 366 * 24 * time.Hour

var algNames = [...]string{AlgTokenBucket: "token_bucket", AlgGCRA: "gcra", AlgSlidingWindow: "sliding_window", AlgFixedWindow: "fixed_window"}

// String returns the algorithm's configuration name.
func (a Algorithm) String() string {
	if int(a) < len(algNames) && algNames[a] != "" {
		return algNames[a]
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (a Algorithm) MarshalText() ([]byte, error) {
	if int(a) >= len(algNames) || algNames[a] == "" {
		return nil, fmt.Errorf("ratelimit: unknown algorithm %d", a)
	}
	return []byte(algNames[a]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "token_bucket",
// "gcra", "sliding_window" or "fixed_window" (case-insensitive, '-' for '_'
// accepted).
func (a *Algorithm) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(string(b))), "-", "_")
	for i, n := range algNames {
		if n != "" && n == s {
			*a = Algorithm(i)
			return nil
		}
	}
	return fmt.Errorf("ratelimit: unknown algorithm %q (want token_bucket, gcra, sliding_window or fixed_window)", b)
}

// Limit is one rate limit: an algorithm, its size, and what it limits by.
// Build one with TokenBucket, GCRA, SlidingWindow or FixedWindow, then name
// it and say what it is keyed by:
//
//	ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())
//
// The struct doubles as configuration (YAML/JSON field names in tags).
type Limit struct {
	// Name identifies the limit in the RateLimit-Policy and RateLimit
	// headers, in audit events and in shared state: limits of the same
	// name and key share their state in a shared Store, so give every
	// distinct limit its own name. Letters, digits, '-', '_' and '.', at
	// most 64 bytes. Default "default" when the Limiter has one limit;
	// required otherwise.
	Name string `json:"name" yaml:"name"`
	// Algorithm is how the limit counts. Required.
	Algorithm Algorithm `json:"algorithm" yaml:"algorithm"`
	// Limit is the most units the limit admits at once: the bucket
	// capacity (token bucket), the burst (GCRA), or the units per window
	// (sliding and fixed windows). Required, ≥ 1.
	Limit int `json:"limit" yaml:"limit"`
	// Window is the window of the sliding and fixed windows; for the token
	// bucket and GCRA it is the time to refill Limit units from empty, so
	// the sustained rate is Limit per Window. Required, > 0, ≤ MaxWindow.
	Window time.Duration `json:"window" yaml:"window"`
	// Key says what the limit counts by: ByIP(), ByPrincipal(),
	// ByAPIKey(header), ByHeader(name), ByRoute(), ByFunc(f), Global() or
	// a Compose of them. Required; Allow and AllowN use the keys the
	// caller passes instead.
	Key KeySpec `json:"key" yaml:"key"`
}

// TokenBucket returns a token bucket holding capacity tokens, refilled at
// refillPerSecond tokens per second (the seeds' token_bucket(capacity,
// refill_rate)). A request of cost n takes n tokens or is refused.
func TokenBucket(capacity int, refillPerSecond float64) Limit {
	l := Limit{Algorithm: AlgTokenBucket, Limit: capacity}
	if capacity > 0 && refillPerSecond > 0 && !math.IsInf(refillPerSecond, 0) {
		w := float64(capacity) / refillPerSecond * float64(time.Second)
		switch {
		case w > float64(MaxWindow):
			l.Window = MaxWindow + 1 // rejected by validation with a clear message
		case w < 1:
			l.Window = 1 // rejected by validation: interval below 1ns
		default:
			l.Window = time.Duration(math.Round(w))
		}
	}
	return l
}

// GCRA returns a limit of rate units per period sustained, admitting bursts
// of up to burst units at once.
func GCRA(rate int, per time.Duration, burst int) Limit {
	l := Limit{Algorithm: AlgGCRA, Limit: burst}
	if rate > 0 && per > 0 && burst > 0 {
		// Window = burst × (per / rate), computed without overflow.
		w := float64(per) / float64(rate) * float64(burst)
		if w > float64(MaxWindow) {
			w = float64(MaxWindow) + 1
		}
		l.Window = time.Duration(math.Round(w))
	}
	return l
}

// SlidingWindow returns an exact sliding window: at most limit units in any
// interval of length window (the seeds' sliding_window(max_requests,
// window_secs)). limit must not exceed MaxSlidingLimit.
func SlidingWindow(limit int, window time.Duration) Limit {
	return Limit{Algorithm: AlgSlidingWindow, Limit: limit, Window: window}
}

// FixedWindow returns a fixed window: at most limit units per window, the
// windows aligned to the Unix epoch (so every replica agrees on where they
// start). Cheap, but up to 2×limit can pass around a boundary.
func FixedWindow(limit int, window time.Duration) Limit {
	return Limit{Algorithm: AlgFixedWindow, Limit: limit, Window: window}
}

// Named returns a copy of l with the given name.
func (l Limit) Named(name string) Limit { l.Name = name; return l }

// By returns a copy of l keyed by k.
func (l Limit) By(k KeySpec) Limit { l.Key = k; return l }

// Interval returns the time one unit takes to refill for the token bucket
// and GCRA (Window / Limit, rounded to the nanosecond), and Window for the
// window algorithms.
func (l Limit) Interval() time.Duration {
	switch l.Algorithm {
	case AlgTokenBucket, AlgGCRA:
		if l.Limit <= 0 {
			return 0
		}
		return time.Duration((int64(l.Window) + int64(l.Limit)/2) / int64(l.Limit))
	}
	return l.Window
}

// String describes the limit, e.g. `login: sliding_window 5 per 5m0s by ip`.
func (l Limit) String() string {
	return fmt.Sprintf("%s: %s %d per %s by %s", l.Name, l.Algorithm, l.Limit, l.Window, l.Key)
}

var errNoName = errors.New("ratelimit: every limit needs a Name when a limiter has several")

// validate checks l; it is called by New, after the default name is set.
func (l *Limit) validate() error {
	if err := validName(l.Name); err != nil {
		return err
	}
	where := "ratelimit: limit " + strconv.Quote(l.Name)
	switch l.Algorithm {
	case AlgTokenBucket, AlgGCRA, AlgSlidingWindow, AlgFixedWindow:
	case 0:
		return errors.New(where + ": Algorithm is required (use ratelimit.TokenBucket, GCRA, SlidingWindow or FixedWindow)")
	default:
		return fmt.Errorf("%s: unknown algorithm %d", where, l.Algorithm)
	}
	if l.Limit < 1 {
		return fmt.Errorf("%s: Limit must be at least 1, got %d", where, l.Limit)
	}
	if l.Limit > 1<<30 {
		return fmt.Errorf("%s: Limit %d is larger than 2^30", where, l.Limit)
	}
	if l.Window <= 0 {
		return fmt.Errorf("%s: Window must be positive, got %s (for a token bucket, the refill rate must be positive)", where, l.Window)
	}
	if l.Window > MaxWindow {
		return fmt.Errorf("%s: Window must not exceed %s", where, MaxWindow)
	}
	if l.Algorithm == AlgSlidingWindow && l.Limit > MaxSlidingLimit {
		return fmt.Errorf("%s: a sliding window keeps one timestamp per unit, so Limit must not exceed %d (got %d); use ratelimit.GCRA for large limits", where, MaxSlidingLimit, l.Limit)
	}
	if (l.Algorithm == AlgTokenBucket || l.Algorithm == AlgGCRA) && l.Interval() < time.Nanosecond {
		return fmt.Errorf("%s: refill interval below 1ns (Window %s for Limit %d)", where, l.Window, l.Limit)
	}
	if l.Key.IsZero() {
		return fmt.Errorf("%s: Key is required: say what it counts by, e.g. .By(ratelimit.ByIP()), ByPrincipal(), ByAPIKey(\"X-API-Key\"), ByHeader(name), ByRoute(), ByFunc(f), or Global() for one count shared by every request", where)
	}
	return nil
}

func validName(s string) error {
	if s == "" {
		return errNoName
	}
	if len(s) > 64 {
		return fmt.Errorf("ratelimit: limit name %q is longer than 64 bytes", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("ratelimit: limit name %q may hold only letters, digits, '-', '_' and '.'", s)
		}
	}
	return nil
}

// windowSeconds is the policy window in whole seconds, rounded up, at least 1.
func (l *Limit) windowSeconds() int64 {
	s := int64((l.Window + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
