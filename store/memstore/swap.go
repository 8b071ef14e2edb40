package memstore

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/store"
)

var _ store.Swapper = (*Store)(nil)

// CompareAndSwap implements store.Swapper under the key's shard lock. A
// counter matches its decimal text (as Get returns it); a set never
// matches.
func (s *Store) CompareAndSwap(_ context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	if next != nil && ttl <= 0 {
		return false, store.ErrInvalidTTL
	}
	if old == nil && next != nil {
		// "Holds nothing": SetNX's contract exactly.
		return s.SetNX(context.Background(), key, next, ttl)
	}
	sh, e, err := s.lockRead("cas", key)
	if err != nil {
		return false, err
	}
	defer sh.mu.Unlock()
	switch {
	case e == nil:
		return old == nil, nil // nil old, nil next: deleting nothing succeeds
	case old == nil || !e.holds(old):
		return false, nil
	case next == nil:
		sh.remove(e)
		return true, nil
	}
	sh.touch(e)
	sh.setExp(e, expiry(s.now(), ttl))
	e.setValue(next)
	return true, nil
}

// holds reports whether e's value, as Get would return it, is v.
func (e *entry) holds(v []byte) bool {
	switch e.kind {
	case kindValue:
		return bytes.Equal(e.x.val, v)
	case kindCounter:
		var buf [20]byte
		return bytes.Equal(strconv.AppendInt(buf[:0], e.n, 10), v)
	}
	return false
}
