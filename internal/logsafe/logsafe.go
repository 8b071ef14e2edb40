// Package logsafe bounds and sanitises values a client controls — the
// method, the path, a user agent, any header or body text — before they
// are written to a log line, an audit event or a metric.
//
// net/http accepts a request line and headers of up to a megabyte
// (Server.MaxHeaderBytes), so a value written whole lets any client
// grow the logs, and whatever keeps events in memory, by a megabyte per
// request; and a path may carry control characters (a decoded %0a) or
// Unicode that reorders or hides text in a log viewer. String keeps at
// most a fixed number of bytes, escapes everything that is not printable,
// and says how long the original was, so that an operator still sees
// that something long arrived. Values that are short and plain — nearly
// every real method, route and user agent — are returned as they are,
// without allocating.
//
// The escapes are for display, not reversible: a backslash is not
// escaped, so a literal `\x0a` in a path and an escaped newline look the
// same.
package logsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds for the values Bulwark writes to logs and audit events, in bytes
// of the sanitised value (the truncation marker comes on top).
const (
	// MaxMethod bounds a request method. The longest registered method
	// ("BASELINE-CONTROL", "UPDATEREDIRECTREF") has 17 bytes.
	MaxMethod = 32
	// MaxPath bounds a request path.
	MaxPath = 256
	// MaxValue bounds any other short client value: a user agent, a
	// header, a principal ID.
	MaxValue = 256
	// MaxText bounds longer free text: an internal error's message, an
	// extra attribute of an audit event.
	MaxText = 1024
)

// Method returns m bounded to MaxMethod bytes and sanitised.
func Method(m string) string { return String(m, MaxMethod) }

// Path returns p bounded to MaxPath bytes and sanitised.
func Path(p string) string { return String(p, MaxPath) }

// Value returns v bounded to MaxValue bytes and sanitised.
func Value(v string) string { return String(v, MaxValue) }

// Text returns t bounded to MaxText bytes and sanitised.
func Text(t string) string { return String(t, MaxText) }

// String returns s with every byte that is not part of a printable
// character — ASCII controls, invalid UTF-8, and Unicode format,
// separator and control characters such as U+202E or U+2028 — written as
// \xNN, cut to at most max bytes at a character boundary. A cut value
// ends with "…(N bytes)", N being the length of s. s itself is returned
// when it is at most max bytes of printable ASCII. Its work is bounded by
// max, not by the length of s.
func String(s string, max int) string {
	if max < 0 {
		max = 0
	}
	if len(s) <= max && plainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max) + 20)
	var hex [4]byte
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if b.Len()+1 > max {
				break
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && r >= 0x80 && unicode.IsPrint(r) {
			if b.Len()+size > max {
				break
			}
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		if b.Len()+4*size > max {
			break
		}
		for _, c := range []byte(s[i : i+size]) {
			hex = [4]byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&15]}
			b.Write(hex[:])
		}
		i += size
	}
	if i < len(s) {
		b.WriteString("…(")
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteString(" bytes)")
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
