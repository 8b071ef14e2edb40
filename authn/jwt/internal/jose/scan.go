package jose

import "encoding/json"

// The scanners below walk JSON that json.Valid has accepted; they still
// bound every index.

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
