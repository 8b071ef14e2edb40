package memstore

import (
	"context"
	"strconv"

	"github.com/bulwark-go/bulwark/store"
)

var _ store.Appender = (*Store)(nil)

// AppendValue implements store.Appender: Get into the caller's buffer,
// copied under the key's shard lock. It allocates only when dst has too
// little room.
func (s *Store) AppendValue(_ context.Context, key string, dst []byte) ([]byte, bool, error) {
	sh, e, err := s.lockRead("get", key)
	if err != nil {
		return dst, false, err
	}
	defer sh.mu.Unlock()
	if e == nil {
		return dst, false, nil
	}
	switch e.kind {
	case kindSet:
		return dst, false, ErrWrongType
	case kindCounter:
		dst = strconv.AppendInt(dst, e.n, 10)
	default:
		dst = append(dst, e.x.val...)
	}
	sh.touch(e)
	if dst == nil {
		dst = []byte{}
	}
	return dst, true, nil
}
