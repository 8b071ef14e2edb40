// Package httpsyntax holds the pieces of RFC 9110 syntax that several
// guards parse: optional whitespace (OWS) and tokens. It imports nothing of
// Bulwark's, so that sibling guards (clientip, cors, headers/csp) share one
// implementation without importing each other.
package httpsyntax

// tchar marks the bytes allowed in an RFC 9110 token (§5.6.2): letters,
// digits and !#$%&'*+-.^_`|~.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsTokenChar reports whether c may appear in an RFC 9110 token.
func IsTokenChar(c byte) bool { return tchar[c] }

// IsToken reports whether s is a non-empty RFC 9110 token, such as a
// header name or a method.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// IsOWS reports whether c is optional whitespace: a space or a tab.
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

// TrimOWS trims optional whitespace (spaces and tabs) around s, as around
// the elements of a comma-separated header list (RFC 9110 §5.6.1).
func TrimOWS(s string) string {
	for len(s) > 0 && IsOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && IsOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
