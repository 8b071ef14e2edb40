package redislimit

import (
	"strings"
	"time"
)

// NewWithClock returns a Store whose script reads the time from the hash
// at clockKey (fields s and us) instead of the server clock, so tests can
// put the Redis algorithms through exact steps.
func NewWithClock(opts Options, clockKey string) (*Store, error) {
	const timeCall = "local t = redis.call('TIME')"
	src := strings.Replace(script, timeCall, "local t = redis.call('HMGET', '"+clockKey+"', 's', 'us')", 1)
	if src == script {
		panic("the script no longer reads TIME as expected")
	}
	return newStore(opts, src)
}

// Evals returns the number of script runs so far.
func Evals(s *Store) int64 { return s.evals.Load() }

// ShortBreaker shortens the breaker's back-off for the duration of a test.
func ShortBreaker(t interface{ Cleanup(func()) }) {
	lo, hi := breakerMin, breakerMax
	breakerMin, breakerMax = 20*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() { breakerMin, breakerMax = lo, hi })
}

// OwnConns is the number of batch workers holding a connection of their
// own.
func OwnConns(s *Store) int { return int(s.batch.owned.Load()) }
