package breaker

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func ms(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }

// The breaker on an injected clock (every call takes the time): the
// back-off starts at MinBackoff when the breaker opens and doubles only
// when a probe fails — not with every call that was in flight — and
// failures reported late, by calls that started before Redis recovered, do
// not reopen it.
func TestBackoff(t *testing.T) {
	b := New(Options{})
	lo, hi := int64(DefaultMinBackoff), int64(DefaultMaxBackoff)
	down := errors.New("down")

	// Redis freezes under load: 64 calls, all let through while the
	// breaker was closed, fail at about the same time.
	tickets := make([]Ticket, 64)
	for i := range tickets {
		tk, ok := b.Allow(ms(0))
		if !ok || tk.Probe() {
			t.Fatalf("closed breaker: allow = %v, probe %v", ok, tk.Probe())
		}
		tickets[i] = tk
	}
	var wg sync.WaitGroup
	for i := range tickets {
		wg.Go(func() { b.Failure(ms(100), tickets[i], down) })
	}
	wg.Wait()
	if b.backoff != lo || b.openUntil.Load() != ms(100)+lo || b.State() != Open {
		t.Fatalf("after one burst of failures: back-off %v until %v, want %v until %v",
			time.Duration(b.backoff), time.Duration(b.openUntil.Load()), DefaultMinBackoff, time.Duration(ms(100)+lo))
	}
	if _, ok := b.Allow(ms(100) + lo - 1); ok {
		t.Fatal("a call went to Redis during the back-off")
	}

	// The back-off ends: one probe, which fails — twice as long — and the
	// next, which fails again — twice as long again, up to MaxBackoff.
	now := ms(100) + lo
	for want := 2 * lo; want <= 2*hi; want *= 2 {
		tk, ok := b.Allow(now)
		if !ok || !tk.Probe() {
			t.Fatalf("at the end of the back-off: allow %v, probe %v", ok, tk.Probe())
		}
		if _, ok := b.Allow(now); ok {
			t.Fatal("two probes at once")
		}
		b.Failure(now, tk, down)
		if got := b.backoff; got != min(want, hi) {
			t.Fatalf("after a failed probe: back-off %v, want %v", time.Duration(got), time.Duration(min(want, hi)))
		}
		now += b.backoff
	}

	// A probe succeeds: closed. Calls that started during the outage (the
	// tickets of before) fail late: the breaker stays closed.
	tk, _ := b.Allow(now)
	if !tk.Probe() {
		t.Fatal("no probe")
	}
	b.Success(now, tk)
	if b.openUntil.Load() != 0 || b.backoff != 0 || b.State() != Closed {
		t.Fatal("a successful probe did not close the breaker")
	}
	for range 2 * DefaultThreshold {
		b.Failure(now+ms(1), tk, down)
		b.Failure(now+ms(1), tickets[0], down)
	}
	if _, ok := b.Allow(now + ms(2)); !ok || b.failures.Load() != 0 {
		t.Fatalf("late failures reopened the breaker (failures %d)", b.failures.Load())
	}

	// A new outage opens it again, for MinBackoff: not where the last
	// back-off had got to.
	for range DefaultThreshold {
		tk, _ := b.Allow(now + ms(3))
		b.Failure(now+ms(3), tk, down)
	}
	if b.backoff != lo || b.openUntil.Load() != now+ms(3)+lo {
		t.Fatalf("a new outage: back-off %v", time.Duration(b.backoff))
	}
}

// Each transition is reported once, however many calls fail or are
// refused: the opening, a summary at most once per Summary while failed
// probes go on, and the closing, with the figures of the outage.
func TestChanges(t *testing.T) {
	var changes []Change
	b := New(Options{Summary: time.Second, MaxBackoff: 2 * time.Second, OnChange: func(c Change) { changes = append(changes, c) }})
	down := errors.New("connection refused")
	fail := func(now int64) {
		if tk, ok := b.Allow(now); ok {
			b.Failure(now, tk, down)
		}
	}
	// Two failures, then a success: below the threshold, nothing to say.
	fail(0)
	fail(0)
	tk, _ := b.Allow(0)
	b.Success(0, tk)
	if len(changes) != 0 {
		t.Fatalf("reports below the threshold: %+v", changes)
	}
	// An outage of 5 s: 3 failures open it; 1,000 calls are refused;
	// probes fail every back-off (250ms, 500ms, 1s, 2s, 2s…).
	for range 3 {
		fail(ms(10))
	}
	now := ms(10)
	for now < ms(5000) {
		for range 100 {
			fail(now)
		}
		now += ms(50)
	}
	tk, ok := b.Allow(now + ms(2000))
	if !ok || !tk.Probe() {
		t.Fatal("no probe after the outage")
	}
	b.Success(ms(5010), tk)
	var kinds []string
	for _, c := range changes {
		switch {
		case c.To == Closed:
			kinds = append(kinds, "closed")
		case c.Ongoing:
			kinds = append(kinds, "ongoing")
		default:
			kinds = append(kinds, "opened")
		}
	}
	// Probes at 260ms, 760ms, 1.76s, 3.76s: the summaries at 1.76 s
	// (1.75 s after the opening) and 3.76 s (2 s after that one).
	if got := len(kinds); got != 4 || kinds[0] != "opened" || kinds[1] != "ongoing" || kinds[2] != "ongoing" || kinds[3] != "closed" {
		t.Fatalf("changes %v, want opened, ongoing, ongoing, closed", kinds)
	}
	if c := changes[0]; c.Err != down || c.Backoff != DefaultMinBackoff {
		t.Fatalf("opening: %+v", c)
	}
	last := changes[3]
	if last.Duration != time.Duration(ms(5000)) || last.Probes != 4 || last.Refused < 9000 {
		t.Fatalf("closing: %+v", last)
	}
	if b.refused.Load() != 0 {
		t.Fatal("the refused count was not reset")
	}
}
