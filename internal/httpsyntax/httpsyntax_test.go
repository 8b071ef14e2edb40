package httpsyntax_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// isTchar is RFC 9110's definition, spelled differently from the package's
// table: a visible ASCII character that is not a delimiter.
func isTchar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
}

func TestIsTokenChar(t *testing.T) {
	for c := range 256 {
		if got, want := httpsyntax.IsTokenChar(byte(c)), isTchar(byte(c)); got != want {
			t.Errorf("IsTokenChar(%q) = %v, want %v", byte(c), got, want)
		}
	}
}

func TestIsToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"GET", true},
		{"x-request-id", true},
		{"!#$%&'*+-.^_`|~09azAZ", true},
		{"a b", false},
		{"a,b", false},
		{"a:b", false},
		{"a\tb", false},
		{"caf\xc3\xa9", false},
		{"a\x7f", false},
	}
	for _, tt := range tests {
		if got := httpsyntax.IsToken(tt.in); got != tt.want {
			t.Errorf("IsToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTrimOWS(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{" \t ", ""},
		{"a", "a"},
		{" a", "a"},
		{"a\t", "a"},
		{"\t a b \t", "a b"},
		{"\na\r", "\na\r"}, // only spaces and tabs are OWS
	}
	for _, tt := range tests {
		if got := httpsyntax.TrimOWS(tt.in); got != tt.want {
			t.Errorf("TrimOWS(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzTrimOWS(f *testing.F) {
	for _, s := range []string{"", " a ", "\t\t", "a \tb", " \x00 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := httpsyntax.TrimOWS(s)
		if got != strings.Trim(s, " \t") {
			t.Fatalf("TrimOWS(%q) = %q, want %q", s, got, strings.Trim(s, " \t"))
		}
		if got != "" && (httpsyntax.IsOWS(got[0]) || httpsyntax.IsOWS(got[len(got)-1])) {
			t.Fatalf("TrimOWS(%q) = %q keeps whitespace", s, got)
		}
	})
}

func FuzzIsToken(f *testing.F) {
	for _, s := range []string{"", "GET", "a b", "x-id", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := s != ""
		for i := 0; i < len(s); i++ {
			want = want && isTchar(s[i])
		}
		if got := httpsyntax.IsToken(s); got != want {
			t.Fatalf("IsToken(%q) = %v, want %v", s, got, want)
		}
	})
}
