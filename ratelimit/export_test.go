package ratelimit

import "net/http"

// AppendKey exposes Key.appendKey to tests.
func AppendKey(k Key, dst []byte, r *http.Request) []byte { return k.appendKey(dst, r) }

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
