package session

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"time"
	"unsafe"
)

// recordFormat is the first byte of every encoded record; a record of
// another format is treated as no session.
const recordFormat = 1

// bindingLen is the length of a session's CSRF binding secret.
const bindingLen = 32

// record is what a session stores: server-side under its ID, or sealed in
// the cookie. Times are Unix nanoseconds.
type record struct {
	version    uint64 // incremented by every write
	created    int64  // when this ID (or cookie) was issued
	touched    int64  // the last activity written (idle timeout base)
	authAt     int64  // when the user logged in; 0 for an anonymous session
	deadline   int64  // the absolute timeout
	persistent bool   // a "remember me" session: persistent cookie
	binding    string // bindingLen random bytes; see Session.CSRFBinding
	subject    string
	roles      []string
	scopes     []string
	data       []field

	// A loaded record is decoded lazily: tail is the encoding of roles,
	// scopes and data (validated, not yet decoded, those three fields
	// empty) and dataEnc the part of it that encodes data, which Get
	// reads in place. materialize decodes them; tail is then "".
	tail, dataEnc string
}

// field is one typed value: val's first byte names its kind.
type field struct{ name, val string }

var errCorrupt = errors.New("session: malformed record")

// appendRecord appends rec's encoding to b.
func appendRecord(b []byte, rec *record) []byte {
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, rec.version)
	b = binary.AppendVarint(b, rec.created)
	b = binary.AppendVarint(b, rec.touched)
	b = binary.AppendVarint(b, rec.authAt)
	b = binary.AppendVarint(b, rec.deadline)
	var flags byte
	if rec.persistent {
		flags |= 1
	}
	b = append(b, flags)
	b = appendString(b, rec.binding)
	b = appendString(b, rec.subject)
	if rec.tail != "" {
		return append(b, rec.tail...) // not decoded: as it was read
	}
	b = appendStrings(b, rec.roles)
	b = appendStrings(b, rec.scopes)
	b = binary.AppendUvarint(b, uint64(len(rec.data)))
	for _, f := range rec.data {
		b = appendString(b, f.name)
		b = appendString(b, f.val)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// decoder reads a record from one string: every string of the record is
// a substring of it, so decoding allocates the string once, and the
// slices of roles, scopes and fields. It advances an offset, not the
// string: a decoder's fields then hold no pointer that changes, so
// decoding needs no write barrier when the garbage collector runs.
type decoder struct {
	s   string
	i   int // the offset of the rest
	err bool
}

// rest returns what is left to decode.
func (d *decoder) rest() string { return d.s[d.i:] }

// fail marks the input malformed; nothing is left.
func (d *decoder) fail() { d.err, d.i = true, len(d.s) }

// uvarint reads an unsigned varint: the one-byte case (lengths, counts)
// at once, longer ones in uvarintLong.
func (d *decoder) uvarint() uint64 {
	if d.i < len(d.s) {
		if c := d.s[d.i]; c < 0x80 {
			d.i++
			return uint64(c)
		}
	}
	return d.uvarintLong()
}

func (d *decoder) uvarintLong() uint64 {
	r := d.s[d.i:]
	if len(r) >= 9 {
		// Word at a time: the terminating byte is the first without its
		// high bit; the 7-bit groups before it are packed together by
		// three mask-and-shift steps. Varints of 1 to 9 bytes (the
		// record's times are 9) take this path; others, and every error,
		// the loop below.
		w := le64(r)
		if stop := ^w & 0x8080808080808080; stop != 0 {
			n := bits.TrailingZeros64(stop)/8 + 1  // bytes, 1 to 8
			if n == 1 || byte(w>>(8*(n-1))) != 0 { // minimal
				d.i += n
				return pack7(w & (1<<(8*n) - 1))
			}
		} else if c := r[8]; c < 0x80 && c != 0 {
			d.i += 9
			return pack7(w) | uint64(c)<<56
		}
	}
	var x uint64
	var shift uint
	for i := 0; i < len(r) && i < binary.MaxVarintLen64; i++ {
		c := r[i]
		if c < 0x80 {
			if (i == binary.MaxVarintLen64-1 && c > 1) || (i > 0 && c == 0) {
				break // overflow, or a non-minimal encoding: one encoding per record
			}
			d.i += i + 1
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail()
	return 0
}

// pack7 packs the low 7 bits of each of w's 8 bytes, least significant
// first, into 56 bits.
func pack7(w uint64) uint64 {
	w &= 0x7f7f7f7f7f7f7f7f
	w = w&0x007f007f007f007f | w&0x7f007f007f007f00>>1
	w = w&0x00003fff00003fff | w&0x3fff00003fff0000>>2
	return w&0x000000000fffffff | w&0x0fffffff00000000>>4
}

// le64 reads the first 8 bytes of s, little-endian (one load).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) byte() byte {
	if d.i >= len(d.s) {
		d.fail()
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return ""
	}
	v := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return v
}

// count reads a number of items, each at least min bytes long.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64((len(d.s)-d.i)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

// skipStrings steps over a list of strings.
func (d *decoder) skipStrings() {
	for n := d.count(1); n > 0 && !d.err; n-- {
		d.string()
	}
}

// decodeRecord decodes b, which it keeps: the record's strings share b's
// memory (no copy), so b must never change afterwards — it is the value
// the store returned (a copy of its own; memstore and redisstore both
// return fresh bytes), the Session's own buffer a store.Appender filled,
// or a cookie's freshly opened plaintext. Roles,
// scopes and data are validated here and decoded on demand
// (materialize), so a request that reads the subject and a value
// allocates nothing here.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return record{}, errCorrupt
	}
	d := decoder{s: unsafe.String(&b[0], len(b))[1:]}
	var rec record
	rec.version = d.uvarint()
	rec.created = d.varint()
	rec.touched = d.varint()
	rec.authAt = d.varint()
	rec.deadline = d.varint()
	flags := d.byte()
	rec.persistent = flags&1 != 0
	rec.binding = d.string()
	rec.subject = d.string()
	rec.tail = d.rest()
	d.skipStrings() // roles
	d.skipStrings() // scopes
	rec.dataEnc = d.rest()
	for n := d.count(2); n > 0 && !d.err; n-- {
		d.string()
		d.string()
	}
	if d.err || d.rest() != "" || flags > 1 || len(rec.binding) != bindingLen || rec.deadline <= 0 {
		return record{}, errCorrupt
	}
	return rec, nil
}

// materialize decodes the roles, scopes and data of a loaded record.
func (rec *record) materialize() {
	if rec.tail == "" {
		return
	}
	d := decoder{s: rec.tail}
	rec.roles = d.strings()
	rec.scopes = d.strings()
	if n := d.count(2); n > 0 {
		rec.data = make([]field, n)
		for i := range rec.data {
			rec.data[i] = field{d.string(), d.string()}
		}
	}
	rec.tail, rec.dataEnc = "", ""
}

// value returns the encoded value stored under name.
func (rec *record) value(name string) (string, bool) {
	if rec.tail == "" {
		for _, f := range rec.data {
			if f.name == name {
				return f.val, true
			}
		}
		return "", false
	}
	d := decoder{s: rec.dataEnc}
	for n := d.count(2); n > 0; n-- {
		k, v := d.string(), d.string()
		if k == name {
			return v, true
		}
	}
	return "", false
}

// Value is the set of types a session stores: Get and Set accept them.
// Anything else can be stored as JSON in a []byte or string.
type Value interface {
	string | []byte | bool | int | int64 | float64 | time.Time
}

// Kinds of values, the first byte of a field's encoding.
const (
	kindString = 's'
	kindBytes  = 'y'
	kindBool   = 'b'
	kindInt    = 'i' // int and int64 share it: Get[int] reads a Set int64
	kindFloat  = 'f'
	kindTime   = 't'
)

// encodeValue encodes v with its kind.
func encodeValue[T Value](v T) string {
	var b []byte
	switch x := any(v).(type) {
	case string:
		return string(kindString) + x
	case []byte:
		return string(kindBytes) + string(x)
	case bool:
		if x {
			return "b1"
		}
		return "b0"
	case int:
		b = binary.AppendVarint([]byte{kindInt}, int64(x))
	case int64:
		b = binary.AppendVarint([]byte{kindInt}, x)
	case float64:
		b = binary.BigEndian.AppendUint64([]byte{kindFloat}, math.Float64bits(x))
	case time.Time:
		b = binary.AppendVarint([]byte{kindTime}, x.UnixNano())
	}
	return string(b)
}

// decodeValue decodes s as a T; ok is false when s holds another kind.
func decodeValue[T Value](s string) (v T, ok bool) {
	if s == "" {
		return v, false
	}
	k, body := s[0], s[1:]
	var r any
	switch any(v).(type) {
	case string:
		if k != kindString {
			return v, false
		}
		r = body
	case []byte:
		if k != kindBytes {
			return v, false
		}
		r = []byte(body)
	case bool:
		if k != kindBool || len(body) != 1 {
			return v, false
		}
		r = body == "1"
	case int, int64:
		d := decoder{s: body}
		n := d.varint()
		if k != kindInt || d.err || d.rest() != "" {
			return v, false
		}
		if _, isInt := any(v).(int); isInt {
			if int64(int(n)) != n {
				return v, false
			}
			r = int(n)
		} else {
			r = n
		}
	case float64:
		if k != kindFloat || len(body) != 8 {
			return v, false
		}
		r = math.Float64frombits(binary.BigEndian.Uint64([]byte(body)))
	case time.Time:
		d := decoder{s: body}
		n := d.varint()
		if k != kindTime || d.err || d.rest() != "" {
			return v, false
		}
		r = time.Unix(0, n)
	}
	return r.(T), true
}
