package apikey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"unsafe"
)

// DefaultPrefix is the prefix of the keys Bulwark generates when none is
// configured: "bwk_" (Bulwark) and the environment, "live_". Use another,
// such as "bwk_test_", for keys that must not work in production.
const DefaultPrefix = "bwk_live_"

// Lengths of the parts of a key in Bulwark's format, after the prefix:
// IDLen base62 characters of identifier (83 random bits: unique, not
// secret), an underscore, SecretLen base62 characters of secret (about
// 143 bits from crypto/rand), then ChecksumLen base62 characters of
// CRC-32. With a prefix of up to 10 bytes a key is at most 55 bytes, so
// that its HMAC-SHA-256 takes two SHA-256 blocks, not three.
const (
	IDLen       = 14
	SecretLen   = 24
	ChecksumLen = 6
	bodyLen     = IDLen + 1 + SecretLen + ChecksumLen
)

// MaxKeyLen is the longest credential the authenticator reads; a longer
// value is refused (apikey_too_long) before it is hashed. It also bounds
// legacy keys.
const MaxKeyLen = 256

// MaxPrefixLen bounds a configured prefix.
const MaxPrefixLen = 32

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors a key's parse reports (errors.Is). The authenticator turns them
// into 401 refusals with the reasons listed in the package documentation.
var (
	// ErrTooLong: longer than MaxKeyLen.
	ErrTooLong = errors.New("apikey: key too long")
	// ErrMalformed: a byte outside printable ASCII (a control byte, a
	// space, non-UTF-8 or non-ASCII text), or a key with a known prefix
	// whose parts have the wrong length or alphabet.
	ErrMalformed = errors.New("apikey: malformed key")
	// ErrChecksum: a key in Bulwark's format whose checksum does not
	// match — a typo, a truncation or a made-up key, refused without a
	// store lookup.
	ErrChecksum = errors.New("apikey: checksum mismatch")
	// ErrNotFormatted: a key without a configured prefix (a legacy key,
	// accepted only with Options.Legacy).
	ErrNotFormatted = errors.New("apikey: not a key in Bulwark's format")
)

// Parsed is a key split into its parts. The strings share the key's
// memory.
type Parsed struct {
	Prefix string // the configured prefix the key starts with; "" for a legacy key
	ID     string // the lookup identifier (not secret); "" for a legacy key
	Key    string // the whole key, as hashed
}

// Parse checks key against the format: prefix (one of prefixes),
// identifier, "_", secret, checksum. It reports ErrTooLong, ErrMalformed
// or ErrChecksum for a bad key and ErrNotFormatted, with Parsed.Key set,
// for a well-formed token that has none of prefixes. It allocates
// nothing.
func Parse(key string, prefixes []string) (Parsed, error) {
	return parse(key, prefixes, nil)
}

// parse is Parse; sums, when not nil, holds prefixSum of each of
// prefixes (the Authenticator computes them once), which saves the CRC
// of the prefix.
func parse(key string, prefixes []string, sums []uint32) (Parsed, error) {
	if len(key) > MaxKeyLen {
		return Parsed{}, ErrTooLong
	}
	if key == "" {
		return Parsed{}, ErrMalformed
	}
	if !printable(key) {
		return Parsed{}, ErrMalformed
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(key, p) {
			continue
		}
		body := key[len(p):]
		if len(body) != bodyLen || body[IDLen] != '_' ||
			!isBase62(body[:IDLen]) || !isBase62(body[IDLen+1:]) {
			return Parsed{}, ErrMalformed
		}
		var base uint32
		if sums != nil {
			base = sums[i]
		} else {
			base = prefixSum(p)
		}
		if !sumMatches(base, body[:headLen], body[headLen:]) {
			return Parsed{}, ErrChecksum
		}
		return Parsed{Prefix: p, ID: body[:IDLen], Key: key}, nil
	}
	return Parsed{Key: key}, ErrNotFormatted
}

// printable reports whether every byte of s is printable ASCII other
// than space (0x21 to 0x7e), 8 bytes at a time: for a word w,
// (w - 0x21…) &^ w has a high bit set iff a byte is below 0x21 (exact as
// a whole; a borrow only follows such a byte), and (w + 0x01…) | w iff a
// byte is 0x7f or above.
func printable(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e {
				return false
			}
		}
		return true
	}
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var bad uint64
	for i := 0; i+8 <= len(s); i += 8 {
		w := le64(s[i:])
		bad |= (w-0x21*ones)&^w | (w + ones) | w
	}
	w := le64(s[len(s)-8:]) // the tail, overlapping the last word
	bad |= (w-0x21*ones)&^w | (w + ones) | w
	return bad&highs == 0
}

// isBase62Byte marks the bytes of the base62 alphabet.
var isBase62Byte = func() (t [256]bool) {
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = true
	}
	return t
}()

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase62Byte[s[i]] {
			return false
		}
	}
	return true
}

// headLen is the length of the checksummed part of a key after its
// prefix: identifier, "_", secret.
const headLen = IDLen + 1 + SecretLen

// crc computes the IEEE CRC-32 of s without copying it.
func crc(s string) uint32 {
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// The checksum of a key is the CRC-32 (IEEE) of everything before it:
// prefix and head. Verification does not run the CRC over those bytes:
// a CRC is affine over GF(2), so for a head of the fixed length headLen,
//
//	crc(prefix + head) = prefixSum(prefix) ^ headTab[0][head[0]] ^ … ^ headTab[headLen-1][head[headLen-1]]
//
// where prefixSum(prefix) = crc(prefix + headLen zero bytes) and
// headTab[i][c] = crc(zeros with c at i) ^ crc(zeros): the contribution
// of byte c at position i, independent of the prefix. The lookups are
// independent of each other (no dependency chain, unlike a table-driven
// CRC), and the table covers the printable ASCII a parsed key is made
// of: 39 × 128 entries, 20 KB. TestChecksumTable checks it against
// hash/crc32 for random heads.
var headTab = func() *[headLen][128]uint32 {
	t := new([headLen][128]uint32)
	var zeros, msg [headLen]byte
	z := crc32.ChecksumIEEE(zeros[:])
	for i := range headLen {
		for c := range 128 {
			msg[i] = byte(c)
			t[i][c] = crc32.ChecksumIEEE(msg[:]) ^ z
		}
		msg[i] = 0
	}
	return t
}()

// prefixSum returns crc(prefix + headLen zero bytes): see headTab.
func prefixSum(prefix string) uint32 {
	var zeros [headLen]byte
	return crc32.Update(crc(prefix), crc32.IEEETable, zeros[:])
}

// headSum returns the CRC-32 of a prefix and head (headLen bytes below
// 128), given prefixSum of the prefix. It reads the head 8 bytes at a
// time (one load each) and looks up every byte's contribution.
func headSum(base uint32, head string) uint32 {
	head = head[:headLen]
	v := base
	i := 0
	for ; i+8 <= headLen; i += 8 {
		w := le64(head[i:])
		t := (*[8][128]uint32)(headTab[i : i+8])
		v ^= t[0][w&0x7f] ^ t[1][w>>8&0x7f] ^ t[2][w>>16&0x7f] ^ t[3][w>>24&0x7f] ^
			t[4][w>>32&0x7f] ^ t[5][w>>40&0x7f] ^ t[6][w>>48&0x7f] ^ t[7][w>>56&0x7f]
	}
	for ; i < headLen; i++ {
		v ^= headTab[i][head[i]&0x7f]
	}
	return v
}

// le64 reads the first 8 bytes of s, little-endian (one load).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// encodeSum writes the CRC v in ChecksumLen base62 digits, most
// significant first (62^6 > 2^32).
func encodeSum(v uint32) [ChecksumLen]byte {
	var out [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return out
}

// checksum is the checksum of s (a prefix and a head, or anything, for
// legacy callers) in ChecksumLen base62 digits.
func checksum(s string) [ChecksumLen]byte { return encodeSum(crc(s)) }

// sumMatches reports whether sum (ChecksumLen base62 digits, as parse
// checked) is the checksum of a prefix (whose prefixSum is base) followed
// by head. It decodes sum rather than encode the CRC: the digits'
// products are independent, where encoding is a chain of divisions, and
// the encoding is a bijection from [0, 62^6) to the digit strings, so
// the two comparisons agree.
func sumMatches(base uint32, head, sum string) bool {
	sum = sum[:ChecksumLen]
	got := uint64(base62Val[sum[0]])*(62*62*62*62*62) + uint64(base62Val[sum[1]])*(62*62*62*62) +
		uint64(base62Val[sum[2]])*(62*62*62) + uint64(base62Val[sum[3]])*(62*62) +
		uint64(base62Val[sum[4]])*62 + uint64(base62Val[sum[5]])
	return got == uint64(headSum(base, head))
}

// base62Val is the value of each base62 digit (0 for other bytes, which
// parse refuses before it looks).
var base62Val = func() (t [256]uint8) {
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = uint8(i)
	}
	return t
}()

// randBase62 returns n base62 characters drawn uniformly from crypto/rand
// (rejection sampling: bytes of 248 and above are redrawn).
func randBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("apikey: reading crypto/rand: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// newKey returns a fresh key with prefix, and its identifier.
func newKey(prefix string) (key, id string, err error) {
	if id, err = randBase62(IDLen); err != nil {
		return "", "", err
	}
	secret, err := randBase62(SecretLen)
	if err != nil {
		return "", "", err
	}
	head := prefix + id + "_" + secret
	sum := checksum(head)
	return head + string(sum[:]), id, nil
}

// ValidatePrefix checks a configured prefix: lower-case letters and
// digits, starting with a letter, ending with "_", at most MaxPrefixLen
// bytes (e.g. "bwk_live_", "acme_test_"). A distinctive prefix is what
// lets secret scanners find leaked keys.
func ValidatePrefix(p string) error {
	ok := len(p) >= 2 && len(p) <= MaxPrefixLen && p[len(p)-1] == '_' && 'a' <= p[0] && p[0] <= 'z'
	for i := 0; ok && i < len(p); i++ {
		c := p[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
	}
	if !ok {
		return fmt.Errorf("apikey: invalid prefix %q: use lower-case letters, digits and underscores, starting with a letter and ending with \"_\", at most %d bytes (e.g. %q)", p, MaxPrefixLen, DefaultPrefix)
	}
	return nil
}
