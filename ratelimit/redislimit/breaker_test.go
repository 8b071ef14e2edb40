package redislimit

import (
	"sync"
	"testing"
	"time"
)

// The breaker on an injected clock (every call takes the time): the
// back-off starts at breakerMin when the breaker opens and doubles only
// when a probe fails — not with every decision that was in flight — and
// failures reported late, by decisions that started before Redis
// recovered, do not reopen it.
func TestBreakerBackoff(t *testing.T) {
	var b breaker
	ms := func(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }
	lo, hi := int64(breakerMin), int64(breakerMax)

	// Redis freezes under load: 64 decisions, all let through while the
	// breaker was closed, fail at about the same time.
	tickets := make([]uint64, 64)
	for i := range tickets {
		ok, probe, ticket := b.allow(ms(0))
		if !ok || probe {
			t.Fatalf("closed breaker: allow = %v, probe %v", ok, probe)
		}
		tickets[i] = ticket
	}
	var wg sync.WaitGroup
	for i := range tickets {
		wg.Go(func() { b.failure(ms(100), false, tickets[i]) })
	}
	wg.Wait()
	if b.backoff != lo || b.openUntil.Load() != ms(100)+lo {
		t.Fatalf("after one burst of failures: back-off %v until %v, want %v until %v",
			time.Duration(b.backoff), time.Duration(b.openUntil.Load()), breakerMin, time.Duration(ms(100)+lo))
	}
	if ok, _, _ := b.allow(ms(100) + lo - 1); ok {
		t.Fatal("a decision went to Redis during the back-off")
	}

	// The back-off ends: one probe, which fails — twice as long — and the
	// next, which fails again — twice as long again, up to breakerMax.
	now := ms(100) + lo
	for want := 2 * lo; want <= 2*hi; want *= 2 {
		ok, probe, ticket := b.allow(now)
		if !ok || !probe {
			t.Fatalf("at the end of the back-off: allow %v, probe %v", ok, probe)
		}
		if ok, _, _ := b.allow(now); ok {
			t.Fatal("two probes at once")
		}
		b.failure(now, true, ticket)
		if got := b.backoff; got != min(want, hi) {
			t.Fatalf("after a failed probe: back-off %v, want %v", time.Duration(got), time.Duration(min(want, hi)))
		}
		now += b.backoff
	}

	// A probe succeeds: closed. Decisions that started during the
	// outage (the tickets of before) fail late: the breaker stays closed.
	_, probe, ticket := b.allow(now)
	if !probe {
		t.Fatal("no probe")
	}
	b.success(true)
	if b.openUntil.Load() != 0 || b.backoff != 0 {
		t.Fatal("a successful probe did not close the breaker")
	}
	for range 2 * breakerThreshold {
		b.failure(now+ms(1), false, ticket)
		b.failure(now+ms(1), false, tickets[0])
	}
	if ok, _, _ := b.allow(now + ms(2)); !ok || b.failures.Load() != 0 {
		t.Fatalf("late failures reopened the breaker (failures %d)", b.failures.Load())
	}

	// A new outage opens it again, for breakerMin: not where the last
	// back-off had got to.
	for range breakerThreshold {
		_, _, tk := b.allow(now + ms(3))
		b.failure(now+ms(3), false, tk)
	}
	if b.backoff != lo || b.openUntil.Load() != now+ms(3)+lo {
		t.Fatalf("a new outage: back-off %v", time.Duration(b.backoff))
	}
}
