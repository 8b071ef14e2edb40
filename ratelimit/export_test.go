package ratelimit

import "net/http"

// AppendKey exposes Key.appendKey to tests.
func AppendKey(k KeySpec, dst []byte, r *http.Request) []byte { return k.appendKey(dst, r) }

// TrackedKeys returns the keys held per limit by the in-process state.
func TrackedKeys(l *Limiter) []int {
	s := l.mem
	if s == nil {
		s = l.fallback
	}
	var out []int
	for _, t := range s.tables {
		n := 0
		for i := range t.shards {
			sh := &t.shards[i]
			sh.mu.Lock()
			n += sh.n
			sh.mu.Unlock()
		}
		out = append(out, n)
	}
	return out
}

// BytesPerKeyBound returns the documented bound on memory per tracked key
// of limit i once its table is full.
func BytesPerKeyBound(l *Limiter, i int) int { return l.mem.tables[i].bytesPerKeyBound() }

// MemoryPerKey returns the documented bound on memory per tracked key of l.
func MemoryPerKey(l Limit) int64 { return memoryPerKey(l.Algorithm, l.Limit) }

// Duplicates counts keys held twice in limit 0's table (a broken table).
func Duplicates(l *Limiter) int {
	t := l.mem.tables[0]
	seen := map[int64]bool{}
	dup := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		tab := sh.tab.Load()
		for j := uint64(0); j <= tab.mask; j++ {
			h := tab.words[j*t.stride] &^ lockBit
			if h == 0 {
				continue
			}
			if seen[h] {
				dup++
			}
			seen[h] = true
		}
		sh.mu.Unlock()
	}
	return dup
}
