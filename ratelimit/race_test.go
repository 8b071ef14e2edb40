//go:build race

package ratelimit_test

// slidingKeys is the number of keys TestMemoryBound sends through a
// sliding log (fewer under the race detector).
const slidingKeys = 150_000

// tinyTableRounds is the decisions per goroutine of
// TestMemoryTinyMaxKeysNeverHangs (fewer under the race detector, which
// also makes the hang it looks for more likely).
const tinyTableRounds = 5_000
