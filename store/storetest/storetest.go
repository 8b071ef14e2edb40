// Package storetest is the conformance suite for store.Store
// implementations. Every implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{
//			New: func(t *testing.T, clock *storetest.Clock) store.Store {
//				return memstore.New(memstore.Options{Now: clock.Now})
//			},
//		})
//	}
//
// A store that reads its own clock (Redis) sets Factory.RealTime: the suite
// then waits real time instead of advancing the fake clock, using TTLs of
// Factory.Unit, and keeps those waits few.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testsync"
	"github.com/bulwark-go/bulwark/store"
)

// Factory makes the stores the suite tests.
type Factory struct {
	// New returns a new, empty store that reads time from clock (a store
	// with RealTime set ignores it). The suite closes it; New may register
	// further cleanups on t. Required.
	New func(t *testing.T, clock *Clock) store.Store
	// RealTime reports that the store keeps its own time (a server), so the
	// suite must sleep rather than advance clock.
	RealTime bool
	// Unit is the TTL the suite builds its timings from: entries live a few
	// Units and the suite waits fractions and multiples of it; a check
	// that an entry still lives has about one Unit of margin. Default 1s
	// with a fake clock, 500ms with RealTime (a stall of a few hundred ms
	// under -race on a loaded machine must not decide a test; the subtests
	// run in parallel, so the suite still takes a few seconds).
	Unit time.Duration
}

// Clock is a fake clock, safe for concurrent use, that moves only when
// advanced. Its zero value reads the Unix epoch.
type Clock = testclock.Clock

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return testclock.New(t) }

// env is one subtest's store and time.
type env struct {
	t     *testing.T
	s     store.Store
	clock *Clock
	real  bool
	u     time.Duration
	ctx   context.Context
}

// wait lets d pass for the store.
func (e *env) wait(d time.Duration) {
	if e.real {
		time.Sleep(d)
		return
	}
	e.clock.Advance(d)
}

// Run runs the conformance suite. Subtests run in parallel, each with its
// own store.
func Run(t *testing.T, f Factory) {
	t.Helper()
	if f.New == nil {
		t.Fatal("storetest: Factory.New is required")
	}
	u := f.Unit
	if u <= 0 {
		u = time.Second
		if f.RealTime {
			u = 500 * time.Millisecond
		}
	}
	tests := []struct {
		name string
		fn   func(*env)
	}{
		{"Miss", testMiss},
		{"InvalidTTL", testInvalidTTL},
		{"IncrFixedWindow", testIncrFixedWindow},
		{"IncrDelta", testIncrDelta},
		{"IncrConcurrent", testIncrConcurrent},
		{"SetGetExpiry", testSetGetExpiry},
		{"SetReplaces", testSetReplaces},
		{"ValueCopy", testValueCopy},
		{"BinaryAndEmptyValues", testBinaryValues},
		{"SetNX", testSetNX},
		{"SetNXExclusive", testSetNXExclusive},
		{"Take", testTake},
		{"TakeAtMostOnce", testTakeAtMostOnce},
		{"Consume", testConsume},
		{"ConsumeFirstOnce", testConsumeFirstOnce},
		{"Delete", testDelete},
		{"Sets", testSets},
		{"SetTTLRestarts", testSetTTLRestarts},
		{"Kinds", testKinds},
		{"Independence", testIndependence},
		{"Closed", testClosed},
		{"ExistsAny", testExistsAny},
		{"CompareAndSwap", testCompareAndSwap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			s := f.New(t, clock)
			if s == nil {
				t.Fatal("Factory.New returned nil")
			}
			t.Cleanup(func() { _ = s.Close() })
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			tc.fn(&env{t: t, s: s, clock: clock, real: f.RealTime, u: u, ctx: ctx})
		})
	}
}

// testExistsAny checks store.AnyExister where the store implements it.
func testExistsAny(e *env) {
	ae, ok := e.s.(store.AnyExister)
	if !ok {
		e.t.Log("the store does not implement store.AnyExister (optional): nothing to check")
		return
	}
	exists := func(keys ...string) bool {
		e.t.Helper()
		v, err := ae.ExistsAny(e.ctx, keys...)
		if err != nil {
			e.t.Fatalf("ExistsAny(%q): %v", keys, err)
		}
		return v
	}
	if exists() || exists("", "") || exists("ea:none1", "ea:none2") {
		e.t.Fatal("ExistsAny true with no live key")
	}
	must[bool](e.t, "SetNX")(e.s.SetNX(e.ctx, "ea:value", []byte("1"), 2*e.u))
	must[int64](e.t, "Incr")(e.s.Incr(e.ctx, "ea:counter", 1, 4*e.u))
	must[int64](e.t, "AddToSet")(e.s.AddToSet(e.ctx, "ea:set", "m", 4*e.u))
	for _, keys := range [][]string{{"ea:value"}, {"ea:none1", "ea:value"}, {"", "ea:counter"}, {"ea:set", "ea:none2"}} {
		if !exists(keys...) {
			e.t.Fatalf("ExistsAny(%q) false with a live key", keys)
		}
	}
	e.wait(3 * e.u)
	if exists("ea:value", "ea:none1") {
		e.t.Fatal("ExistsAny true for an expired key")
	}
	if !exists("ea:value", "ea:counter") {
		e.t.Fatal("ExistsAny lost a live key beside an expired one")
	}
}

func must[T any](t *testing.T, op string) func(T, error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", op, err)
		}
		return v
	}
}

func (e *env) get(key string) ([]byte, bool) {
	e.t.Helper()
	v, ok, err := e.s.Get(e.ctx, key)
	if err != nil {
		e.t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok && v != nil {
		e.t.Fatalf("Get(%q) = %q, false: a miss must return a nil value", key, v)
	}
	return v, ok
}

func (e *env) wantValue(key, want string) {
	e.t.Helper()
	v, ok := e.get(key)
	if !ok || string(v) != want {
		e.t.Fatalf("Get(%q) = %q, %v; want %q, true", key, v, ok, want)
	}
}

func (e *env) wantMiss(key string) {
	e.t.Helper()
	if v, ok := e.get(key); ok {
		e.t.Fatalf("Get(%q) = %q, true; want a miss", key, v)
	}
}

func (e *env) set(key, value string, ttl time.Duration) {
	e.t.Helper()
	if err := e.s.Set(e.ctx, key, []byte(value), ttl); err != nil {
		e.t.Fatalf("Set(%q): %v", key, err)
	}
}

func (e *env) incr(key string, delta int64, ttl time.Duration) int64 {
	e.t.Helper()
	return must[int64](e.t, "Incr")(e.s.Incr(e.ctx, key, delta, ttl))
}

func (e *env) add(key, member string, ttl time.Duration) int64 {
	e.t.Helper()
	return must[int64](e.t, "AddToSet")(e.s.AddToSet(e.ctx, key, member, ttl))
}

func (e *env) size(key string) int64 {
	e.t.Helper()
	return must[int64](e.t, "SetSize")(e.s.SetSize(e.ctx, key))
}

func (e *env) member(key, m string) bool {
	e.t.Helper()
	return must[bool](e.t, "IsMember")(e.s.IsMember(e.ctx, key, m))
}

func testMiss(e *env) {
	e.wantMiss("missing")
	v, ok, err := e.s.Take(e.ctx, "missing")
	if v != nil || ok || err != nil {
		e.t.Fatalf("Take(missing) = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
	if n := e.size("missing"); n != 0 {
		e.t.Fatalf("SetSize(missing) = %d; want 0", n)
	}
	if e.member("missing", "m") {
		e.t.Fatal("IsMember(missing) = true")
	}
	if err := e.s.Delete(e.ctx, "missing"); err != nil {
		e.t.Fatalf("Delete(missing) = %v", err)
	}
}

func testInvalidTTL(e *env) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		name := fmt.Sprint(ttl)
		check := func(op string, err error) {
			e.t.Helper()
			if !errors.Is(err, store.ErrInvalidTTL) {
				e.t.Errorf("%s with ttl %s: err = %v; want store.ErrInvalidTTL", op, name, err)
			}
		}
		_, err := e.s.Incr(e.ctx, "c", 1, ttl)
		check("Incr", err)
		check("Set", e.s.Set(e.ctx, "v", []byte("x"), ttl))
		_, err = e.s.SetNX(e.ctx, "v", []byte("x"), ttl)
		check("SetNX", err)
		_, err = e.s.AddToSet(e.ctx, "s", "m", ttl)
		check("AddToSet", err)
	}
	// Nothing was stored by the refused calls.
	e.wantMiss("v")
	e.wantMiss("c")
	if n := e.size("s"); n != 0 {
		e.t.Fatalf("SetSize after refused AddToSet = %d", n)
	}
}

func testIncrFixedWindow(e *env) {
	u := e.u
	if n := e.incr("c", 1, 3*u); n != 1 {
		e.t.Fatalf("first Incr = %d; want 1", n)
	}
	e.wait(2 * u)
	if n := e.incr("c", 1, 3*u); n != 2 {
		e.t.Fatalf("Incr inside the window = %d; want 2", n)
	}
	// 3.5u after the first Incr: the window (3u) is over. Had the second
	// Incr extended the TTL, the counter would live until 5u.
	e.wait(3 * u / 2)
	if n := e.incr("c", 1, 3*u); n != 1 {
		e.t.Fatalf("Incr after the window = %d; want 1 (a later Incr must not extend the TTL)", n)
	}
}

func testIncrDelta(e *env) {
	ttl := 10 * e.u
	if n := e.incr("c", 5, ttl); n != 5 {
		e.t.Fatalf("Incr(5) = %d", n)
	}
	if n := e.incr("c", -7, ttl); n != -2 {
		e.t.Fatalf("Incr(-7) = %d; want -2", n)
	}
	if n := e.incr("c", 0, ttl); n != -2 {
		e.t.Fatalf("Incr(0) = %d; want -2", n)
	}
	if n := e.incr("zero", 0, ttl); n != 0 {
		e.t.Fatalf("Incr(0) on a new key = %d; want 0", n)
	}
}

func testIncrConcurrent(e *env) {
	const workers, each = 50, 20
	var wg sync.WaitGroup
	var failed testsync.FirstError
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := e.s.Incr(e.ctx, "c", 1, 10*e.u); err != nil {
					failed.Set(err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Err(); err != nil {
		e.t.Fatalf("concurrent Incr: %v", err)
	}
	if n := e.incr("c", 0, 10*e.u); n != workers*each {
		e.t.Fatalf("after %d concurrent increments the counter is %d", workers*each, n)
	}
}

func testSetGetExpiry(e *env) {
	u := e.u
	e.set("k", "v1", 2*u)
	e.wantValue("k", "v1")
	e.wait(u)
	e.wantValue("k", "v1")
	e.wait(3 * u / 2) // 2.5u
	e.wantMiss("k")
	// An expired key is free again for SetNX.
	ok := must[bool](e.t, "SetNX")(e.s.SetNX(e.ctx, "k", []byte("v2"), 10*u))
	if !ok {
		e.t.Fatal("SetNX on an expired key = false")
	}
	e.wantValue("k", "v2")
}

func testSetReplaces(e *env) {
	u := e.u
	e.set("k", "old", 2*u)
	e.set("k", "new", 10*u) // replaces the value and the TTL
	e.wait(3 * u)
	e.wantValue("k", "new")
	e.set("k", "short", u) // a shorter TTL replaces a longer one too
	e.wait(2 * u)
	e.wantMiss("k")
}

func testValueCopy(e *env) {
	buf := []byte("original")
	if err := e.s.Set(e.ctx, "k", buf, 10*e.u); err != nil {
		e.t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	e.wantValue("k", "original")
	v, _ := e.get("k")
	copy(v, "YYYYYYYY")
	e.wantValue("k", "original")

	buf = []byte("second")
	if _, err := e.s.SetNX(e.ctx, "k2", buf, 10*e.u); err != nil {
		e.t.Fatal(err)
	}
	copy(buf, "ZZZZZZ")
	e.wantValue("k2", "second")
}

func testBinaryValues(e *env) {
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0}
	if err := e.s.Set(e.ctx, "bin", bin, 10*e.u); err != nil {
		e.t.Fatal(err)
	}
	v, ok := e.get("bin")
	if !ok || !bytes.Equal(v, bin) {
		e.t.Fatalf("Get(bin) = %x, %v; want %x", v, ok, bin)
	}
	for _, empty := range [][]byte{{}, nil} {
		if err := e.s.Set(e.ctx, "empty", empty, 10*e.u); err != nil {
			e.t.Fatal(err)
		}
		v, ok = e.get("empty")
		if !ok || len(v) != 0 {
			e.t.Fatalf("Get(empty) = %q, %v; want an empty value, found", v, ok)
		}
	}
	v, ok, err := e.s.Take(e.ctx, "empty")
	if err != nil || !ok || len(v) != 0 {
		e.t.Fatalf("Take(empty) = %q, %v, %v; want an empty value, found", v, ok, err)
	}
	// Keys are opaque: braces, spaces, colons, NUL and non-ASCII are fine.
	odd := "{tag}: key with spaces\x00 and ünïcode"
	e.set(odd, "odd", 10*e.u)
	e.wantValue(odd, "odd")
	e.wantMiss("{tag}: key with spaces")
}

func testSetNX(e *env) {
	u := e.u
	setnx := func(v string, ttl time.Duration) bool {
		e.t.Helper()
		return must[bool](e.t, "SetNX")(e.s.SetNX(e.ctx, "k", []byte(v), ttl))
	}
	if !setnx("first", 2*u) {
		e.t.Fatal("SetNX on a missing key = false")
	}
	if setnx("second", 10*u) {
		e.t.Fatal("SetNX on a present key = true")
	}
	e.wantValue("k", "first")
	// The refused SetNX did not change the TTL either.
	e.wait(3 * u)
	e.wantMiss("k")
	if !setnx("third", 2*u) {
		e.t.Fatal("SetNX after expiry = false")
	}
	e.wantValue("k", "third")
}

func testSetNXExclusive(e *env) {
	const workers = 50
	for round := range 5 {
		key := fmt.Sprint("lock-", round)
		var wins atomic.Int32
		var failed testsync.FirstError
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				<-start
				ok, err := e.s.SetNX(e.ctx, key, []byte(fmt.Sprint(i)), 10*e.u)
				if err != nil {
					failed.Set(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if err := failed.Err(); err != nil {
			e.t.Fatalf("SetNX: %v", err)
		}
		if n := wins.Load(); n != 1 {
			e.t.Fatalf("round %d: %d of %d concurrent SetNX calls stored; want exactly 1", round, n, workers)
		}
	}
}

func testTake(e *env) {
	e.set("k", "token", 10*e.u)
	v, ok, err := e.s.Take(e.ctx, "k")
	if err != nil || !ok || string(v) != "token" {
		e.t.Fatalf("Take = %q, %v, %v; want token, true, nil", v, ok, err)
	}
	v, ok, err = e.s.Take(e.ctx, "k")
	if err != nil || ok || v != nil {
		e.t.Fatalf("second Take = %q, %v, %v; want a miss", v, ok, err)
	}
	e.wantMiss("k")
	// An expired value cannot be taken.
	e.set("exp", "token", e.u)
	e.wait(2 * e.u)
	if _, ok, err := e.s.Take(e.ctx, "exp"); ok || err != nil {
		e.t.Fatalf("Take of an expired value = %v, %v; want a miss", ok, err)
	}
}

func testTakeAtMostOnce(e *env) {
	const workers, rounds = 50, 10
	for round := range rounds {
		key := fmt.Sprint("once-", round)
		e.set(key, "secret", 10*e.u)
		var got atomic.Int32
		var failed testsync.FirstError
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				<-start
				v, ok, err := e.s.Take(e.ctx, key)
				if err != nil {
					failed.Set(err)
				}
				if ok {
					got.Add(1)
					if string(v) != "secret" {
						failed.Set(fmt.Errorf("the value taken is %q", v))
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if err := failed.Err(); err != nil {
			e.t.Fatalf("Take: %v", err)
		}
		if n := got.Load(); n != 1 {
			e.t.Fatalf("round %d: %d of %d concurrent Take calls found the value; want exactly 1", round, n, workers)
		}
	}
}

func (e *env) consume(key, used, note string, grace time.Duration) (string, string, store.Use) {
	e.t.Helper()
	v, first, use, err := e.s.Consume(e.ctx, key, used, []byte(note), grace)
	if err != nil {
		e.t.Fatalf("Consume(%q, %q): %v", key, used, err)
	}
	if use == store.NotFound && (v != nil || first != nil) {
		e.t.Fatalf("Consume(%q, %q) = %q, %q, NotFound; want no value", key, used, v, first)
	}
	return string(v), string(first), use
}

func testConsume(e *env) {
	if v, _, use := e.consume("{a}k", "{a}used", "n", e.u); use != store.NotFound {
		e.t.Fatalf("Consume of a missing key = %q, %v; want NotFound", v, use)
	}
	if _, _, _, err := e.s.Consume(e.ctx, "{a}k", "{a}used", nil, 0); !errors.Is(err, store.ErrInvalidTTL) {
		e.t.Fatalf("Consume with grace 0: err = %v; want ErrInvalidTTL", err)
	}
	// Values and notes may hold anything, colons and digits included.
	const val, note = "12:fam\x00ily:", "3:first\xff"
	e.set("{a}k", val, 10*e.u)
	if v, n, use := e.consume("{a}k", "{a}used", note, 2*e.u); use != store.FirstUse || v != val || n != note {
		e.t.Fatalf("first Consume = %q, %q, %v; want %q, %q, FirstUse", v, n, use, val, note)
	}
	e.wantMiss("{a}k")
	e.wait(e.u)
	if v, n, use := e.consume("{a}k", "{a}used", "second", 2*e.u); use != store.RepeatUse || v != val || n != note {
		e.t.Fatalf("Consume within grace = %q, %q, %v; want %q, the first note %q, RepeatUse", v, n, use, val, note)
	}
	// A repeat does not extend the grace.
	e.wait(2 * e.u)
	if v, _, use := e.consume("{a}k", "{a}used", "third", 2*e.u); use != store.NotFound {
		e.t.Fatalf("Consume after grace = %q, %v; want NotFound", v, use)
	}
	// An expired value cannot be consumed; empty values and notes work.
	e.set("{b}k", "v", e.u)
	e.wait(2 * e.u)
	if v, _, use := e.consume("{b}k", "{b}used", "", e.u); use != store.NotFound {
		e.t.Fatalf("Consume of an expired value = %q, %v; want NotFound", v, use)
	}
	e.set("{b}k", "", 10*e.u)
	if _, _, use := e.consume("{b}k", "{b}used", "", 2*e.u); use != store.FirstUse {
		e.t.Fatalf("Consume of an empty value = %v; want FirstUse", use)
	}
	if v, n, use := e.consume("{b}k", "{b}used", "x", 2*e.u); use != store.RepeatUse || v != "" || n != "" {
		e.t.Fatalf("repeat Consume of an empty value = %q, %q, %v; want empty, empty, RepeatUse", v, n, use)
	}
}

func testConsumeFirstOnce(e *env) {
	const workers, rounds = 50, 5
	for round := range rounds {
		key, used := fmt.Sprintf("{c%d}k", round), fmt.Sprintf("{c%d}used", round)
		e.set(key, "family", 10*e.u)
		var first, repeat atomic.Int32
		var failed testsync.FirstError
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				<-start
				v, _, use, err := e.s.Consume(e.ctx, key, used, []byte("n"), 10*e.u)
				switch {
				case err != nil:
					failed.Set(err)
				case use == store.FirstUse:
					first.Add(1)
				case use == store.RepeatUse:
					repeat.Add(1)
				default:
					failed.Set(fmt.Errorf("a concurrent Consume found nothing: %v", use))
				}
				if err == nil && string(v) != "family" {
					failed.Set(fmt.Errorf("consume returned %q", v))
				}
			})
		}
		close(start)
		wg.Wait()
		if err := failed.Err(); err != nil {
			e.t.Fatalf("Consume: %v", err)
		}
		if f, r := first.Load(), repeat.Load(); f != 1 || r != workers-1 {
			e.t.Fatalf("round %d: %d FirstUse and %d RepeatUse of %d concurrent calls; want 1 and %d", round, f, r, workers, workers-1)
		}
	}
}

func testDelete(e *env) {
	ttl := 10 * e.u
	e.set("v", "x", ttl)
	e.incr("c", 1, ttl)
	e.add("s", "m", ttl)
	for _, k := range []string{"v", "c", "s"} {
		for i := range 2 { // idempotent
			if err := e.s.Delete(e.ctx, k); err != nil {
				e.t.Fatalf("Delete(%q) #%d: %v", k, i+1, err)
			}
		}
	}
	e.wantMiss("v")
	if n := e.incr("c", 1, ttl); n != 1 {
		e.t.Fatalf("Incr after Delete = %d; want 1", n)
	}
	if n := e.size("s"); n != 0 {
		e.t.Fatalf("SetSize after Delete = %d; want 0", n)
	}
}

func testSets(e *env) {
	ttl := 10 * e.u
	for i, tc := range []struct {
		member string
		size   int64
	}{{"a", 1}, {"b", 2}, {"a", 2}, {"", 3}, {"c", 4}, {"b", 4}} {
		if n := e.add("s", tc.member, ttl); n != tc.size {
			e.t.Fatalf("AddToSet #%d (%q) = %d; want %d", i, tc.member, n, tc.size)
		}
	}
	if n := e.size("s"); n != 4 {
		e.t.Fatalf("SetSize = %d; want 4", n)
	}
	for _, m := range []string{"a", "b", "c", ""} {
		if !e.member("s", m) {
			e.t.Fatalf("IsMember(%q) = false", m)
		}
	}
	if e.member("s", "d") {
		e.t.Fatal("IsMember(d) = true")
	}
	if e.member("other", "a") {
		e.t.Fatal("IsMember on another key = true")
	}
}

func testSetTTLRestarts(e *env) {
	u := e.u
	e.add("s", "a", 3*u)
	e.wait(2 * u)
	e.add("s", "b", 3*u) // restarts the whole set's TTL
	e.wait(2 * u)        // 4u after the first add, 2u after the restart
	if n := e.size("s"); n != 2 {
		e.t.Fatalf("SetSize 2u after the TTL restart = %d; want 2 (every AddToSet restarts the TTL)", n)
	}
	if !e.member("s", "a") {
		e.t.Fatal("the first member was lost when the TTL restarted")
	}
	e.wait(3*u/2 + u/2) // 4u after the restart
	if n := e.size("s"); n != 0 {
		e.t.Fatalf("SetSize after expiry = %d; want 0", n)
	}
	if e.member("s", "a") {
		e.t.Fatal("IsMember after expiry = true")
	}
	if n := e.add("s", "c", 3*u); n != 1 {
		e.t.Fatalf("AddToSet after expiry = %d; want 1 (a fresh set)", n)
	}
}

// testKinds pins what happens when one key is used as two kinds, which the
// contract leaves to Redis's string semantics.
func testKinds(e *env) {
	ttl := 10 * e.u
	e.incr("c", 42, ttl)
	e.wantValue("c", "42") // a counter reads as its decimal text
	e.set("n", "7", ttl)
	if n := e.incr("n", 1, ttl); n != 8 {
		e.t.Fatalf("Incr of the value \"7\" = %d; want 8", n)
	}
	e.set("text", "abc", ttl)
	if _, err := e.s.Incr(e.ctx, "text", 1, ttl); err == nil || errors.Is(err, store.ErrUnavailable) {
		e.t.Fatalf("Incr of a non-integer value: err = %v; want a non-outage error", err)
	}
	e.add("set", "m", ttl)
	wrong := func(op string, err error) {
		e.t.Helper()
		if err == nil || errors.Is(err, store.ErrUnavailable) {
			e.t.Errorf("%s on the wrong kind: err = %v; want a non-outage error", op, err)
		}
	}
	_, _, err := e.s.Get(e.ctx, "set")
	wrong("Get of a set", err)
	_, err = e.s.AddToSet(e.ctx, "text", "m", ttl)
	wrong("AddToSet on a value", err)
	_, err = e.s.SetSize(e.ctx, "c")
	wrong("SetSize of a counter", err)
	// Set replaces whatever kind was there.
	e.set("set", "now a value", ttl)
	e.wantValue("set", "now a value")
	if ok, err := e.s.SetNX(e.ctx, "c", []byte("x"), ttl); ok || err != nil {
		e.t.Fatalf("SetNX over a counter = %v, %v; want false, nil", ok, err)
	}
}

func testIndependence(e *env) {
	ttl := 10 * e.u
	e.set("a", "1", ttl)
	e.set("b", "2", ttl)
	e.incr("a:count", 3, ttl)
	if err := e.s.Delete(e.ctx, "a"); err != nil {
		e.t.Fatal(err)
	}
	e.wantMiss("a")
	e.wantValue("b", "2")
	if n := e.incr("a:count", 0, ttl); n != 3 {
		e.t.Fatalf("unrelated counter = %d; want 3", n)
	}
}

func testClosed(e *env) {
	e.set("k", "v", 10*e.u)
	if err := e.s.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	if err := e.s.Close(); err != nil {
		e.t.Fatalf("second Close: %v", err)
	}
	ttl := e.u
	ctx := e.ctx
	checks := map[string]error{}
	_, checks["Incr"] = e.s.Incr(ctx, "c", 1, ttl)
	_, _, checks["Get"] = e.s.Get(ctx, "k")
	checks["Set"] = e.s.Set(ctx, "k", []byte("v"), ttl)
	_, checks["SetNX"] = e.s.SetNX(ctx, "n", []byte("v"), ttl)
	_, _, checks["Take"] = e.s.Take(ctx, "k")
	_, _, _, checks["Consume"] = e.s.Consume(ctx, "k", "u", nil, ttl)
	checks["Delete"] = e.s.Delete(ctx, "k")
	_, checks["AddToSet"] = e.s.AddToSet(ctx, "s", "m", ttl)
	_, checks["SetSize"] = e.s.SetSize(ctx, "s")
	_, checks["IsMember"] = e.s.IsMember(ctx, "s", "m")
	for op, err := range checks {
		if !errors.Is(err, store.ErrClosed) || !errors.Is(err, store.ErrUnavailable) {
			e.t.Errorf("%s on a closed store: err = %v; want store.ErrClosed and store.ErrUnavailable", op, err)
		}
	}
}
