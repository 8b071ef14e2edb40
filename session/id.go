package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// IDLen is the length of a session ID in its cookie: 32 random bytes
// (256 bits) from crypto/rand, base64url without padding.
const IDLen = 43

// refLen is the length of a session's reference, the name the store
// knows it by: the first 24 bytes (192 bits) of SHA-256 of the ID's 32
// bytes, base64url. The store never sees an ID: reading its keys (a
// dump, MONITOR, the slowlog, keyspace notifications) yields no cookie.
// An unkeyed hash suffices because the ID is 256 random bits: there is
// nothing to guess, so a key would add nothing, and 192 bits leave a
// preimage out of reach and a collision among live sessions negligible.
const refLen = 32

// newID returns a new session ID (the cookie's value) and its reference.
func newID() (id, ref string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	var r [refLen]byte
	refOf(&r, &b)
	return base64.RawURLEncoding.EncodeToString(b[:]), string(r[:])
}

// refOf writes the reference of the ID whose bytes are id into dst.
func refOf(dst *[refLen]byte, id *[32]byte) {
	sum := sha256.Sum256(id[:])
	base64.RawURLEncoding.Encode(dst[:], sum[:refLen*3/4])
}

// parseID decodes a cookie value into the ID's bytes: exactly IDLen
// base64url characters, the last one's two spare bits zero (one spelling
// per ID). It works on the stack: no allocation.
func parseID(dst *[32]byte, v string) bool {
	if len(v) != IDLen {
		return false
	}
	// Four characters make three bytes, with no chain from one group to
	// the next; an invalid character's 0xff shows in bad's high bit.
	var bad byte
	for g := range 10 {
		a, b, c, d := b64Value[v[4*g]], b64Value[v[4*g+1]], b64Value[v[4*g+2]], b64Value[v[4*g+3]]
		bad |= a | b | c | d
		x := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[3*g], dst[3*g+1], dst[3*g+2] = byte(x>>16), byte(x>>8), byte(x)
	}
	a, b, c := b64Value[v[40]], b64Value[v[41]], b64Value[v[42]]
	bad |= a | b | c
	x := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
	dst[30], dst[31] = byte(x>>10), byte(x>>2)
	return bad&0x80 == 0 && x&3 == 0 // 43×6 = 258 bits: 2 spare, zero
}

// b64Value maps a base64url character to its value, anything else to
// 0xff.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

func newBinding() string {
	var b [bindingLen]byte
	_, _ = rand.Read(b[:])
	return string(b[:])
}
