package store

import (
	"context"
	"time"
)

// Swapper is implemented by stores that can replace a value only if it is
// still the one the caller read: an atomic compare-and-swap, for state
// that several requests may update at once (package session detects two
// concurrent writes of one session with it instead of losing one). It is
// optional: guards type-assert for it. memstore and redisstore implement
// it (redisstore with one Lua script).
type Swapper interface {
	// CompareAndSwap stores next at key for ttl only if key holds exactly
	// old, byte for byte, and reports whether it did. A nil old means "key
	// holds nothing" (an empty, non-nil old matches an empty value only);
	// a nil next deletes key instead of storing (ttl is then ignored).
	// ttl must be positive when next is not nil.
	CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (swapped bool, err error)
}
