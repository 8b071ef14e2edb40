package clientip

import (
	"net/netip"
	"testing"
)

// FuzzParseIPv4 checks the fast IPv4 parser against net/netip.
func FuzzParseIPv4(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", "", "1.2.3.4 ", "::1", "1.2.3.0x4", "00.1.2.3", "1.2.3.09"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv4(s)
		want, err := netip.ParseAddr(s)
		wantOK := err == nil && want.Is4()
		if ok != wantOK || ok && got != want {
			t.Fatalf("parseIPv4(%q) = %v, %v; netip: %v, %v", s, got, ok, want, err)
		}
	})
}
