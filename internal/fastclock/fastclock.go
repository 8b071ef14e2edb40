// Package fastclock is a wall clock for hot paths: it reads the monotonic
// clock only (one vDSO read, about half the cost of time.Now, which reads
// both clocks) and adds it to a wall-clock anchor that it refreshes from
// time.Now at most once a second, lazily, on the first read after the
// anchor is a second old. No goroutine, no ticker.
//
// Between refreshes the reading follows the monotonic clock, so a step of
// the system's wall clock (an NTP step, an operator's date command) shows
// within one second; slewing affects both clocks alike. That is the whole
// coarseness: expiry checks made with it are exact to the nanosecond
// otherwise.
//
// Each Clock anchors itself on first use: make one per component (inside a
// testing/synctest bubble, make it inside the bubble, as the components
// that own one do in their constructors' callers).
package fastclock

import (
	"sync/atomic"
	"time"
)

// Resync is how old the wall-clock anchor may grow before a read refreshes
// it from time.Now.
const Resync = time.Second

// Clock is a cheap wall clock. The zero value is ready to use; it is safe
// for concurrent use.
type Clock struct {
	a atomic.Pointer[anchor]
}

type anchor struct {
	wall int64     // Unix nanoseconds at mono
	mono time.Time // carries the monotonic reading
}

// UnixNano returns the current time in Unix nanoseconds.
func (c *Clock) UnixNano() int64 {
	if a := c.a.Load(); a != nil {
		if d := time.Since(a.mono); d >= 0 && d < Resync {
			return a.wall + int64(d)
		}
	}
	return c.resync()
}

// Now returns the current time (without a monotonic reading).
func (c *Clock) Now() time.Time { return time.Unix(0, c.UnixNano()) }

func (c *Clock) resync() int64 {
	t := time.Now()
	c.a.Store(&anchor{wall: t.UnixNano(), mono: t})
	return t.UnixNano()
}
