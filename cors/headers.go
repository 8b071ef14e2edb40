package cors

import (
	"strings"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// Limits on parsing Access-Control-Request-Headers. Browsers send the
// header names lower-cased, sorted, unique and joined by "," without
// spaces; these limits tolerate what proxies do to a list (spaces after
// commas, a few empty elements, RFC 9110 §5.6.1) and nothing that would let
// a client make the server do unbounded work.
const (
	// maxEmptyElements is how many empty list elements are tolerated;
	// a header of 1,024 commas is refused at the 17th.
	maxEmptyElements = 16
	// maxOWS is the optional whitespace tolerated around one element.
	maxOWS = 4
	// maxHeaderNameLen bounds configured header names, so that a request's
	// names can be lower-cased in a stack buffer.
	maxHeaderNameLen = 128
	// maxEchoLen bounds the request-header list echoed back when every
	// header is allowed ("*").
	maxEchoLen = 4096
)

// headerSet is the set of allowed request-header names, lower-cased.
type headerSet struct {
	names  map[string]struct{}
	maxLen int
}

// allows checks that every element of the comma-separated lists in vals
// names an allowed header, case-insensitively: it returns "" or the reason
// for refusing, and whether any name was requested at all. The work is
// bounded by the size of the set: a list with more names than the set
// holds, more than maxEmptyElements empty elements, or an element longer
// than the longest allowed name (plus whitespace) is refused as soon as
// that is seen, and nothing allocates.
func (s *headerSet) allows(vals []string) (reason string, any bool) {
	limit := s.maxLen + 2*maxOWS + 1 // bytes to scan for the next comma
	empties, names := 0, 0
	var buf [maxHeaderNameLen]byte
	for _, v := range vals {
		for {
			var elem string
			last := false
			if i := strings.IndexByte(v[:min(len(v), limit)], ','); i >= 0 {
				elem, v = v[:i], v[i+1:]
			} else if len(v) < limit {
				elem, v, last = v, "", true
			} else {
				return ReasonHeaderNotAllowed, true // an element longer than any allowed name
			}
			elem = httpsyntax.TrimOWS(elem)
			if elem == "" {
				empties++
				if empties > maxEmptyElements {
					return ReasonMalformed, any
				}
			} else {
				names++
				if names > len(s.names) || len(elem) > s.maxLen || !s.has(elem, &buf) {
					return ReasonHeaderNotAllowed, true
				}
				any = true
			}
			if last {
				break
			}
		}
	}
	return "", any
}

// has looks name up case-insensitively, lower-casing into buf when needed.
func (s *headerSet) has(name string, buf *[maxHeaderNameLen]byte) bool {
	lower := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			lower = false
			break
		}
	}
	if lower {
		_, ok := s.names[name]
		return ok
	}
	n := copy(buf[:], name)
	for i := 0; i < n; i++ {
		if c := buf[i]; c >= 'A' && c <= 'Z' {
			buf[i] = c + ('a' - 'A')
		}
	}
	_, ok := s.names[string(buf[:n])] // no allocation: map index by converted bytes
	return ok
}

// validEchoList checks that vals is a bounded list of header-name tokens
// (with optional whitespace and at most maxEmptyElements empty elements),
// safe to echo back as Access-Control-Allow-Headers: it returns "" or
// ReasonMalformed, and whether the list names any header.
func validEchoList(vals []string) (reason string, any bool) {
	total, empties := 0, 0
	for _, v := range vals {
		total += len(v)
		if total > maxEchoLen {
			return ReasonMalformed, any
		}
		inName := false
		for i := 0; i <= len(v); i++ {
			if i == len(v) || v[i] == ',' {
				if !inName {
					empties++
					if empties > maxEmptyElements {
						return ReasonMalformed, any
					}
				}
				inName = false
				continue
			}
			c := v[i]
			if httpsyntax.IsOWS(c) {
				continue // whitespace inside a name is caught by the gap check below
			}
			if !httpsyntax.IsTokenChar(c) {
				return ReasonMalformed, any
			}
			if inName && httpsyntax.IsOWS(v[i-1]) {
				return ReasonMalformed, any // "a b": two tokens without a comma
			}
			inName, any = true, true
		}
	}
	return "", any
}
