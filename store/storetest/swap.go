package storetest

import (
	"sync"

	"github.com/bulwark-go/bulwark/store"
)

// testCompareAndSwap checks store.Swapper where the store implements it.
func testCompareAndSwap(e *env) {
	sw, ok := e.s.(store.Swapper)
	if !ok {
		e.t.Log("the store does not implement store.Swapper (optional): nothing to check")
		return
	}
	cas := func(key string, old, next []byte) bool {
		e.t.Helper()
		ok, err := sw.CompareAndSwap(e.ctx, key, old, next, 4*e.u)
		if err != nil {
			e.t.Fatalf("CompareAndSwap(%q, %q, %q): %v", key, old, next, err)
		}
		return ok
	}
	if _, err := sw.CompareAndSwap(e.ctx, "cas:k", nil, []byte("v"), 0); err == nil {
		e.t.Fatal("CompareAndSwap with a zero ttl: no error")
	}
	if cas("cas:k", []byte("x"), []byte("y")) {
		e.t.Fatal("swapped a missing key against a value")
	}
	e.wantMiss("cas:k")
	if !cas("cas:k", nil, []byte("v1")) {
		e.t.Fatal("did not store into a missing key with nil old")
	}
	e.wantValue("cas:k", "v1")
	if cas("cas:k", nil, []byte("v2")) {
		e.t.Fatal("nil old matched a present key")
	}
	if cas("cas:k", []byte("v0"), []byte("v2")) || cas("cas:k", []byte{}, []byte("v2")) {
		e.t.Fatal("swapped against a stale value")
	}
	e.wantValue("cas:k", "v1")
	if !cas("cas:k", []byte("v1"), []byte("v2")) {
		e.t.Fatal("did not swap against the current value")
	}
	e.wantValue("cas:k", "v2")
	// Binary and empty values compare exactly.
	bin := []byte{0, 0xff, '\n', 0}
	if !cas("cas:k", []byte("v2"), bin) || !cas("cas:k", bin, []byte{}) {
		e.t.Fatal("binary swap failed")
	}
	if cas("cas:k", nil, []byte("x")) {
		e.t.Fatal("nil old matched an empty value")
	}
	if !cas("cas:k", []byte{}, []byte("v3")) {
		e.t.Fatal("an empty old did not match an empty value")
	}
	// A nil next deletes, only against the current value.
	if cas("cas:k", []byte("v2"), nil) {
		e.t.Fatal("deleted against a stale value")
	}
	if !cas("cas:k", []byte("v3"), nil) {
		e.t.Fatal("did not delete against the current value")
	}
	e.wantMiss("cas:k")
	// The swap sets the TTL.
	cas("cas:t", nil, []byte("a"))
	e.wait(3 * e.u)
	cas("cas:t", []byte("a"), []byte("b")) // restarts: 4 units from now
	e.wait(2 * e.u)
	e.wantValue("cas:t", "b")
	e.wait(3 * e.u)
	e.wantMiss("cas:t")
	// A set never matches.
	must[int64](e.t, "AddToSet")(e.s.AddToSet(e.ctx, "cas:set", "m", 4*e.u))
	if cas("cas:set", []byte("m"), []byte("x")) || cas("cas:set", nil, []byte("x")) {
		e.t.Fatal("swapped a set")
	}
	// Of concurrent swaps from one value, exactly one wins.
	cas("cas:race", nil, []byte("0"))
	var wg sync.WaitGroup
	wins := make(chan int, 16)
	for i := range 16 {
		wg.Go(func() {
			if ok, err := sw.CompareAndSwap(e.ctx, "cas:race", []byte("0"), []byte{byte('a' + i)}, 4*e.u); err == nil && ok {
				wins <- i
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		e.t.Fatalf("%d concurrent swaps from one value won, want exactly 1", n)
	}
}
