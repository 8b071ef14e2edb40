// Package testclock is the settable clock tests inject wherever Bulwark
// takes a clock (every Options.Now): time moves only when a test says so,
// so that windows, expiries and refills are tested without sleeping.
// Janitor goroutines of the stores read it too, so it is safe for
// concurrent use.
package testclock

import (
	"sync/atomic"
	"time"
)

// Clock reads the time it was set to. Its zero value reads the Unix
// epoch.
type Clock struct {
	ns atomic.Int64
}

// New returns a Clock reading t.
func New(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Set moves the clock to t, backwards included (clock steps).
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
