package panel

import "container/heap"

// topK counts the most frequent keys of a stream in bounded memory with the
// space-saving algorithm (Metwally, Agrawal and El Abbadi, 2005): at most
// capacity counters; a key not held takes over the smallest counter, whose
// count it inherits as its possible overcount. Every key seen more than
// n/capacity times (n events in all) is held, and a held key's count is at
// most its true count + err.
type topK struct {
	capacity int
	index    map[string]*topEntry
	h        topHeap // min-heap by count
}

type topEntry struct {
	key   string
	count int64
	err   int64 // the count it inherited: its count may be this much too high
	pos   int   // index in the heap
}

func newTopK(capacity int) *topK {
	return &topK{capacity: capacity, index: make(map[string]*topEntry, capacity)}
}

// add counts one occurrence of key.
func (t *topK) add(key string) {
	if e, ok := t.index[key]; ok {
		e.count++
		heap.Fix(&t.h, e.pos)
		return
	}
	if len(t.h) < t.capacity {
		e := &topEntry{key: key, count: 1}
		t.index[key] = e
		heap.Push(&t.h, e)
		return
	}
	e := t.h[0] // the smallest counter
	delete(t.index, e.key)
	e.key, e.err = key, e.count
	e.count++
	t.index[key] = e
	heap.Fix(&t.h, 0)
}

// len is the number of keys held.
func (t *topK) len() int { return len(t.h) }

type topHeap []*topEntry

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return h[i].count < h[j].count }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].pos = i; h[j].pos = j }
func (h *topHeap) Push(x any)        { e := x.(*topEntry); e.pos = len(*h); *h = append(*h, e) }
func (h *topHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
