package abuse

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/store/memstore"
)

// The client cache must give exactly the keys the HMAC gives, survive a
// slot shared by two clients (a colliding or corrupted entry is never
// taken for another client's), and never hold a card value.
func TestKeyCache(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	g, err := New(Options{Name: "kc", Store: st, Fingerprint: Header("X-Card"), Threshold: 1000,
		Secret: []byte(strings.Repeat("k", 32)),
		Views:  []View{{Name: "nets", Key: Header("X-Card"), Value: ClientPrefix(24, 64), Threshold: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if g.cache == nil {
		t.Fatal("a guard keyed by Client has no client cache")
	}
	const clients = 300
	want := func(sc *scratch, prefix, raw string) string {
		return strings.Clone(sc.sum(prefix, []byte(raw)))
	}
	for round := range 3 { // round 0 fills the cache, 1 and 2 read it
		for i := range clients {
			r := httptest.NewRequest("POST", "/", nil)
			ip := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
			r.RemoteAddr = ip + ":4000"
			if i%3 == 0 {
				ip = fmt.Sprintf("2001:db8:%x:1::%x", i, i)
				r.RemoteAddr = "[" + ip + "]:4000"
			}
			card := fmt.Sprintf("card-%d-%d", round, i)
			r.Header.Set("X-Card", card)
			sc := g.get()
			if p := g.prepare(nil, r, sc); p != nil {
				t.Fatal(p)
			}
			ck, ok := Client().get(nil, r, nil)
			if !ok {
				t.Fatal("no client")
			}
			np, _ := ClientPrefix(24, 64).get(nil, r, nil)
			got := []string{sc.keys[0], sc.members[0], sc.keys[1], sc.members[1]}
			exp := []string{want(sc, g.views[0].prefix, string(ck)), want(sc, "", card), want(sc, g.views[1].prefix, card), want(sc, "", string(np))}
			for j := range got {
				if got[j] != exp[j] {
					t.Fatalf("round %d, client %s, value %d: %q; want %q", round, ip, j, got[j], exp[j])
				}
			}
			g.put(sc)
		}
	}
	// No card value in the cache; clients and prefixes only.
	n := 0
	for i := range g.cache.slots {
		e := g.cache.slots[i].Load()
		if e == nil {
			continue
		}
		n++
		if raw := string(e.raw[:e.n]); strings.Contains(raw, "card") {
			t.Fatalf("cache holds a card value: %q", raw)
		}
	}
	if n == 0 || n > 2*clients {
		t.Fatalf("%d cache entries for %d clients and their prefixes", n, clients)
	}

	// A slot holding another client's digest (a collision) is not used.
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = "192.0.2.9:4000"
	r.Header.Set("X-Card", "c")
	raw := []byte("192.0.2.9")
	other := &keyCacheEntry{n: uint8(len("192.0.2.90"))}
	copy(other.raw[:], "192.0.2.90")
	copy(other.hex[:], strings.Repeat("f", 32))
	g.cache.slot(raw).Store(other)
	sc := g.get()
	defer g.put(sc)
	if p := g.prepare(nil, r, sc); p != nil {
		t.Fatal(p)
	}
	if w := want(sc, g.views[0].prefix, string(raw)); sc.keys[0] != w {
		t.Fatalf("collision: key %q; want %q", sc.keys[0], w)
	}
	if e := g.cache.slot(raw).Load(); string(e.raw[:e.n]) != string(raw) {
		t.Fatalf("collision: slot still holds %q", e.raw[:e.n])
	}
}

// A guard whose sources are none of the client's (a card keyed by an API
// key) keeps no client cache at all.
func TestKeyCacheOnlyForClientSources(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	g, err := New(Options{Name: "kc", Store: st, Key: APIKey("X-API-Key"), Fingerprint: Card("n", "m", "y"),
		Threshold: 3, Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	if g.cache != nil {
		t.Fatal("a guard with no client source keeps a client cache")
	}
}
