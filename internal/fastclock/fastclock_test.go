package fastclock

import (
	"testing"
	"testing/synctest"
	"time"
)

// The clock follows time.Now to the nanosecond in a bubble (no wall-clock
// steps there), across resyncs.
func TestFollowsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c Clock
		for _, step := range []time.Duration{0, time.Millisecond, 400 * time.Millisecond, 999 * time.Millisecond, time.Second, 3 * time.Second, time.Hour} {
			time.Sleep(step)
			if got, want := c.UnixNano(), time.Now().UnixNano(); got != want {
				t.Fatalf("after %v: clock %d, time.Now %d", step, got, want)
			}
		}
	})
}

// A stale anchor (as after a wall-clock step) is replaced once it is
// Resync old.
func TestResyncsStaleAnchor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c Clock
		now := time.Now()
		// An anchor one hour off, as if the wall clock had stepped.
		c.a.Store(&anchor{wall: now.Add(-time.Hour).UnixNano(), mono: now})
		time.Sleep(Resync - time.Nanosecond)
		if got, want := c.UnixNano(), time.Now().Add(-time.Hour).UnixNano(); got != want {
			t.Fatalf("within Resync: %d, want the anchored %d", got, want)
		}
		time.Sleep(time.Nanosecond)
		if got, want := c.UnixNano(), time.Now().UnixNano(); got != want {
			t.Fatalf("at Resync: %d, want time.Now's %d", got, want)
		}
		if got, want := c.Now(), time.Now(); !got.Equal(want) {
			t.Fatalf("Now %v, want %v", got, want)
		}
	})
}

func BenchmarkUnixNano(b *testing.B) {
	var c Clock
	for b.Loop() {
		c.UnixNano()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		time.Now()
	}
}
