package memstore

import (
	"context"
	"strings"

	"github.com/bulwark-go/bulwark/store"
)

var _ store.DistinctCounter = (*Store)(nil)

// CountDistinct implements store.DistinctCounter. Counts are exact (an
// Approximate op is counted exactly too), bounded by the store's
// MaxSetMembers as well as by each op's Cap; a touch never creates a set.
// It allocates only for a new key or member (the store keeps copies).
func (s *Store) CountDistinct(_ context.Context, ops []store.DistinctOp) error {
	for i := range ops {
		if err := s.countDistinct(&ops[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) countDistinct(op *store.DistinctOp) error {
	op.Size, op.Added = 0, false
	if op.TTL <= 0 {
		return store.ErrInvalidTTL
	}
	write := op.Member != ""
	sh, e, exp, created, err := s.lock("countdistinct", op.Key, write, op.TTL)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	if e == nil {
		return nil // a touch of a missing set
	}
	if created {
		e.kind = kindSet
		e.x = &extra{set: make(map[string]struct{}, 1)}
	} else {
		if e.kind != kindSet {
			return ErrWrongType
		}
		sh.touch(e)
		if op.Sliding {
			sh.setExp(e, exp)
		}
	}
	set := e.x.set
	if write && (op.Cap <= 0 || int64(len(set)) <= op.Cap) && len(set) < s.maxMembers {
		if _, ok := set[op.Member]; !ok {
			set[strings.Clone(op.Member)] = struct{}{}
			op.Added = true
		}
	}
	op.Size = int64(len(set))
	return nil
}
