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
	"bytes"
	"context"
	"errors"
	"strconv"
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
	// Consume is Take for a value whose consumer may lose the answer: it
	// atomically moves the value at key to usedKey, with the caller's note
	// beside it, where both live for grace, and returns the value. Of
	// concurrent callers exactly one gets FirstUse. A caller that finds key
	// gone but usedKey alive (consumed less than grace ago) gets the value
	// and the first caller's note with RepeatUse: the retry of a consumer
	// whose answer was lost, or a duplicate — the note (say, when the first
	// caller started) helps the caller tell them apart. Otherwise NotFound.
	// key and usedKey must hash to one Redis Cluster slot (share a hash
	// tag); grace must be positive.
	Consume(ctx context.Context, key, usedKey string, note []byte, grace time.Duration) (value, firstNote []byte, use Use, err error)
}

// Appender is implemented by stores that can copy a value into the
// caller's memory (memstore): AppendValue is KV.Get without an allocation
// of its own when dst has room. It is optional: a guard on a hot path
// (session loading) type-asserts for it and otherwise calls Get.
type Appender interface {
	// AppendValue appends the value at key to dst and returns the
	// extended slice, as Get would return the value (a counter as its
	// decimal text); found is false, and dst returned unchanged, when
	// key holds nothing. The store keeps no reference to dst or the
	// result.
	AppendValue(ctx context.Context, key string, dst []byte) (value []byte, found bool, err error)
}

// Use is what Consume found.
type Use uint8

const (
	// NotFound: neither key nor usedKey held a value.
	NotFound Use = iota
	// FirstUse: this call consumed the value.
	FirstUse
	// RepeatUse: an earlier call consumed the value, less than grace ago.
	RepeatUse
)

// JoinNote is how a store that keeps Consume's note and value in one
// string lays them out: the note's length in decimal, a colon, the note,
// the value (a layout a Lua script builds and splits easily).
func JoinNote(note, value []byte) []byte {
	b := strconv.AppendInt(make([]byte, 0, 8+len(note)+len(value)), int64(len(note)), 10)
	b = append(b, ':')
	b = append(b, note...)
	return append(b, value...)
}

// SplitNote undoes JoinNote; ok is false for a string it did not make.
func SplitNote(b []byte) (value, note []byte, ok bool) {
	i := bytes.IndexByte(b, ':')
	if i <= 0 || i > 8 {
		return nil, nil, false
	}
	n, err := strconv.Atoi(string(b[:i]))
	if err != nil || n < 0 || n > len(b)-i-1 {
		return nil, nil, false
	}
	return b[i+1+n:], b[i+1 : i+1+n], true
}

// StateTracker is implemented by stores whose whole state can be lost
// while their clients keep running: redisstore, when Redis restarts
// without persistence or fails over to an empty replica. Such a store
// keeps a marker in its state, reads it with every command, and, when it
// finds the marker gone, writes a new one: its state restarted then.
// Anything recorded before that moment (a revocation, a used refresh
// token) may be forgotten, so guards refuse what they can no longer
// vouch for: package jwt refuses revocable tokens issued before it.
//
// In-process stores (memstore) do not implement it: their state ends with
// the process, and with it, for the demo, its random signing keys.
type StateTracker interface {
	// StateSince returns when the store's current state began, to the
	// second, as of the store's last answered command (so a caller that
	// has just had an answer sees what that answer saw). Zero before the
	// first answer.
	StateSince() time.Time
	// Resets returns how many times the store has seen its state lost
	// while it ran (its state began at StateSince because of a loss,
	// rather than because the store was new, when it is not zero).
	Resets() uint64
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
