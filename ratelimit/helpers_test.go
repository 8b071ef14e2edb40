package ratelimit_test

import (
	"github.com/bulwark-go/bulwark/ratelimit/internal/limittest"
	"net/netip"
	"sync"
	"time"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// epochHour is an instant aligned to a whole hour (and so to every minute
// and second), so fixed windows start exactly there.
var epochHour = limittest.EpochHour

// hammer runs f n×each times from n goroutines and counts true results.
func hammer(n, each int, f func() bool) int {
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c := 0
			for range each {
				if f() {
					c++
				}
			}
			mu.Lock()
			total += c
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}
