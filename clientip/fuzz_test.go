package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/clientip"
)

var fuzzTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
}

func fuzzTrustedAddr(a netip.Addr) bool {
	for _, p := range fuzzTrusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrsIn returns every address spelled somewhere in s: maximal runs of
// address characters, parsed whole or without a trailing ":port".
func addrsIn(s string) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	isAddrChar := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'
	}
	for i := 0; i < len(s); {
		if !isAddrChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAddrChar(s[j]) {
			j++
		}
		run := s[i:j]
		cands := []string{run}
		if k := strings.LastIndexByte(run, ':'); k > 0 {
			cands = append(cands, run[:k])
		}
		if k := strings.IndexByte(run, ':'); k > 0 {
			cands = append(cands, run[:k])
		}
		for _, c := range cands {
			if a, err := netip.ParseAddr(c); err == nil {
				out[a.Unmap()] = true
			}
		}
		i = j
	}
	return out
}

// checkForwarding asserts the security properties of one resolution: the
// result is the peer or an address written in the header; an untrusted
// peer's header is ignored; and an untrusted client found in the header
// cannot be changed by anything a client prepends.
func checkForwarding(t *testing.T, header, value string) {
	id := mustNew(t, clientip.Options{TrustedProxies: []string{"10.0.0.0/8", "2001:db8:ffff::/48"}, Headers: []string{header}})
	hops := mustNew(t, clientip.Options{TrustedHops: 3, Headers: []string{header}})

	r := newReq("10.0.0.1:1", hdrs{header: {value}})
	peer := netip.MustParseAddr("10.0.0.1")
	got := id.Resolve(r)
	if got != peer && !addrsIn(value)[got] {
		t.Fatalf("Resolve(%q) = %v: neither the peer nor an address in the header", value, got)
	}
	if got := hops.Resolve(r); got != peer && !addrsIn(value)[got] {
		t.Fatalf("hops: Resolve(%q) = %v: neither the peer nor an address in the header", value, got)
	}
	_ = id.IsSecure(r)

	// Through the guard: the request passes (200) or is refused with a 400
	// problem, exactly when Check says so; never anything else.
	w := httptest.NewRecorder()
	id.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
	_, p := id.Check(r)
	if refused := p != nil; w.Code != map[bool]int{false: 200, true: 400}[refused] ||
		refused && w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("Handler(%q): status %d, Check refused %v", value, w.Code, refused)
	}

	if got := id.Resolve(newReq("198.51.100.1:1", hdrs{header: {value}})); got != netip.MustParseAddr("198.51.100.1") {
		t.Fatalf("untrusted peer: Resolve(%q) = %v", value, got)
	}

	if got != peer && !fuzzTrustedAddr(got) {
		for _, prefix := range []string{`for="`, "1.2.3.4", `"`, `,`, `\`, "for=1.2.3.4;for=", "[", "unknown"} {
			for _, lines := range [][]string{{prefix + ", " + value}, {prefix, value}} {
				if again := id.Resolve(newReq("10.0.0.1:1", hdrs{header: lines})); again != got {
					t.Fatalf("client %v for %q became %v after prepending %q", got, value, again, lines)
				}
			}
		}
	}
}

func FuzzXForwardedFor(f *testing.F) {
	for _, s := range []string{
		"203.0.113.9", "1.1.1.1, 203.0.113.9, 10.0.0.2", "[2001:db8::1]:80, 10.0.0.2",
		"fe80::1%eth0", "::ffff:10.0.0.2", "unknown", ",,,", "203.0.113.9:4711",
		"2001:db8:ffff::1, 2001:db8::7", "garbage, 10.0.0.3", "[::1", "1.2.3.4:http",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkForwarding(t, "X-Forwarded-For", v)
	})
}

func FuzzForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=https;by=203.0.113.43",
		`for="[2001:db8:cafe::17]:4711"`, `for="_hidden", for=10.0.0.2`,
		`for=unknown`, `For="192.0.2.60:_port" ; PROTO=HTTPS`, `for="192.0.2.60`,
		`for=1.1.1.1, for=192.0.2.60;ext="a,b", for=10.0.0.2`, `for=10.0.0.7;for=10.0.0.8`,
		`proto=https`, `for="[::ffff:10.0.0.2]"`, `;;for=192.0.2.1;;`, `for=""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkForwarding(t, "Forwarded", v)
	})
}

func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", strings.Repeat("a", 64), strings.Repeat("a", 65), "a b", "x\r\ny", "é", "01J-abc.def:1_2"} {
		f.Add(s)
	}
	id := mustNew(f, clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	f.Fuzz(func(t *testing.T, in string) {
		var got string
		h := id.Handler(httpHandlerFunc(func(rid string) { got = rid }))
		for _, peer := range []string{"10.0.0.1:1", "198.51.100.1:1"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq(peer, hdrs{"X-Request-Id": {in}}))
			if !clientip.ValidRequestID(got) {
				t.Fatalf("request ID %q is not valid", got)
			}
			if trusted := peer == "10.0.0.1:1"; (got == in) != (trusted && clientip.ValidRequestID(in)) {
				t.Fatalf("incoming %q from %s: kept=%v, valid=%v", in, peer, got == in, clientip.ValidRequestID(in))
			}
			if w.Header().Get("X-Request-Id") != got {
				t.Fatalf("echo %q, state %q", w.Header().Get("X-Request-Id"), got)
			}
		}
	})
}

// httpHandlerFunc is a handler that reports the request ID it sees.
type httpHandlerFunc func(rid string)

func (f httpHandlerFunc) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	f(clientip.RequestID(r.Context()))
}
