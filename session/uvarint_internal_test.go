package session

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// slowUvarint is the byte-at-a-time decoding the word-at-a-time path
// must agree with: minimal encodings of up to 10 bytes.
func slowUvarint(s string) (x uint64, rest string, ok bool) {
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if (i == binary.MaxVarintLen64-1 && c > 1) || (i > 0 && c == 0) {
				return 0, "", false
			}
			return x | uint64(c)<<shift, s[i+1:], true
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, "", false
}

// TestUvarintWordAtATime: the decoder agrees with the byte loop on
// encodings of every length (with bytes after them), non-minimal ones,
// overlong ones and random bytes.
func TestUvarintWordAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var inputs []string
	for range 20000 {
		v := rng.Uint64() >> rng.IntN(64)
		b := binary.AppendUvarint(nil, v)
		for range rng.IntN(12) {
			b = append(b, byte(rng.Uint32()))
		}
		inputs = append(inputs, string(b))
		// A non-minimal spelling: an extra 0x80 ... 0x00 group.
		nb := binary.AppendUvarint(nil, v)
		nb[len(nb)-1] |= 0x80
		nb = append(nb, 0)
		inputs = append(inputs, string(nb)+"xxxxxxxxxx")
		// Random bytes, mostly continuation bytes.
		r := make([]byte, rng.IntN(16))
		for i := range r {
			r[i] = byte(rng.Uint32())
			if rng.IntN(4) > 0 {
				r[i] |= 0x80
			}
		}
		inputs = append(inputs, string(r))
	}
	inputs = append(inputs, "\x80\x80\x80\x80\x80\x80\x80\x80\x00", "\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00",
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", "\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	for _, in := range inputs {
		wx, wrest, wok := slowUvarint(in)
		d := decoder{s: in}
		x := d.uvarint()
		if x != wx || d.rest() != wrest || d.err == wok {
			t.Fatalf("uvarint(%x) = %d, rest %x, err %v; want %d, %x, ok %v", in, x, d.rest(), d.err, wx, wrest, wok)
		}
	}
}
