// Package store defines the small storage contracts Bulwark's stateful
// guards share: counters, key-value entries and sets, each with a TTL.
//
// Two implementations ship: memstore (bounded, in-process, the default) and
// redisstore (shared by every replica). Both pass the same conformance suite
// in storetest. Rate limits have a contract of their own, ratelimit.Store,
// which package ratelimit/redislimit implements.
//
// The contract, for every method: a miss is not an error (found == false,
// or a zero count, with a nil error); a non-nil error means the store could
// not answer, and when the backing service is unreachable or timed out the
// error matches ErrUnavailable (errors.Is), so each guard can choose to fail
// open, fail closed, or fall back to local state. Keys are opaque strings
// chosen by the caller; implementations may prefix them. A TTL of zero or
// less means "no expiry" only where a method says so; elsewhere it is an
// error.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable reports that the backing store could not be reached or did
// not answer in time. Test with errors.Is.
var ErrUnavailable = errors.New("store unavailable")

// ErrInvalidTTL is returned for a TTL that is zero or negative where one is
// required.
var ErrInvalidTTL = errors.New("store: ttl must be positive")

// ErrClosed is returned (wrapped in an UnavailableError, so it also matches
// ErrUnavailable) by a store used after Close.
var ErrClosed = errors.New("store: closed")

// UnavailableError wraps the underlying cause of an outage.
type UnavailableError struct {
	Op  string // the operation, e.g. "incr"
	Err error  // the client's error
}

func (e *UnavailableError) Error() string { return "store unavailable: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Counters are integers that live for a fixed time.
type Counters interface {
	// Incr adds delta to the counter at key and returns the new value. A
	// missing or expired counter starts at zero with the given ttl; later
	// increments do not extend it (a fixed window).
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// KV holds opaque values that expire.
type KV interface {
	// Get returns the value at key.
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	// Set stores value at key for ttl, replacing any previous value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value at key for ttl only if key holds nothing; it
	// reports whether it stored.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (stored bool, err error)
	// Take atomically returns and deletes the value at key: of several
	// concurrent callers, at most one sees found == true. One-time tokens
	// rely on it.
	Take(ctx context.Context, key string) (value []byte, found bool, err error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Sets hold distinct string members under a key.
type Sets interface {
	// AddToSet adds member to the set at key, sets the whole set's expiry to
	// ttl from now (every call restarts it), and returns the number of
	// distinct members after the add.
	AddToSet(ctx context.Context, key, member string, ttl time.Duration) (size int64, err error)
	// SetSize returns the number of members of the set at key (0 if none).
	SetSize(ctx context.Context, key string) (int64, error)
	// IsMember reports whether member is in the set at key.
	IsMember(ctx context.Context, key, member string) (bool, error)
}

// Store is everything a guard may need. Close releases resources; using a
// closed store returns an error.
type Store interface {
	Counters
	KV
	Sets
	// Delete is shared by all three kinds.
	Close() error
}

// AnyExister is implemented by stores that can test several keys in one
// round trip, such as redisstore (a pipeline of EXISTS, one per key, so
// that the keys need not share a Redis Cluster slot). It is optional:
// guards type-assert for it and otherwise look keys up one by one; stores
// whose lookups are in-process (memstore) need not implement it.
type AnyExister interface {
	// ExistsAny reports whether at least one of keys holds a live entry,
	// of any kind. Empty keys are ignored; no keys means false.
	ExistsAny(ctx context.Context, keys ...string) (bool, error)
}
