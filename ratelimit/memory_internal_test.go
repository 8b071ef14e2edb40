package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// The documented memory per key (memoryPerKey, the figures in the package
// documentation) bounds the real worst case of every table shape: MaxKeys
// from 10,000 to 10,000,000, GOMAXPROCS from 1 to 256 (which set the number
// of shards), and every algorithm, sliding windows of Limit 1 to 1,000.
func TestMemoryPerKeyBound(t *testing.T) {
	limits := []Limit{GCRA(1, time.Second, 1), TokenBucket(10, 1), FixedWindow(1, time.Second)}
	for L := 1; L <= MaxSlidingLimit; L += 1 + L/3 {
		limits = append(limits, SlidingWindow(L, time.Second))
	}
	limits = append(limits, SlidingWindow(MaxSlidingLimit, time.Second))
	worst := map[Algorithm]int64{}
	for procs := 1; procs <= 256; procs *= 2 {
		for maxKeys := 10_000; maxKeys <= 10_000_000; maxKeys = maxKeys*5/4 + 1 {
			for i := range limits {
				l := &limits[i]
				got := int64(tableShape(l, maxKeys, procs).bytesPerKeyBound())
				doc := memoryPerKey(l.Algorithm, l.Limit)
				if got > doc {
					t.Fatalf("%s, MaxKeys %d, GOMAXPROCS %d: up to %d bytes per key, documented %d", l, maxKeys, procs, got, doc)
				}
				worst[l.Algorithm] = max(worst[l.Algorithm], got-doc)
			}
		}
	}
	t.Logf("closest approach to the documented figure (bytes): %v", fmt.Sprint(worst))
}
