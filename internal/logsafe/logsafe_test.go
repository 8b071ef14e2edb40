package logsafe_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/internal/logsafe"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "GET", 32, "GET"},
		{"exactly max", "abcd", 4, "abcd"},
		{"cut", "abcdef", 4, "abcd…(6 bytes)"},
		{"newline", "/a\nb", 32, `/a\x0ab`},
		{"CRLF and NUL", "a\r\n\x00", 32, `a\x0d\x0a\x00`},
		{"DEL", "a\x7f", 32, `a\x7f`},
		{"invalid UTF-8", "a\xffb", 32, `a\xffb`},
		{"printable Unicode kept", "/café/日本", 32, "/café/日本"},
		{"bidi override escaped", "/a\u202eb", 32, `/a\xe2\x80\xaeb`},
		{"line separator escaped", "a\u2028b", 32, `a\xe2\x80\xa8b`},
		{"C1 control escaped", "a\u0085b", 32, `a\xc2\x85b`},
		{"no half character", "ab日", 4, "ab…(5 bytes)"},
		{"no half escape", "abc\n", 5, "abc…(4 bytes)"},
		{"zero max", "abc", 0, "…(3 bytes)"},
		{"empty", "", 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := logsafe.String(tc.in, tc.max); got != tc.want {
				t.Fatalf("String(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
	huge := strings.Repeat("A", 300<<10)
	if got := logsafe.Method(huge); got != strings.Repeat("A", logsafe.MaxMethod)+"…(307200 bytes)" {
		t.Fatalf("Method of a 300 KB method = %q", got)
	}
}

// TestPlainDoesNotAllocate: the common case (a short, plain value) costs a
// scan and nothing else.
func TestPlainDoesNotAllocate(t *testing.T) {
	s := "GET /api/posts/{id}"
	if n := testing.AllocsPerRun(100, func() { _ = logsafe.Path(s) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "GET", "/a\nb", "\xff\xfe", "日本語", "a\u202eb", strings.Repeat("é", 40), "\x00\x7f\u0085"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 300
		got := logsafe.String(s, max)
		if max < 0 {
			max = 0
		}
		body, cut := strings.CutSuffix(got, "…("+strconv.Itoa(len(s))+" bytes)")
		if len(body) > max {
			t.Fatalf("String(%q, %d) = %q: %d bytes", s, max, got, len(body))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q, %d) = %q: invalid UTF-8", s, max, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Fatalf("String(%q, %d) = %q: unprintable %U", s, max, got, r)
			}
		}
		if !cut && len(s) <= max && got != s && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
			t.Fatalf("String(%q, %d) = %q: a printable value changed", s, max, got)
		}
	})
}
