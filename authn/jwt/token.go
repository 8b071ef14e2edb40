package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"unsafe"
)

// Limits applied before and during parsing.
const (
	// DefaultMaxTokenSize is the default bound on a token's length.
	DefaultMaxTokenSize = 8 << 10
	// DefaultMaxClaimsDepth is the default bound on JSON nesting in the
	// header and claims.
	DefaultMaxClaimsDepth = 16
	// maxKidLen bounds a kid (it ends up in lookups and logs).
	maxKidLen = 256
	// maxIDLen bounds jti and sid (they end up in store keys).
	maxIDLen = 256
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

// segments splits a compact JWS after checking, in one pass and before any
// decoding, its size, its alphabet and that it has exactly three segments.
// A 1 MB token or one made of dots costs at most maxSize byte comparisons.
func segments(token string, maxSize int) (h, p, s string, err error) {
	if len(token) == 0 {
		return "", "", "", errMalformed
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
	h, p, s = token[:d1], token[d1+1:d2], token[d2+1:]
	if len(h) == 0 {
		return "", "", "", errMalformed
	}
	if len(s) == 0 {
		return "", "", "", errUnsigned
	}
	return h, p, s, nil
}

// decodeSegment decodes a canonical base64url segment into dst (grown if
// too small) and returns the bytes.
func decodeSegment(dst []byte, seg string) ([]byte, error) {
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

// Header is the JOSE header of a verified JWS, as VerifyJWS returns it.
type Header struct {
	Alg string // the algorithm (always one of the allowed ones)
	Kid string // the key ID, "" when absent
	Typ string // the media type, "" when absent
	Cty string // the content type, "" when absent
}

// header members the scanner recognises; each may appear once.
const (
	hAlg uint32 = 1 << iota
	hKid
	hTyp
	hCty
	hCrit
	hJku
	hX5u
	hJwk
	hX5c
	hX5t
	hX5tS256
	hB64
	hEnc
	hZip
)

var headerNames = map[string]uint32{
	"alg": hAlg, "kid": hKid, "typ": hTyp, "cty": hCty, "crit": hCrit,
	"jku": hJku, "x5u": hX5u, "jwk": hJwk, "x5c": hX5c, "x5t": hX5t, "x5t#S256": hX5tS256,
	"b64": hB64, "enc": hEnc, "zip": hZip,
}

// rawHeader holds the recognised string members as slices of the decoded
// header (no copies) and which members were present.
type rawHeader struct {
	alg, kid, typ, cty []byte
	seen               uint32
}

// parseHeader reads a JOSE header. The caller has checked it is valid
// UTF-8; parseHeader checks it is valid JSON, an object, nested no deeper
// than maxDepth, and that no recognised member is repeated (RFC 7515 §4
// allows refusing duplicates; we do, so that no two parsers can read one
// header two ways). Member names are compared exactly: JOSE names are
// case-sensitive, unlike encoding/json's struct matching.
func parseHeader(h []byte, maxDepth int) (rawHeader, error) {
	var out rawHeader
	if !json.Valid(h) {
		return out, errHeaderJSON
	}
	i := skipWS(h, 0)
	if i >= len(h) || h[i] != '{' {
		return out, errHeaderJSON
	}
	i = skipWS(h, i+1)
	if i < len(h) && h[i] == '}' {
		return out, nil
	}
	for i < len(h) {
		if h[i] != '"' {
			return out, errHeaderJSON
		}
		keyStart := i
		key, next, escaped := scanString(h, i)
		if next < 0 {
			return out, errHeaderJSON
		}
		var name string
		if escaped {
			var err error
			if name, err = unescapeString(h[keyStart:next]); err != nil {
				return out, errHeaderJSON
			}
		}
		i = skipWS(h, next)
		if i >= len(h) || h[i] != ':' {
			return out, errHeaderJSON
		}
		i = skipWS(h, i+1)
		valStart := i
		i = skipValue(h, i, 1, maxDepth)
		if i < 0 {
			return out, errTooDeep
		}
		val := h[valStart:i]
		var bit uint32
		if escaped {
			bit = headerNames[name]
		} else {
			bit = headerNames[string(key)] // no allocation for map lookups
		}
		if bit != 0 {
			if out.seen&bit != 0 {
				return out, errDuplicateHeader
			}
			out.seen |= bit
			switch bit {
			case hAlg, hKid, hTyp, hCty:
				s, err := stringValue(val)
				if err != nil {
					return out, err
				}
				switch bit {
				case hAlg:
					out.alg = s
				case hKid:
					out.kid = s
				case hTyp:
					out.typ = s
				case hCty:
					out.cty = s
				}
			}
		}
		i = skipWS(h, i)
		if i >= len(h) {
			return out, errHeaderJSON
		}
		if h[i] == '}' {
			return out, nil
		}
		if h[i] != ',' {
			return out, errHeaderJSON
		}
		i = skipWS(h, i+1)
	}
	return out, errHeaderJSON
}

// stringValue returns the content of a JSON string value, unescaping only
// when it holds escapes.
func stringValue(val []byte) ([]byte, error) {
	if len(val) < 2 || val[0] != '"' {
		return nil, errHeaderType
	}
	inner := val[1 : len(val)-1]
	for _, c := range inner {
		if c == '\\' {
			s, err := unescapeString(val)
			if err != nil {
				return nil, errHeaderJSON
			}
			return []byte(s), nil
		}
	}
	return inner, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the string starting at b[i] == '"' and returns its raw
// content, the index after the closing quote (-1 if unterminated) and
// whether it holds escapes.
func scanString(b []byte, i int) (raw []byte, next int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return b[i+1 : j], j + 1, escaped
		}
	}
	return nil, -1, escaped
}

// skipValue returns the index after the (valid) JSON value at b[i], or -1
// when it nests deeper than maxDepth (depth counts the enclosing object).
func skipValue(b []byte, i, depth, maxDepth int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		_, next, _ := scanString(b, i)
		if next < 0 {
			return len(b)
		}
		return next
	case '{', '[':
		d := depth + 1
		if d > maxDepth {
			return -1
		}
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, next, _ := scanString(b, j)
				if next < 0 {
					return len(b)
				}
				j = next - 1
			case '{', '[':
				d++
				if d > maxDepth {
					return -1
				}
			case '}', ']':
				d--
				if d == depth {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// depthOK reports whether the JSON text b nests objects and arrays no
// deeper than maxDepth. It runs before decoding, so that a payload of
// 4,000 brackets costs one pass over its bytes and no allocation.
func depthOK(b []byte, maxDepth int) bool {
	d := 0
	for j := 0; j < len(b); j++ {
		switch b[j] {
		case '"':
			_, next, _ := scanString(b, j)
			if next < 0 {
				return true // malformed: the decoder will refuse it
			}
			j = next - 1
		case '{', '[':
			d++
			if d > maxDepth {
				return false
			}
		case '}', ']':
			d--
		}
	}
	return true
}

// Errors kept in problems (Err) for the audit log; the client sees a
// generic detail. Test with errors.Is.
var (
	// ErrMalformed: not a compact JWS (segments, alphabet, encoding, JSON).
	ErrMalformed = errors.New("jwt: malformed token")
	// ErrTooLarge: longer than MaxTokenSize.
	ErrTooLarge = errors.New("jwt: token too large")
	// ErrAlgorithm: alg none, not allowed, or not the key's algorithm.
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")
	// ErrUnknownKey: no configured key matches the token's kid and alg.
	ErrUnknownKey = errors.New("jwt: unknown key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwt: invalid signature")
	// ErrHeader: a header member Bulwark refuses (crit, jku, x5u, jwk,
	// b64, enc, zip, a nested JWT) or a wrong typ.
	ErrHeader = errors.New("jwt: refused header")
	// ErrClaims: a claim is missing, of the wrong type, or does not match
	// (iss, aud, token type).
	ErrClaims = errors.New("jwt: invalid claims")
	// ErrExpired: exp has passed (beyond the leeway).
	ErrExpired = errors.New("jwt: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("jwt: token not valid yet")
	// ErrRevoked: the token or its session was revoked.
	ErrRevoked = errors.New("jwt: token revoked")
	// ErrRefreshReused: a refresh token was presented a second time.
	ErrRefreshReused = errors.New("jwt: refresh token reused")
)

type detailErr struct {
	base error
	msg  string
}

func (e *detailErr) Error() string { return e.base.Error() + ": " + e.msg }
func (e *detailErr) Unwrap() error { return e.base }

func wrapErr(base error, msg string) error { return &detailErr{base: base, msg: msg} }

var (
	errMalformed       = wrapErr(ErrMalformed, "empty header or token")
	errTooLarge        = ErrTooLarge
	errSegments        = wrapErr(ErrMalformed, "a compact JWS has exactly three segments")
	errCharset         = wrapErr(ErrMalformed, "a byte outside the base64url alphabet")
	errUnsigned        = wrapErr(ErrAlgorithm, "empty signature (unsecured JWS)")
	errEncoding        = wrapErr(ErrMalformed, "not canonical unpadded base64url")
	errHeaderJSON      = wrapErr(ErrMalformed, "the header is not a JSON object")
	errHeaderType      = wrapErr(ErrMalformed, "a header member has the wrong type")
	errDuplicateHeader = wrapErr(ErrMalformed, "a header member appears twice")
	errTooDeep         = wrapErr(ErrMalformed, "JSON nested too deeply")
	errUTF8            = wrapErr(ErrMalformed, "not valid UTF-8")
	errClaimsJSON      = wrapErr(ErrMalformed, "the claims are not a JSON object")
	errAlgNone         = wrapErr(ErrAlgorithm, `alg "none"`)
	errAlgMissing      = wrapErr(ErrAlgorithm, "no alg")
	errAlgNotAllowed   = wrapErr(ErrAlgorithm, "alg not in the allowlist")
	errCrit            = wrapErr(ErrHeader, "crit names extensions we do not understand")
	errKeyURL          = wrapErr(ErrHeader, "jku, x5u and jwk are never followed or trusted")
	errB64             = wrapErr(ErrHeader, "b64 (RFC 7797) is not supported")
	errJWE             = wrapErr(ErrHeader, "enc or zip: not a JWS")
	errNested          = wrapErr(ErrHeader, "nested JWTs (cty JWT) are not supported")
	errTyp             = wrapErr(ErrHeader, "typ does not match")
	errKidTooLong      = wrapErr(ErrMalformed, "kid too long")
	errNoKey           = wrapErr(ErrUnknownKey, "no key for this kid and alg")
	errTooManyKeys     = wrapErr(ErrUnknownKey, "the token names no kid and several keys share its alg")
)
