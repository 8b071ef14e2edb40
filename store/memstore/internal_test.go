package memstore

import (
	"testing"
	"time"
)

// An insert into an empty shard of a full store looks for a victim in the
// other shards. If they empty meanwhile (Delete, Take, expiry), there is no
// victim left, but there is room: the insert must take it rather than spin
// forever holding its shard's lock.
func TestEvictElsewhereTakesFreedSlot(t *testing.T) {
	s := New(Options{MaxKeys: 64, Shards: 2, SweepInterval: -1})
	s.count.Store(s.maxKeys) // full, as seen a moment before another shard emptied
	own := &s.shards[0]
	done := make(chan struct{})
	go func() {
		own.mu.Lock()
		s.evictElsewhere(own, s.now())
		own.mu.Unlock()
		close(done)
	}()
	s.count.Add(-1) // the other shard's last key is deleted
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang detector, not a timing assertion
		t.Fatal("evictElsewhere spins while a slot is free") // (no Close: the spinner holds a shard lock)
	}
	defer s.Close()
	if c := s.count.Load(); c != s.maxKeys {
		t.Fatalf("count %d after taking the freed slot; want %d", c, s.maxKeys)
	}
}
