//go:build !race

package ratelimit_test

// slidingKeys is the number of keys TestMemoryBound sends through a
// sliding log (fewer under the race detector).
const slidingKeys = 300_000

// tinyTableRounds is the decisions per goroutine of
// TestMemoryTinyMaxKeysNeverHangs (enough that the old hang showed on every
// run).
const tinyTableRounds = 20_000
