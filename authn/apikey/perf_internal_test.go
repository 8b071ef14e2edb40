package apikey

import (
	"context"
	"hash/crc32"
	"math/rand/v2"
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
