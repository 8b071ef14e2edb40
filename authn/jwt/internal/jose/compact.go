// Package jose is package jwt's JOSE parsing: the compact serialization
// and base64url checks, the strict header parser and the reflection-free
// claims decoder. It reads bytes into values and refuses what is
// malformed or never acceptable (alg none, crit, jku, x5u, jwk, b64, enc,
// zip); what a verifier configures — its algorithm allowlist aside — is
// package jwt's: keys, signatures, the claims' values, typing.
//
// Everything here runs on unauthenticated input, before or right after
// the signature check, so every function bounds its work by the input's
// length and a nesting depth, and none allocates more than the values it
// returns.
package jose

import (
	"encoding/base64"
	"unsafe"
)

// b64Alphabet marks the bytes of the unpadded base64url alphabet
// (RFC 4648 §5): the only bytes, with '.', a compact JWS may contain.
var b64Alphabet = func() (t [256]byte) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = 1
	}
	return t
}()

// b64 decoding refuses padding and non-zero trailing bits (a canonical
// encoding only); the alphabet check above refuses the CR/LF the decoder
// would otherwise skip.
var b64Strict = base64.RawURLEncoding.Strict()

var (
	errEmpty    = Refuse(ErrMalformed, ReasonMalformed, "empty header or token")
	errSegments = Refuse(ErrMalformed, ReasonMalformed, "a compact JWS has exactly three segments")
	errCharset  = Refuse(ErrMalformed, ReasonMalformed, "a byte outside the base64url alphabet")
	errTooLarge = Refuse(ErrTooLarge, ReasonTooLarge, "longer than the maximum token size")
	// An unsecured JWS (alg "none") has an empty signature: refused as
	// an algorithm, whatever its header says.
	errUnsigned = Refuse(ErrAlgorithm, ReasonAlgorithm, "empty signature (unsecured JWS)")
)

// Base64URL reports whether every byte of s is in the unpadded base64url
// alphabet (no padding, no whitespace, no standard-alphabet + or /).
func Base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if b64Alphabet[s[i]] == 0 {
			return false
		}
	}
	return true
}

// Split splits a compact JWS into its encoded header, payload and
// signature after checking, in one pass and before any decoding, its
// size, its alphabet and that it has exactly three segments, the first
// and last non-empty. A 1 MB token or one made of dots costs at most
// maxSize byte comparisons.
func Split(token string, maxSize int) (header, payload, sig string, err error) {
	if len(token) == 0 {
		return "", "", "", errEmpty
	}
	if len(token) > maxSize {
		return "", "", "", errTooLarge
	}
	d1, d2 := -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return "", "", "", errSegments
			}
			continue
		}
		if b64Alphabet[c] == 0 {
			return "", "", "", errCharset
		}
	}
	if d2 < 0 {
		return "", "", "", errSegments
	}
	header, payload, sig = token[:d1], token[d1+1:d2], token[d2+1:]
	if len(header) == 0 {
		return "", "", "", errEmpty
	}
	if len(sig) == 0 {
		return "", "", "", errUnsigned
	}
	return header, payload, sig, nil
}

var errEncoding = Refuse(ErrMalformed, ReasonMalformed, "not canonical unpadded base64url")

// DecodeSegment decodes a canonical base64url segment into dst (grown if
// too small) and returns the bytes.
func DecodeSegment(dst []byte, seg string) ([]byte, error) {
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	// read-only view of the string: the decoder does not retain it
	src := unsafe.Slice(unsafe.StringData(seg), len(seg))
	m, err := b64Strict.Decode(dst, src)
	if err != nil {
		return nil, errEncoding
	}
	return dst[:m], nil
}
