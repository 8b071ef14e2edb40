package apikey

import (
	"context"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestChecksumTable: the table-driven checksum equals hash/crc32's
// IEEE CRC of prefix and head, for random heads over printable ASCII and
// several prefixes.
func TestChecksumTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []string{"", "b_", DefaultPrefix, "bwk_test_", "acme_prod_keys_0123456789abcdef_"} {
		base := prefixSum(p)
		for range 2000 {
			var head [headLen]byte
			for i := range head {
				head[i] = byte(0x21 + rng.IntN(0x7f-0x21))
			}
			want := crc32.ChecksumIEEE([]byte(p + string(head[:])))
			if got := headSum(base, string(head[:])); got != want {
				t.Fatalf("prefix %q head %q: table %08x, crc32 %08x", p, head, got, want)
			}
		}
	}
}

// TestExpiryDefaultClock: with the default clock, a key is accepted up
// to the nanosecond before its expiry and refused from then on, and its
// use is reported with the current second.
func TestExpiryDefaultClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		key, rec, err := Generate(h, Spec{TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		st, err := NewStatic(rec)
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(Options{Store: st, Secrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx := context.Background()
		time.Sleep(time.Until(rec.ExpiresAt) - time.Nanosecond)
		if _, err := a.Verify(ctx, key); err != nil {
			t.Fatalf("1 ns before expiry: %v", err)
		}
		a.Flush()
		if got := st.Records("")[0].LastUsedAt; !got.Equal(time.Now().Truncate(time.Second)) {
			t.Fatalf("last used %v; want %v", got, time.Now().Truncate(time.Second))
		}
		time.Sleep(time.Nanosecond)
		if _, err := a.Verify(ctx, key); err == nil {
			t.Fatal("accepted at its expiry")
		}
	})
}

// TestStaticLookupByID: Lookup finds keys in Bulwark's format by their
// ID, not legacy records (whatever the length of their label), and
// nothing for an ID of another length; a replaced or revoked record is
// what Lookup returns next.
func TestStaticLookupByID(t *testing.T) {
	h, _ := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	_, rec, _ := Generate(h, Spec{})
	leg, _ := LegacyRecord(h, "abcdefghijklmn", "legacy-key-0001") // IDLen long
	st, err := NewStatic(rec, leg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if e, _ := st.Lookup(ctx, rec.ID); e == nil || e.ID() != rec.ID {
		t.Fatalf("Lookup(%s) = %v", rec.ID, e)
	}
	for _, id := range []string{leg.ID, rec.ID[:IDLen-1], rec.ID + "x", ""} {
		if e, _ := st.Lookup(ctx, id); e != nil {
			t.Fatalf("Lookup(%q) = %v; want nil", id, e)
		}
	}
	st.Revoke(rec.ID, time.Now())
	if e, _ := st.Lookup(ctx, rec.ID); e == nil || !e.revoked {
		t.Fatalf("after Revoke: %+v; want the revoked entry", e)
	}
}

// TestSumMatches: decoding the checksum agrees with encoding the CRC and
// comparing, for correct sums, sums off by one digit, and random sums
// (most beyond 2^32).
func TestSumMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range []string{DefaultPrefix, "bwk_test_"} {
		base := prefixSum(p)
		for range 2000 {
			head := make([]byte, headLen)
			for i := range head {
				head[i] = base62[rng.IntN(62)]
			}
			want := encodeSum(headSum(base, string(head)))
			sums := []string{string(want[:])}
			for i := range ChecksumLen {
				w := want
				w[i] = base62[(strings.IndexByte(base62, w[i])+1+rng.IntN(61))%62]
				sums = append(sums, string(w[:]))
			}
			r := make([]byte, ChecksumLen)
			for i := range r {
				r[i] = base62[rng.IntN(62)]
			}
			sums = append(sums, string(r), "zzzzzz", "000000")
			for _, sum := range sums {
				if got := sumMatches(base, string(head), sum); got != (sum == string(want[:])) {
					t.Fatalf("sumMatches(%q, %q) = %v; want sum %q", head, sum, got, want)
				}
			}
		}
	}
}

// TestPrintable: the word-wise check agrees with a byte loop, for every
// byte value at every position of strings of every length up to 40.
func TestPrintable(t *testing.T) {
	slow := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x21 || s[i] > 0x7e {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 40; n++ {
		b := []byte(strings.Repeat("a", n))
		if !printable(string(b)) {
			t.Fatalf("%q refused", b)
		}
		for i := range n {
			for c := range 256 {
				b[i] = byte(c)
				if got, want := printable(string(b)), slow(string(b)); got != want {
					t.Fatalf("printable(%q) = %v; want %v", b, got, want)
				}
			}
			b[i] = 'a'
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = byte(0x1c + rng.IntN(0x68)) // mostly printable, sometimes not
		}
		if got, want := printable(string(b)), slow(string(b)); got != want {
			t.Fatalf("printable(%q) = %v; want %v", b, got, want)
		}
	}
}

// TestStaticConcurrent: lookups and prefetches run while records are
// added (growing the ID table several times), replaced and revoked; a
// reader finds every record added before it started, never a wrong
// one. Run with -race.
func TestStaticConcurrent(t *testing.T) {
	h, _ := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	var recs []Record
	for range 600 {
		_, r, err := Generate(h, Spec{})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	st, err := NewStatic(recs[:100]...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan string, 4)
	for w := range 4 {
		go func() {
			for i := w; ; i++ {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				r := recs[i%100] // present from the start
				st.Prefetch(r.ID)
				if e, _ := st.Lookup(ctx, r.ID); e == nil || e.ID() != r.ID {
					errs <- "lost " + r.ID
					return
				}
				st.Prefetch(recs[100+i%500].ID) // may be absent
			}
		}()
	}
	for i, r := range recs[100:] {
		if err := st.Put(r); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			st.Revoke(recs[i%100].ID, time.Now())
		}
	}
	close(done)
	for range 4 {
		if msg := <-errs; msg != "" {
			t.Fatal(msg)
		}
	}
	for _, r := range recs {
		if e, _ := st.Lookup(ctx, r.ID); e == nil || e.ID() != r.ID {
			t.Fatalf("Lookup(%s) = %v after the writes", r.ID, e)
		}
	}
}
