package jose

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// DecodeClaims decodes a JWT claims set: valid UTF-8, nested no deeper
// than maxDepth, one JSON object with nothing after it, and no member
// name twice in any object, at any depth (names compared after
// unescaping, exactly: "exp" and "\u0065xp" are one name, "exp" and "EXP"
// two). The result has the semantics of encoding/json's Unmarshal into
// map[string]any (strings, float64 numbers, bool, nil, []any,
// map[string]any) without reflection: claims are decoded on every
// uncached verification, and reflection is most of encoding/json's cost
// there.
//
// Duplicates are refused (RFC 7519 §4 allows refusing them or keeping the
// last) for the reason ParseHeader refuses duplicate header members: two
// parsers must never read one token two ways, and a gateway keeping the
// last "exp" or "role" while an upstream keeps the first would disagree
// on what a signed token grants. Every depth, because every depth reaches
// the application (a nested object such as Keycloak's realm_access,
// whose roles an application reads through authn.Claim). A duplicate is
// found without a second lookup: an object whose map holds fewer entries
// than it had members named one twice.
//
// The nesting bound and json.Valid are checked first, so the recursive
// decoder below only ever walks well-formed JSON of bounded depth (it
// still bounds every index, and FuzzDecodeClaims compares it with
// encoding/json).
func DecodeClaims(b []byte, maxDepth int) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, errUTF8
	}
	if !depthOK(b, maxDepth) {
		return nil, errTooDeep
	}
	if !json.Valid(b) {
		return nil, errClaimsJSON
	}
	d := jsonDecoder{b: b}
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, errClaimsJSON
	}
	m, err := d.object()
	if err != nil {
		return nil, err
	}
	return m, nil
}

// NumericDate reads a NumericDate claim (RFC 7519 §2) as DecodeClaims
// returns it: a number of seconds, possibly fractional, within a sane
// range (0 to 1e11).
func NumericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

var (
	errClaimsJSON     = Refuse(ErrMalformed, ReasonMalformed, "the claims are not a JSON object")
	errJSONInternal   = Refuse(ErrMalformed, ReasonMalformed, "malformed JSON")
	errDuplicateClaim = Refuse(ErrMalformed, ReasonDuplicateClaim, "a member name appears twice in the claims")
)

type jsonDecoder struct {
	b []byte
	i int
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, errJSONInternal
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str(false)
	case c == 't':
		d.i += 4
		return true, nil
	case c == 'f':
		d.i += 5
		return false, nil
	case c == 'n':
		d.i += 4
		return nil, nil
	default:
		return d.number()
	}
}

// open consumes the byte that opens an object or array and reports
// whether closing follows at once (an empty one, consumed too).
func (d *jsonDecoder) open(closing byte) (empty bool) {
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == closing {
		d.i++
		return true
	}
	return false
}

// next consumes what follows a member or an element: a comma (more
// follow) or closing (the end).
func (d *jsonDecoder) next(closing byte) (end bool, err error) {
	d.ws()
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case ',':
			d.i++
			return false, nil
		case closing:
			d.i++
			return true, nil
		}
	}
	return false, errJSONInternal
}

func (d *jsonDecoder) object() (map[string]any, error) {
	m := make(map[string]any, 8)
	if d.open('}') {
		return m, nil
	}
	for n := 1; ; n++ {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, errJSONInternal
		}
		k, err := d.str(true)
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, errJSONInternal
		}
		d.i++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if len(m) != n {
			return nil, errDuplicateClaim
		}
		end, err := d.next('}')
		if err != nil {
			return nil, err
		}
		if end {
			return m, nil
		}
	}
}

func (d *jsonDecoder) array() ([]any, error) {
	a := make([]any, 0, 4)
	if d.open(']') {
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		end, err := d.next(']')
		if err != nil {
			return nil, err
		}
		if end {
			return a, nil
		}
	}
}

// str reads a string; keys that are registered claim names are returned
// without allocating.
func (d *jsonDecoder) str(key bool) (string, error) {
	start := d.i
	raw, next, escaped := scanString(d.b, d.i)
	if next < 0 {
		return "", errJSONInternal
	}
	d.i = next
	if escaped {
		return unescapeString(d.b[start:next])
	}
	if key {
		return internClaimName(raw), nil
	}
	return string(raw), nil
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			goto done
		}
		d.i++
	}
done:
	lit := d.b[start:d.i]
	if len(lit) == 0 {
		return nil, errJSONInternal
	}
	// ParseFloat does not retain its argument (errors copy it).
	f, err := strconv.ParseFloat(unsafe.String(&lit[0], len(lit)), 64)
	if err != nil {
		return nil, errJSONInternal // out of float64 range: encoding/json refuses too
	}
	return f, nil
}

// internClaimName returns a constant for the claim names every token
// carries, so that decoding them allocates nothing.
func internClaimName(b []byte) string {
	switch string(b) {
	case "sub":
		return "sub"
	case "iss":
		return "iss"
	case "aud":
		return "aud"
	case "exp":
		return "exp"
	case "nbf":
		return "nbf"
	case "iat":
		return "iat"
	case "jti":
		return "jti"
	case "sid":
		return "sid"
	case "roles":
		return "roles"
	case "role":
		return "role"
	case "scope":
		return "scope"
	case "scp":
		return "scp"
	case "scopes":
		return "scopes"
	case "token_use":
		return "token_use"
	case "auth_time":
		return "auth_time"
	case "azp":
		return "azp"
	case "client_id":
		return "client_id"
	case "email":
		return "email"
	case "name":
		return "name"
	}
	return string(b)
}
