package idtable

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randID(rng *rand.Rand) string {
	b := make([]byte, Len)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func key(t testing.TB, id string) Key {
	k, ok := KeyOf(id)
	if !ok {
		t.Fatalf("KeyOf(%q) not ok", id)
	}
	return k
}

// check compares the table with a model map, both ways, and verifies
// that every held identifier is reachable from its home slot with no
// empty slot in between (the probing invariant deletion must keep).
func check(t *testing.T, tb *Table[int], model map[string]int) {
	t.Helper()
	if tb.Len() != len(model) {
		t.Fatalf("Len %d; model %d", tb.Len(), len(model))
	}
	for id, v := range model {
		if got, ok := tb.Get(key(t, id)); !ok || got != v {
			t.Fatalf("Get(%s) = %d, %v; want %d", id, got, ok, v)
		}
	}
	n := 0
	mask := len(tb.slots) - 1
	for i, s := range tb.slots {
		if s.k.lo == 0 {
			continue
		}
		n++
		for j := int(s.k.hash() >> tb.shift); j != i; j = (j + 1) & mask {
			if tb.slots[j].k.lo == 0 {
				t.Fatalf("slot %d is unreachable: empty slot %d on its chain", i, j)
			}
		}
	}
	if n != len(model) {
		t.Fatalf("%d occupied slots; model %d", n, len(model))
	}
	if 2*tb.Len() > len(tb.slots) {
		t.Fatalf("%d identifiers in %d slots: more than half full", tb.Len(), len(tb.slots))
	}
}

func TestKeyOf(t *testing.T) {
	for _, id := range []string{"", "abc", "abcdefghijklm", "abcdefghijklmno", "\x00\x00\x00\x00\x00\x00\x00\x00abcdef"} {
		if _, ok := KeyOf(id); ok {
			t.Errorf("KeyOf(%q) ok", id)
		}
	}
	// The two words determine all 14 bytes: IDs that differ in any
	// single byte have different keys.
	base := "abcdefghijklmn"
	k0 := key(t, base)
	for i := range Len {
		b := []byte(base)
		b[i] = 'Z'
		if key(t, string(b)) == k0 {
			t.Errorf("byte %d does not change the key", i)
		}
	}
	var tb Table[int]
	if _, ok := tb.Get(Key{}); ok || tb.Delete(Key{}) {
		t.Fatal("the zero key is held by an empty table")
	}
}

// TestRandomOps: puts, replacements, deletes and evictions against a
// model map, with growth from empty.
func TestRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tb Table[int]
	model := map[string]int{}
	var ids []string
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(ids) == 0:
			id := randID(rng)
			ids = append(ids, id)
			tb.Put(key(t, id), step)
			model[id] = step
		case op < 6:
			id := ids[rng.IntN(len(ids))]
			tb.Put(key(t, id), -step)
			model[id] = -step
		case op < 9:
			id := ids[rng.IntN(len(ids))]
			_, held := model[id]
			if got := tb.Delete(key(t, id)); got != held {
				t.Fatalf("Delete(%s) = %v; held %v", id, got, held)
			}
			delete(model, id)
		default:
			before := tb.Len()
			if tb.Evict(rng.Uint64()) != (before > 0) {
				t.Fatal("Evict reported wrongly")
			}
			for id := range model {
				if _, ok := tb.Get(key(t, id)); !ok {
					delete(model, id)
				}
			}
			if len(model) != before-1 && before > 0 {
				t.Fatalf("Evict removed %d identifiers", before-len(model))
			}
		}
		if step%500 == 0 {
			check(t, &tb, model)
		}
	}
	check(t, &tb, model)
	// Absent identifiers are not found.
	for range 1000 {
		id := randID(rng)
		if _, ok := tb.Get(key(t, id)); ok != (model[id] != 0) {
			t.Fatalf("Get(%s) of an absent id ok", id)
		}
	}
	tb.Clear()
	check(t, &tb, map[string]int{})
}

// TestCollisions: identifiers that share a home slot (and chains that
// wrap around the end of the table) survive deletion in any order.
func TestCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tb := New[int](4) // 16 slots
	if len(tb.slots) != minSlots {
		t.Fatalf("%d slots", len(tb.slots))
	}
	for _, home := range []uint64{3, uint64(minSlots - 1)} { // the last slot: chains wrap
		var same []string
		for len(same) < 6 {
			id := randID(rng)
			if key(t, id).hash()>>tb.shift == home {
				same = append(same, id)
			}
		}
		for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2, 0, 4, 1, 5, 3}} {
			tb.Clear()
			model := map[string]int{}
			for i, id := range same[:6] {
				tb.Put(key(t, id), i+1)
				model[id] = i + 1
			}
			if len(tb.slots) != minSlots {
				t.Fatalf("grew to %d slots", len(tb.slots))
			}
			check(t, tb, model)
			for _, i := range order {
				tb.Delete(key(t, same[i]))
				delete(model, same[i])
				check(t, tb, model)
			}
		}
	}
}

// TestGrowth: a table sized for n does not grow before n; tables grow
// keeping every identifier.
func TestGrowth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tb := New[int](1000)
	size := len(tb.slots)
	model := map[string]int{}
	for i := range 1000 {
		id := randID(rng)
		tb.Put(key(t, id), i)
		model[id] = i
	}
	if len(tb.slots) != size {
		t.Fatalf("grew from %d to %d slots before its size", size, len(tb.slots))
	}
	for i := range 5000 {
		id := randID(rng)
		tb.Put(key(t, id), i)
		model[id] = i
	}
	check(t, tb, model)
}

func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			tb := New[*int](n)
			keys := make([]Key, n)
			for i := range keys {
				keys[i] = key(b, randID(rng))
				tb.Put(keys[i], new(int))
			}
			i := 0
			for b.Loop() {
				if _, ok := tb.Get(keys[i]); !ok {
					b.Fatal("miss")
				}
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}
