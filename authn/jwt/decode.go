package jwt

import (
	"encoding/json"
	"errors"
	"strconv"
	"unsafe"
)

// decodeClaimsObject decodes a JSON object into map[string]any with the
// semantics of encoding/json's Unmarshal into map[string]any (strings,
// float64 numbers, bool, nil, []any, map[string]any; the last of duplicate
// keys wins), without reflection: claims are decoded on every uncached
// verification and reflection is most of encoding/json's cost there.
//
// The caller has checked that b is valid UTF-8; the nesting bound and
// json.Valid are checked first, so the recursive decoder below only ever
// walks well-formed JSON of bounded depth (it still bounds every index,
// and FuzzDecodeClaims compares it with encoding/json).
func decodeClaimsObject(b []byte, maxDepth int) (map[string]any, error) {
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

var errJSONInternal = errors.New("jwt: malformed JSON")

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

func (d *jsonDecoder) object() (map[string]any, error) {
	d.i++ // '{'
	m := make(map[string]any, 8)
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
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
		d.ws()
		if d.i >= len(d.b) {
			return nil, errJSONInternal
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, nil
		default:
			return nil, errJSONInternal
		}
	}
}

func (d *jsonDecoder) array() ([]any, error) {
	d.i++ // '['
	a := make([]any, 0, 4)
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.ws()
		if d.i >= len(d.b) {
			return nil, errJSONInternal
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, nil
		default:
			return nil, errJSONInternal
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

// unescapeString decodes a JSON string literal with escapes. It is a
// separate function so that its result variable does not make every
// string decoded by the fast path escape to the heap.
//
//go:noinline
func unescapeString(lit []byte) (string, error) {
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", errJSONInternal
	}
	return s, nil
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
