package ratelimit_test

import (
	"net/netip"
	"sync"

	"github.com/bulwark-go/bulwark/ratelimit/internal/limittest"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

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
