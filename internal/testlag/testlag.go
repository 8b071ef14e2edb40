// Package testlag measures how late this process's timers fire, so that
// tests bounding how long a call takes ("returns within its timeout") allow
// for a loaded machine: on two shared cores under -race, a goroutine can
// wait hundreds of milliseconds to run, and that says nothing about the
// code under test.
package testlag

import (
	"sync/atomic"
	"testing"
	"time"
)

// tick is how often the monitor's timer fires.
const tick = 5 * time.Millisecond

// Monitor records the worst lateness of a timer firing every few
// milliseconds while a test runs.
type Monitor struct {
	worst atomic.Int64
	stop  chan struct{}
	done  chan struct{}
}

// Start starts a Monitor, stopped at t's cleanup (which logs the worst
// lateness when it is large).
func Start(t testing.TB) *Monitor {
	m := &Monitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		timer := time.NewTimer(tick)
		defer timer.Stop()
		for {
			start := time.Now()
			timer.Reset(tick)
			select {
			case <-m.stop:
				return
			case <-timer.C:
			}
			if late := int64(time.Since(start) - tick); late > m.worst.Load() {
				m.worst.Store(late)
			}
		}
	}()
	t.Cleanup(func() {
		close(m.stop)
		<-m.done
		if w := m.Max(); w > 50*time.Millisecond {
			t.Logf("timers fired up to %s late", w)
		}
	})
	return m
}

// Max returns the worst lateness seen so far.
func (m *Monitor) Max() time.Duration { return time.Duration(m.worst.Load()) }

// Over reports whether took exceeds bound plus the worst lateness seen.
// A stall that delayed the measured call may not be recorded yet (the
// monitor's goroutine runs after it), so before answering yes Over waits a
// few ticks for the monitor to catch up.
func (m *Monitor) Over(took, bound time.Duration) bool {
	if took <= bound+m.Max() {
		return false
	}
	time.Sleep(4 * tick)
	return took > bound+m.Max()
}
