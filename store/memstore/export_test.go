package memstore

import "fmt"

// CheckInvariants verifies every shard's map, LRU list and expiry heap agree.
func (s *Store) CheckInvariants() error {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		err := sh.check()
		total += len(sh.m)
		sh.mu.Unlock()
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	if int64(total) > s.maxKeys {
		return fmt.Errorf("%d keys exceed the cap of %d", total, s.maxKeys)
	}
	if c := s.count.Load(); c != int64(total) {
		return fmt.Errorf("key count %d, shards hold %d", c, total)
	}
	return nil
}

// NumShards reports the number of shards.
func (s *Store) NumShards() int { return len(s.shards) }

func (sh *shard) check() error {
	if len(sh.heap) != len(sh.m) {
		return fmt.Errorf("heap has %d entries, map %d", len(sh.heap), len(sh.m))
	}
	n := 0
	for e := sh.root.next; e != &sh.root; e = e.next {
		if e.next.prev != e {
			return fmt.Errorf("broken LRU link at %q", e.key)
		}
		if sh.m[e.key] != e {
			return fmt.Errorf("LRU entry %q not in the map", e.key)
		}
		n++
		if n > len(sh.m) {
			return fmt.Errorf("LRU list longer than the map")
		}
	}
	if n != len(sh.m) {
		return fmt.Errorf("LRU list has %d entries, map %d", n, len(sh.m))
	}
	for i, e := range sh.heap {
		if int(e.hidx) != i {
			return fmt.Errorf("heap index of %q is %d, stored at %d", e.key, e.hidx, i)
		}
		if i > 0 && sh.heap[(i-1)/2].exp > e.exp {
			return fmt.Errorf("heap order violated at %d", i)
		}
		if sh.m[e.key] != e {
			return fmt.Errorf("heap entry %q not in the map", e.key)
		}
	}
	return nil
}
