package clientip_test

import (
	"net/http"
	"testing"

	"github.com/bulwark-go/bulwark/clientip"
)

// RequestKey is the client as every per-client guard counts it: the
// resolved client (IPv6 by /64), else the peer, else "".
func TestRequestKey(t *testing.T) {
	id := mustNew(t, clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	for _, tc := range []struct {
		name, remote, xff, want string
		identity                bool
	}{
		{"resolved IPv6 by /64", "10.0.0.1:443", "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", true},
		{"another interface ID, same key", "10.0.0.1:443", "2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64", true},
		{"resolved IPv4", "10.0.0.1:443", "198.51.100.7", "198.51.100.7", true},
		{"no identity guard: the peer", "[2001:db8:9:9::5]:1234", "198.51.100.7", "2001:db8:9:9::/64", false},
		{"mapped peer", "[::ffff:192.0.2.1]:80", "", "192.0.2.1", false},
		{"unknown", "@", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(tc.remote, map[string][]string{"X-Forwarded-For": {tc.xff}})
			if tc.identity {
				var ok bool
				if r, ok = check(t, id, r); !ok {
					t.Fatal("refused")
				}
			}
			if got := clientip.RequestKey(r); got != tc.want {
				t.Fatalf("RequestKey = %q, want %q", got, tc.want)
			}
		})
	}
}

func check(t *testing.T, id *clientip.Identity, r *http.Request) (*http.Request, bool) {
	t.Helper()
	r2, p := id.Check(r)
	return r2, p == nil
}
