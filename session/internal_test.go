package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeRecord: decoding never panics, and what decodes re-encodes to
// the same bytes (one encoding per record).
func FuzzDecodeRecord(f *testing.F) {
	rec := record{version: 3, created: 1, touched: 2, authAt: 2, deadline: 9, persistent: true,
		binding: string(bytes.Repeat([]byte{7}, bindingLen)), subject: "alice",
		roles: []string{"admin"}, scopes: []string{"read", "write"},
		data: []field{{"n", encodeValue(42)}, {"t", encodeValue(time.Unix(5, 0))}}}
	f.Add(appendRecord(nil, &rec))
	f.Add(appendRecord(nil, &record{deadline: 1, binding: rec.binding}))
	f.Add([]byte{recordFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if again := appendRecord(nil, &r); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes, re-encodes as %x", b, again)
		}
		lazy := r
		r.materialize()
		if again := appendRecord(nil, &r); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes, re-encodes decoded as %x", b, again)
		}
		for _, fl := range r.data {
			want, _ := r.value(fl.name)
			if got, ok := lazy.value(fl.name); !ok || got != want {
				t.Fatalf("lazy read of %q: %q, decoded %q", fl.name, got, want)
			}
		}
		for _, fl := range r.data {
			decodeValue[int](fl.val)
			decodeValue[float64](fl.val)
			decodeValue[time.Time](fl.val)
			decodeValue[[]byte](fl.val)
			decodeValue[bool](fl.val)
		}
	})
}

func TestValues(t *testing.T) {
	s := &Session{m: &Manager{now: time.Now}}
	now := time.Unix(1700000000, 123)
	Set(s, "s", "text")
	Set(s, "b", []byte{0, 1})
	Set(s, "t", true)
	Set(s, "i", -7)
	Set(s, "i64", int64(1)<<40)
	Set(s, "f", 2.5)
	Set(s, "at", now)
	if v, ok := Get[string](s, "s"); !ok || v != "text" {
		t.Fatal("string")
	}
	if v, ok := Get[[]byte](s, "b"); !ok || !bytes.Equal(v, []byte{0, 1}) {
		t.Fatal("bytes")
	}
	if v, ok := Get[bool](s, "t"); !ok || !v {
		t.Fatal("bool")
	}
	if v, ok := Get[int](s, "i"); !ok || v != -7 {
		t.Fatal("int")
	}
	if v, ok := Get[int64](s, "i64"); !ok || v != 1<<40 {
		t.Fatal("int64")
	}
	if v, ok := Get[float64](s, "f"); !ok || v != 2.5 {
		t.Fatal("float")
	}
	if v, ok := Get[time.Time](s, "at"); !ok || !v.Equal(now) {
		t.Fatal("time")
	}
	if _, ok := Get[int](s, "s"); ok {
		t.Fatal("a string read as an int")
	}
	if _, ok := Get[string](s, "missing"); ok {
		t.Fatal("missing key found")
	}
	rec, err := decodeRecord(appendRecord(nil, &s.rec))
	if v, ok := rec.value("i"); !ok || v != s.rec.data[3].val {
		t.Fatal("lazy value")
	}
	rec.materialize()
	if err != nil || len(rec.data) != 7 {
		t.Fatalf("round trip: %v", err)
	}
	s.Delete("s")
	if _, ok := Get[string](s, "s"); ok || len(s.Keys()) != 6 {
		t.Fatal("Delete")
	}
}

// FuzzParseID: parseID accepts exactly the strict base64url spellings of
// 32 bytes, and decodes them as encoding/base64 does.
func FuzzParseID(f *testing.F) {
	id, _ := newID()
	f.Add(id)
	f.Add(strings.Repeat("A", IDLen-1) + "B")
	f.Add(strings.Repeat("_", IDLen))
	f.Fuzz(func(t *testing.T, v string) {
		var got [32]byte
		ok := parseID(&got, v)
		want, err := base64.RawURLEncoding.Strict().DecodeString(v)
		wantOK := err == nil && len(want) == 32 && len(v) == IDLen
		if ok != wantOK || ok && !bytes.Equal(got[:], want) {
			t.Fatalf("parseID(%q) = %x, %v; base64: %x, %v", v, got, ok, want, err)
		}
	})
}
