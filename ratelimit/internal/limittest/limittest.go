// Package limittest holds the algorithm test cases that the in-memory and
// the Redis implementations must both pass, step for step.
package limittest

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
)

// EpochHour is an instant aligned to a whole hour (and so to every minute
// and second), so fixed windows start exactly there.
var EpochHour = time.Unix(1_700_000_000-1_700_000_000%3600, 0)

// Step is one request at an offset from the case's start.
type Step struct {
	At        time.Duration // offset from Start
	Cost      int
	Allowed   bool
	Remaining int           // Skip: not checked
	Retry     time.Duration // Skip: not checked
}

// Skip marks a field a step does not check.
const Skip = -1

// Case is a limit and the requests that exercise it.
type Case struct {
	Name  string
	Limit ratelimit.Limit
	Start time.Time
	Steps []Step
}

// Cases are shared with the Redis tests (which run them against a
// controlled server clock), so that both implementations are held to the
// same arithmetic.
var Cases = []Case{
	{"token bucket refill arithmetic", ratelimit.TokenBucket(100, 10).By(ratelimit.Global()), EpochHour, []Step{
		{0, 100, true, 0, 0},
		{0, 1, false, 0, 100 * time.Millisecond},
		{99 * time.Millisecond, 1, false, 0, time.Millisecond},
		{100 * time.Millisecond, 1, true, 0, 0},
		{1100 * time.Millisecond, 10, true, 0, 0},
		{1100 * time.Millisecond, 1, false, 0, 100 * time.Millisecond},
		{1150 * time.Millisecond, 1, false, 0, 50 * time.Millisecond},
		{100 * time.Second, 1, true, 99, 0}, // refilled to capacity, never beyond
		{100 * time.Second, 30, true, 69, 0},
		{100 * time.Second, 70, false, 69, 100 * time.Millisecond},
		{100 * time.Second, 69, true, 0, 0},
	}},
	{"gcra burst then rate", ratelimit.GCRA(10, time.Second, 5).By(ratelimit.Global()), EpochHour, []Step{
		{0, 1, true, 4, 0},
		{0, 1, true, 3, 0},
		{0, 1, true, 2, 0},
		{0, 1, true, 1, 0},
		{0, 1, true, 0, 0},
		{0, 1, false, 0, 100 * time.Millisecond},
		{250 * time.Millisecond, 1, true, 1, 0},
		{250 * time.Millisecond, 1, true, 0, 0},
		{250 * time.Millisecond, 1, false, 0, 50 * time.Millisecond},
		{250 * time.Millisecond, 3, false, 0, 250 * time.Millisecond},
	}},
	{"sliding window edges", ratelimit.SlidingWindow(5, 5*time.Minute).By(ratelimit.Global()), EpochHour, []Step{
		{0, 1, true, 4, 0},
		{1 * time.Minute, 1, true, 3, 0},
		{2 * time.Minute, 1, true, 2, 0},
		{3 * time.Minute, 1, true, 1, 0},
		{4 * time.Minute, 1, true, 0, 0},
		{4*time.Minute + 59*time.Second, 1, false, 0, time.Second},
		{5*time.Minute - time.Microsecond, 1, false, 0, time.Microsecond},
		{5 * time.Minute, 1, true, 0, 0}, // the request at 0 has left (t-5m, t]
		{5 * time.Minute, 1, false, 0, time.Minute},
		{6*time.Minute + 30*time.Second, 2, false, 1, 30 * time.Second},
		{6*time.Minute + 30*time.Second, 1, true, 0, 0},
		{20 * time.Minute, 5, true, 0, 0},
		{20 * time.Minute, 1, false, 0, 5 * time.Minute},
	}},
	{"fixed window edges", ratelimit.FixedWindow(3, time.Minute).By(ratelimit.Global()), EpochHour, []Step{
		{0, 1, true, 2, 0},
		{0, 2, true, 0, 0},
		{0, 1, false, 0, time.Minute},
		{59*time.Second + 999*time.Millisecond, 1, false, 0, time.Millisecond},
		{time.Minute, 3, true, 0, 0},
		{time.Minute, 1, false, 0, time.Minute},
		// The documented bound: 3 at 2m59s and 3 at 3m, 6 within a second.
		{2*time.Minute + 59*time.Second, 3, true, 0, 0},
		{3 * time.Minute, 3, true, 0, 0},
	}},
	{"gcra clock going backwards", ratelimit.GCRA(2, time.Second, 2).By(ratelimit.Global()), EpochHour, []Step{
		{10 * time.Second, 2, true, 0, 0},
		{5 * time.Second, 1, false, 0, 5500 * time.Millisecond}, // stepped back 5s: no free burst
		{5 * time.Second, 1, false, 0, 5500 * time.Millisecond},
		{10500 * time.Millisecond, 1, true, 0, 0},
	}},
	{"sliding clock going backwards", ratelimit.SlidingWindow(2, time.Minute).By(ratelimit.Global()), EpochHour, []Step{
		{10 * time.Minute, 2, true, 0, 0},
		{0, 1, false, 0, 11 * time.Minute},
		{10 * time.Minute, 1, false, 0, time.Minute},
		{11 * time.Minute, 2, true, 0, 0},
	}},
	{"fixed clock going backwards", ratelimit.FixedWindow(2, time.Minute).By(ratelimit.Global()), EpochHour, []Step{
		{10*time.Minute + 30*time.Second, 2, true, 0, 0},
		{9 * time.Minute, 1, false, 0, 2 * time.Minute}, // an earlier window: still counted as the current one
		{10*time.Minute + 59*time.Second, 1, false, 0, time.Second},
		{11 * time.Minute, 2, true, 0, 0},
	}},
}

// Run checks c's steps in order: decide makes the request of a step (at
// its offset from c.Start, with its cost) against the implementation under
// test and returns the decision.
func Run(t *testing.T, c Case, decide func(at time.Duration, cost int) ratelimit.Decision) {
	t.Helper()
	for i, s := range c.Steps {
		d := decide(s.At, s.Cost)
		where := fmt.Sprintf("step %d (at %v, cost %d)", i, s.At, s.Cost)
		if d.Allowed != s.Allowed {
			t.Fatalf("%s: allowed = %v, want %v (%+v)", where, d.Allowed, s.Allowed, d)
		}
		if s.Remaining != Skip && d.Remaining != s.Remaining {
			t.Errorf("%s: remaining = %d, want %d", where, d.Remaining, s.Remaining)
		}
		if s.Retry != Skip && d.RetryAfter != s.Retry {
			t.Errorf("%s: retry after = %v, want %v", where, d.RetryAfter, s.Retry)
		}
		if d.Remaining < 0 || d.RetryAfter < 0 || d.ResetAfter < 0 {
			t.Errorf("%s: negative field in %+v", where, d)
		}
	}
}
