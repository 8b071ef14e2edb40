package abuse

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/bulwark-go/bulwark/problem"
)

// maxNesting is encoding/json's nesting limit: a deeper body is not JSON
// to it, so it is none to the scanner either.
const maxNesting = 10000

// input is what the guard read from the request body for its sources: the
// top-level members it watches, found by one pass over the body that
// validates it as encoding/json does. A body that encoding/json would not
// decode into a map gives no values.
type input struct {
	names []string   // the guard's watched member names
	vals  []member   // one per name
	ok    bool       // the body is a JSON object
	form  url.Values // the urlencoded form a FormField source reads; nil: none
}

// member is one watched top-level member's value.
type member struct {
	raw   []byte // the value's JSON text; nil: absent
	str   bool   // a string: raw is its content between the quotes
	plain bool   // a string whose content is its text (no escapes, valid UTF-8)
	text  string // the decoded text of a string that is not plain, once asked
	done  bool   // text is set
}

// reset prepares in for a request of a guard watching names.
func (in *input) reset(names []string) {
	in.names, in.ok, in.form = names, false, nil
	if cap(in.vals) < len(names) {
		in.vals = make([]member, len(names))
	}
	in.vals = in.vals[:len(names)]
	clear(in.vals)
}

// field returns the text of the watched member name: a string's content,
// another value's JSON text; false when it is missing or null. The text
// aliases the body, which nothing writes to once read.
func (in *input) field(name string) (string, bool) {
	if !in.ok {
		return "", false
	}
	for i, n := range in.names {
		if n != name {
			continue
		}
		m := &in.vals[i]
		switch {
		case m.raw == nil:
			return "", false
		case !m.str:
			if string(m.raw) == "null" {
				return "", false
			}
			return unsafe.String(unsafe.SliceData(m.raw), len(m.raw)), true
		case m.plain:
			if len(m.raw) == 0 {
				return "", true
			}
			return unsafe.String(unsafe.SliceData(m.raw), len(m.raw)), true
		}
		if !m.done {
			m.text, m.done = unquote(m.raw), true
		}
		return m.text, true
	}
	return "", false
}

// unquote decodes a string's content (between the quotes) as
// encoding/json does: escapes, and U+FFFD for invalid UTF-8 and lone
// surrogates. The rare path: it allocates.
func unquote(content []byte) string {
	q := make([]byte, 0, len(content)+2)
	q = append(append(append(q, '"'), content...), '"')
	var s string
	_ = json.Unmarshal(q, &s) // the scan validated it
	return s
}

// parse scans data, a JSON body, for the watched top-level members. On a
// body that is not a JSON object, or not JSON, nothing is found and the
// handler answers for it. A watched name given twice (escapes decoded), or
// in another case, is refused as bind refuses it: two parsers of one body
// — this guard and the handler's decoder — must not read it two ways.
func (in *input) parse(data []byte) *problem.Problem {
	s := scanner{data: data}
	s.space()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return nil // null, another type, or not JSON: no values
	}
	s.i++
	s.space()
	var refuse *problem.Problem
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			if s.peek() != '"' {
				return nil
			}
			kstart := s.i + 1
			plain, ok := s.str()
			if !ok {
				return nil
			}
			key := s.data[kstart : s.i-1]
			s.space()
			if s.peek() != ':' {
				return nil
			}
			s.i++
			s.space()
			vstart := s.i
			if !s.value() {
				return nil
			}
			if refuse == nil {
				refuse = in.match(key, plain, s.data[vstart:s.i])
			}
			s.space()
			if c := s.peek(); c == ',' {
				s.i++
				s.space()
				continue
			} else if c != '}' {
				return nil
			}
			s.i++
			break
		}
	}
	s.space()
	if s.i != len(s.data) {
		return nil // data after the object
	}
	if refuse != nil {
		clear(in.vals)
		return refuse
	}
	in.ok = true
	return nil
}

// match records the member key: v when key is a watched name; a problem
// when it repeats one or spells one in another case.
func (in *input) match(key []byte, plain bool, v []byte) *problem.Problem {
	k := unsafe.String(unsafe.SliceData(key), len(key))
	if !plain {
		k = unquote(key)
	}
	i := -1
	for j, n := range in.names {
		if k == n {
			i = j
			break
		}
	}
	if i < 0 {
		for _, n := range in.names {
			if (len(k) == len(n) || !plain || !ascii(n)) && strings.EqualFold(k, n) { // ASCII folds keep lengths
				return problem.New(http.StatusBadRequest, problem.TypeBadRequest,
					"field names are case-sensitive: the request body has a field this endpoint accepts only as "+strconv.Quote(n)).
					WithReason("field_name_case").With("field", n)
			}
		}
		return nil
	}
	m := &in.vals[i]
	if m.raw != nil {
		return problem.New(http.StatusBadRequest, problem.TypeBadRequest,
			"the request body names a field twice in one object; send each field once").
			WithReason("duplicate_field").With("field", in.names[i])
	}
	if len(v) > 0 && v[0] == '"' {
		c := v[1 : len(v)-1]
		m.raw, m.str, m.plain = c, true, plainString(c) // c is empty, not nil, for ""
	} else {
		m.raw = v
	}
	return nil
}

func ascii(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainString reports whether a string's content is its text: no escapes,
// valid UTF-8.
func plainString(c []byte) bool {
	for _, b := range c {
		if b == '\\' || b >= utf8.RuneSelf {
			return !containsByte(c, '\\') && utf8.Valid(c)
		}
	}
	return true
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// scanner validates JSON as encoding/json's scanner does, without
// building anything.
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// str scans the string at s.i (its opening quote) and moves past its
// closing quote; plain reports content that is ASCII without escapes.
func (s *scanner) str() (plain, ok bool) {
	plain = true
	d := s.data
	i := s.i + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.i = i + 1
			return plain, true
		case c < 0x20:
			return false, false
		case c == '\\':
			plain = false
			if i+1 >= len(d) {
				return false, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return false, false
				}
				for _, h := range d[i+2 : i+6] {
					if !isHex(h) {
						return false, false
					}
				}
				i += 6
			default:
				return false, false
			}
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// value scans the value at s.i and moves past it.
func (s *scanner) value() bool {
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return s.nested()
}

// nested scans the object or array at s.i, validating and skipping it
// without recursion.
func (s *scanner) nested() bool {
	// stack holds, per open container, whether it is an object.
	var stack [maxNesting/64 + 1]uint64
	depth := 0
	inObject := func() bool { return stack[(depth-1)/64]>>((depth-1)%64)&1 == 1 }
	for {
		// A value.
		switch c := s.peek(); {
		case c == '{' || c == '[':
			if depth >= maxNesting {
				return false
			}
			depth++
			w, b := (depth-1)/64, uint((depth-1)%64)
			stack[w] &^= 1 << b
			s.i++
			s.space()
			if c == '{' {
				stack[w] |= 1 << b
				if s.peek() == '}' {
					s.i++
					depth--
					break
				}
				if !s.key() {
					return false
				}
				continue
			}
			if s.peek() == ']' {
				s.i++
				depth--
				break
			}
			continue
		case c == '"':
			if _, ok := s.str(); !ok {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if !s.number() {
				return false
			}
		case c == 't':
			if !s.lit("true") {
				return false
			}
		case c == 'f':
			if !s.lit("false") {
				return false
			}
		case c == 'n':
			if !s.lit("null") {
				return false
			}
		default:
			return false
		}
		// After a value: close containers, or go on to the next element.
		for {
			if depth == 0 {
				return true
			}
			s.space()
			c := s.peek()
			obj := inObject()
			if c == ',' {
				s.i++
				s.space()
				if obj && !s.key() {
					return false
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				s.i++
				depth--
				continue
			}
			return false
		}
	}
}

// key scans a member name and its colon, leaving s.i at the value.
func (s *scanner) key() bool {
	if s.peek() != '"' {
		return false
	}
	if _, ok := s.str(); !ok {
		return false
	}
	s.space()
	if s.peek() != ':' {
		return false
	}
	s.i++
	s.space()
	return true
}

func (s *scanner) lit(w string) bool {
	if len(s.data)-s.i < len(w) || string(s.data[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	d := s.data
	i := s.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return false
		}
		i = j
	}
	s.i = i
	return true
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}
