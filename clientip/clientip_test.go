package clientip_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/clientip"
)

func mustNew(t testing.TB, opts clientip.Options) *clientip.Identity {
	t.Helper()
	id, err := clientip.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return id
}

func newReq(remote string, hdr map[string][]string) *http.Request {
	r := httptest.NewRequest("GET", "http://api.example/x", nil)
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header[http.CanonicalHeaderKey(k)] = v
	}
	return r
}

type hdrs = map[string][]string

var (
	proxies    = clientip.Options{TrustedProxies: []string{"loopback", "private"}, Headers: []string{"Forwarded", "X-Forwarded-For"}}
	xffDefault = clientip.Options{TrustedProxies: []string{"loopback", "private"}}
	withRealIP = clientip.Options{TrustedProxies: []string{"loopback", "private"}, Headers: []string{"X-Real-IP"}}
	xffOnly    = clientip.Options{TrustedProxies: []string{"private"}, Headers: []string{"x-forwarded-for"}}
	hops1      = clientip.Options{TrustedHops: 1}
	hops2      = clientip.Options{TrustedHops: 2}
	unixPeer   = clientip.Options{TrustedProxies: []string{"unix"}}
	linkLocal  = clientip.Options{TrustedProxies: []string{"10.0.0.1", "linklocal"}}
	v6Proxies  = clientip.Options{TrustedProxies: []string{"2001:db8:ffff::/48", "::ffff:10.0.0.0/104"}}
)

func TestResolve(t *testing.T) {
	long := strings.Repeat("10.1.2.3, ", 10000) + "10.0.0.2"
	garbageLeft := strings.Repeat("x,", 10000) + "203.0.113.9, 10.0.0.2"
	commas := strings.Repeat(",", 10000) + "203.0.113.9"
	fwdLong := strings.Repeat(`for="[2001:db8::1]:80";proto=http, `, 10000) + "for=10.0.0.3"

	tests := []struct {
		name   string
		opts   clientip.Options
		remote string
		hdr    hdrs
		tls    bool
		want   string
		secure bool
	}{
		// Nothing trusted by default.
		{"default ignores XFF", clientip.Options{}, "198.51.100.1:1234", hdrs{"X-Forwarded-For": {"203.0.113.9"}}, false, "198.51.100.1", false},
		{"default ignores Forwarded", clientip.Options{}, "127.0.0.1:1", hdrs{"Forwarded": {"for=203.0.113.9;proto=https"}}, false, "127.0.0.1", false},
		{"default ignores X-Real-IP", clientip.Options{}, "127.0.0.1:1", hdrs{"X-Real-IP": {"203.0.113.9"}}, false, "127.0.0.1", false},
		{"default ignores X-Forwarded-Proto", clientip.Options{}, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"https"}}, false, "127.0.0.1", false},
		{"direct TLS is secure", clientip.Options{}, "198.51.100.1:1", nil, true, "198.51.100.1", true},

		// Spoofing from an untrusted peer.
		{"untrusted peer XFF", proxies, "198.51.100.1:1234", hdrs{"X-Forwarded-For": {"10.0.0.2"}}, false, "198.51.100.1", false},
		{"untrusted peer Forwarded", proxies, "198.51.100.1:1234", hdrs{"Forwarded": {"for=203.0.113.9;proto=https"}}, false, "198.51.100.1", false},
		{"untrusted peer X-Real-IP", withRealIP, "198.51.100.1:1234", hdrs{"X-Real-IP": {"203.0.113.9"}}, false, "198.51.100.1", false},
		{"untrusted peer X-Forwarded-Proto", proxies, "198.51.100.1:1234", hdrs{"X-Forwarded-Proto": {"https"}}, false, "198.51.100.1", false},

		// X-Forwarded-For from trusted proxies.
		{"one proxy", proxies, "127.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9"}}, false, "203.0.113.9", false},
		{"spoofed left entries ignored", proxies, "127.0.0.1:5000", hdrs{"X-Forwarded-For": {"1.1.1.1, 8.8.8.8, 203.0.113.9"}}, false, "203.0.113.9", false},
		{"two proxies", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9, 10.0.0.2"}}, false, "203.0.113.9", false},
		{"multiple lines", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9", "10.0.0.2"}}, false, "203.0.113.9", false},
		{"last line wins", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9", "198.51.100.7"}}, false, "198.51.100.7", false},
		{"all trusted: leftmost", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"10.0.0.5, 10.0.0.2"}}, false, "10.0.0.5", false},
		{"no header: the proxy", proxies, "10.0.0.1:5000", nil, false, "10.0.0.1", false},
		{"empty header", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {""}}, false, "10.0.0.1", false},
		{"empty entries skipped", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {" , ,203.0.113.9 ,, ", ""}}, false, "203.0.113.9", false},
		{"garbage in trusted region fails closed", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9, not-an-ip"}}, false, "10.0.0.1", false},
		{"garbage after trusted hop: that hop", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9, bogus, 10.0.0.2"}}, false, "10.0.0.2", false},
		{"garbage left of client ignored", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"<script>, 203.0.113.9"}}, false, "203.0.113.9", false},
		{"unknown stops", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9, unknown"}}, false, "10.0.0.1", false},
		{"ipv4 with port", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9:4711"}}, false, "203.0.113.9", false},
		{"ipv6 bare", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"2001:db8:cafe::17"}}, false, "2001:db8:cafe::17", false},
		{"ipv6 brackets", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"[2001:db8:cafe::17]"}}, false, "2001:db8:cafe::17", false},
		{"ipv6 brackets port", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"[2001:db8:cafe::17]:4711"}}, false, "2001:db8:cafe::17", false},
		{"ipv6 zone dropped", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"fe80::1%eth0"}}, false, "fe80::1", false},
		{"ipv4-mapped unmapped", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"::ffff:203.0.113.9"}}, false, "203.0.113.9", false},
		{"mapped alias of trusted hop is trusted", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9, ::ffff:10.0.0.2"}}, false, "203.0.113.9", false},
		{"zoned alias of trusted hop is trusted", linkLocal, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9, fe80::1%25eth0"}}, false, "203.0.113.9", false},
		{"bad bracket", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"[2001:db8::1"}}, false, "10.0.0.1", false},
		{"bracketed ipv4 refused", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"[203.0.113.9]"}}, false, "10.0.0.1", false},
		{"port out of form", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {"203.0.113.9:http"}}, false, "10.0.0.1", false},
		{"10,000 trusted entries capped", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {long}}, false, "10.1.2.3", false},
		{"10,000 garbage entries left of client", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {garbageLeft}}, false, "203.0.113.9", false},
		{"10,000 commas", proxies, "10.0.0.1:5000", hdrs{"X-Forwarded-For": {commas}}, false, "203.0.113.9", false},
		{"ipv6 proxy", v6Proxies, "[2001:db8:ffff::1]:443", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"mapped trusted prefix", v6Proxies, "10.0.0.9:443", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"remote mapped", proxies, "[::ffff:127.0.0.1]:80", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"remote bare ip", proxies, "127.0.0.1", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"remote zoned", linkLocal, "[fe80::9%eth0]:80", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"remote unparseable untrusted", proxies, "@", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "invalid IP", false},
		{"unix socket proxy", unixPeer, "@", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "198.51.100.3", false},
		{"unix trust is not ip trust", unixPeer, "127.0.0.1:1", hdrs{"X-Forwarded-For": {"198.51.100.3"}}, false, "127.0.0.1", false},

		// Forwarded (RFC 7239).
		{"fwd basic", proxies, "127.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60;proto=https;by=203.0.113.43"}}, false, "192.0.2.60", true},
		{"fwd case and spaces", proxies, "127.0.0.1:1", hdrs{"Forwarded": {`For="192.0.2.60" ; PROTO=HTTPS`}}, false, "192.0.2.60", true},
		{"fwd ipv6 quoted port", proxies, "127.0.0.1:1", hdrs{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, false, "2001:db8:cafe::17", false},
		{"fwd ipv6 obfuscated port", proxies, "127.0.0.1:1", hdrs{"Forwarded": {`for="[2001:db8:cafe::17]:_p1"`}}, false, "2001:db8:cafe::17", false},
		{"fwd ipv4 port", proxies, "127.0.0.1:1", hdrs{"Forwarded": {`for="192.0.2.60:8080"`}}, false, "192.0.2.60", false},
		{"fwd chain", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=1.1.1.1, for=192.0.2.60;proto=https, for=10.0.0.2;proto=http"}}, false, "192.0.2.60", true},
		{"fwd lines", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=1.1.1.1, for=192.0.2.60", "for=10.0.0.2"}}, false, "192.0.2.60", false},
		{"fwd proto of trusted hop not the client's", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60;proto=http, for=10.0.0.2;proto=https"}}, false, "192.0.2.60", false},
		{"fwd unknown stops at last trusted hop", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60, for=unknown, for=10.0.0.2;proto=https"}}, false, "10.0.0.2", true},
		{"fwd obfuscated stops", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60, for=_hidden"}}, false, "10.0.0.1", false},
		{"fwd unknown with port", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60, for=unknown:80"}}, false, "10.0.0.1", false},
		{"fwd no for", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60, proto=https"}}, false, "10.0.0.1", false},
		{"fwd duplicate for", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=10.0.0.7;for=192.0.2.60"}}, false, "10.0.0.1", false},
		{"fwd unbalanced quote", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for="192.0.2.60`}}, false, "10.0.0.1", false},
		{"fwd attacker quote left of client", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for="1.1.1.1, for=192.0.2.60`}}, false, "192.0.2.60", false},
		{"fwd quoted comma", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for=192.0.2.60;ext="a,b"`}}, false, "192.0.2.60", false},
		{"fwd escape refused", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for="192.0.2.60\""`}}, false, "10.0.0.1", false},
		{"fwd unquoted ipv6 refused", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for=2001:db8::1`}}, false, "10.0.0.1", false},
		{"fwd ipv4 in brackets refused", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for="[192.0.2.60]"`}}, false, "10.0.0.1", false},
		{"fwd empty for", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for=""`}}, false, "10.0.0.1", false},
		{"fwd no equals", proxies, "10.0.0.1:1", hdrs{"Forwarded": {`for`}}, false, "10.0.0.1", false},
		{"fwd 10,000 elements", proxies, "10.0.0.1:1", hdrs{"Forwarded": {fwdLong}}, false, "2001:db8::1", false},

		// The default trusts X-Forwarded-For only.
		{"default headers: xff", xffDefault, "10.0.0.1:1", hdrs{"X-Forwarded-For": {"192.0.2.60"}}, false, "192.0.2.60", false},
		{"default headers: fwd ignored", xffDefault, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.61;proto=https"}, "X-Forwarded-For": {"192.0.2.60"}}, false, "192.0.2.60", false},
		{"default headers: fwd alone ignored", xffDefault, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.61"}}, false, "10.0.0.1", false},

		// Several headers must agree.
		{"fwd and xff agree", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.60"}, "X-Forwarded-For": {"192.0.2.60"}}, false, "192.0.2.60", false},
		{"fwd and xff disagree", proxies, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.61"}, "X-Forwarded-For": {"192.0.2.60"}}, false, "10.0.0.1", false},
		{"only xff listed: fwd ignored", xffOnly, "10.0.0.1:1", hdrs{"Forwarded": {"for=192.0.2.61"}, "X-Forwarded-For": {"192.0.2.60"}}, false, "192.0.2.60", false},
		{"x-real-ip when listed", withRealIP, "10.0.0.1:1", hdrs{"X-Real-IP": {"192.0.2.60"}}, false, "192.0.2.60", false},
		{"x-real-ip ignored unless listed", proxies, "10.0.0.1:1", hdrs{"X-Real-IP": {"192.0.2.60"}}, false, "10.0.0.1", false},
		{"x-real-ip list refused", withRealIP, "10.0.0.1:1", hdrs{"X-Real-IP": {"192.0.2.60, 192.0.2.61"}}, false, "10.0.0.1", false},

		// Trusted hop count.
		{"hops 1", hops1, "198.51.100.1:1", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9"}}, false, "203.0.113.9", false},
		{"hops 2", hops2, "198.51.100.1:1", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9, 198.51.100.2"}}, false, "203.0.113.9", false},
		{"hops 2 over lines", hops2, "198.51.100.1:1", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9", "198.51.100.2"}}, false, "203.0.113.9", false},
		{"hops 2 short chain", hops2, "198.51.100.1:1", hdrs{"X-Forwarded-For": {"203.0.113.9"}}, false, "203.0.113.9", false},
		{"hops 2 no header", hops2, "198.51.100.1:1", nil, false, "198.51.100.1", false},
		{"hops 2 garbage hop", hops2, "198.51.100.1:1", hdrs{"X-Forwarded-For": {"203.0.113.9, garbage"}}, false, "198.51.100.1", false},
		{"hops forwarded", clientip.Options{TrustedHops: 2, Headers: []string{"Forwarded"}}, "198.51.100.1:1", hdrs{"Forwarded": {"for=203.0.113.9;proto=https, for=198.51.100.2"}}, false, "203.0.113.9", true},

		// Scheme.
		{"xfp from trusted peer", proxies, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"https"}}, false, "127.0.0.1", true},
		{"xfp the peer's (right-most) value", proxies, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"http, HTTPS"}}, false, "127.0.0.1", true},
		{"xfp client-written left value ignored", proxies, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"https, http"}}, false, "127.0.0.1", false},
		{"xfp last line", proxies, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"https", "http"}}, false, "127.0.0.1", false},
		{"xfp http", proxies, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"http"}}, false, "127.0.0.1", false},
		{"xfp ignored when only Forwarded listed", clientip.Options{TrustedProxies: []string{"loopback"}, Headers: []string{"Forwarded"}}, "127.0.0.1:1", hdrs{"X-Forwarded-Proto": {"https"}}, false, "127.0.0.1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := mustNew(t, tc.opts)
			r := newReq(tc.remote, tc.hdr)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			remote := r.RemoteAddr
			if got := id.Resolve(r).String(); got != tc.want {
				t.Errorf("Resolve = %s, want %s", got, tc.want)
			}
			if got := id.IsSecure(r); got != tc.secure {
				t.Errorf("IsSecure = %v, want %v", got, tc.secure)
			}
			if r.RemoteAddr != remote {
				t.Errorf("RemoteAddr rewritten to %q", r.RemoteAddr)
			}
		})
	}
}

func TestResolveBoundedWork(t *testing.T) {
	id := mustNew(t, proxies)
	for _, hdr := range []hdrs{
		{"X-Forwarded-For": {strings.Repeat("10.1.2.3, ", 10000) + "10.0.0.2"}},
		{"Forwarded": {strings.Repeat(`for="[2001:db8::1]:80";proto=http, `, 10000) + "for=10.0.0.3"}},
		{"X-Forwarded-For": {strings.Repeat("10.0.0.1,", 10000)}, "Forwarded": {strings.Repeat(`for=10.0.0.1,`, 10000)}},
	} {
		r := newReq("10.0.0.1:1", hdr)
		if n := testing.AllocsPerRun(20, func() { id.Resolve(r) }); n != 0 {
			t.Errorf("Resolve allocates %.0f times on a 10,000-entry header", n)
		}
	}
}

func TestHandler(t *testing.T) {
	mem := audit.NewMemory()
	id := mustNew(t, clientip.Options{
		TrustedProxies: []string{"10.0.0.0/8"},
		Audit:          mem,
	})
	var (
		gotIP     netip.Addr
		gotID     string
		gotSecure bool
		gotRemote string
	)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotIP = clientip.FromContext(r.Context())
		gotID = clientip.RequestID(r.Context())
		gotSecure = clientip.IsSecure(r.Context())
		gotRemote = r.RemoteAddr
	})
	h := id.Handler(next)

	t.Run("generated ID", func(t *testing.T) {
		seen := map[string]bool{}
		for range 100 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq("10.0.0.1:9", h2("X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https")))
			if gotIP != netip.MustParseAddr("203.0.113.9") || !gotSecure || gotRemote != "10.0.0.1:9" {
				t.Fatalf("state: ip %v secure %v remote %q", gotIP, gotSecure, gotRemote)
			}
			if len(gotID) != 26 || !clientip.ValidRequestID(gotID) || seen[gotID] {
				t.Fatalf("generated ID %q: bad or repeated", gotID)
			}
			seen[gotID] = true
			if echo := w.Header().Get("X-Request-ID"); echo != gotID {
				t.Fatalf("echoed %q, want %q", echo, gotID)
			}
		}
	})
	for _, tc := range []struct {
		name, in string
		keep     bool
	}{
		{"incoming kept", "req-42.a:b_C", true},
		{"64 bytes kept", strings.Repeat("a", 64), true},
		{"65 bytes replaced", strings.Repeat("a", 65), false},
		{"bad char replaced", "abc def", false},
		{"newline replaced", "abc\r\nSet-Cookie: x=y", false},
		{"unicode replaced", "abcé", false},
		{"empty replaced", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq("10.0.0.1:9", h2("X-Request-Id", tc.in))) // from a trusted proxy
			if (gotID == tc.in) != tc.keep || !clientip.ValidRequestID(gotID) {
				t.Fatalf("request ID %q for incoming %q (keep %v)", gotID, tc.in, tc.keep)
			}
			if w.Header().Get("X-Request-Id") != gotID {
				t.Fatalf("echo mismatch")
			}
		})
	}
	t.Run("two ID lines replaced", func(t *testing.T) {
		h.ServeHTTP(httptest.NewRecorder(), newReq("10.0.0.1:9", hdrs{"X-Request-Id": {"a", "b"}}))
		if gotID == "a" || gotID == "b" {
			t.Fatalf("kept %q from duplicated header", gotID)
		}
	})
	t.Run("disagreeing headers refused", func(t *testing.T) {
		both := mustNew(t, clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}, Headers: []string{"Forwarded", "X-Forwarded-For"}, Audit: mem})
		called := false
		h := both.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
		before := len(mem.Events())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newReq("10.0.0.1:9", h2("X-Request-Id", "rid-1", "Forwarded", "for=192.0.2.1", "X-Forwarded-For", "192.0.2.2")))
		wantRefused(t, w, "rid-1")
		ev := mem.Events()[before:]
		if called || len(ev) != 1 || ev[0].Reason != "forwarding_headers_disagree" || ev[0].Decision != audit.Deny || ev[0].RequestID != "rid-1" || ev[0].ClientIP != "10.0.0.1" {
			t.Fatalf("called %v, events = %+v", called, ev)
		}
		h.ServeHTTP(httptest.NewRecorder(), newReq("10.0.0.1:9", h2("X-Forwarded-For", "192.0.2.2")))
		if n := len(mem.Events()) - before; n != 1 || !called {
			t.Fatalf("a clean request was refused or audited (%d events)", n)
		}
	})
	for _, tc := range []struct{ name, hdr, val string }{
		{"malformed trusted entry", "X-Forwarded-For", "192.0.2.2, oops"},
		{"bad bracket", "X-Forwarded-For", "[2001:db8::1"},
		{"port out of form", "X-Forwarded-For", "203.0.113.9:http"},
		{"999 octet", "X-Forwarded-For", "999.1.1.1"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			called := false
			h := id.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			before := len(mem.Events())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq("10.0.0.1:9", h2("X-Request-Id", "rid-2", tc.hdr, tc.val)))
			wantRefused(t, w, "rid-2")
			ev := mem.Events()[before:]
			if called || len(ev) != 1 || ev[0].Reason != "forwarding_header_invalid" || ev[0].Decision != audit.Deny {
				t.Fatalf("called %v, events = %+v", called, ev)
			}
			r, p := id.Check(newReq("10.0.0.1:9", h2(tc.hdr, tc.val)))
			if p == nil || p.Status != 400 || !errors.Is(p, clientip.ErrInvalidForwarding) || clientip.RequestID(r.Context()) == "" {
				t.Fatalf("Check = %v", p)
			}
		})
	}
	t.Run("same garbage from an untrusted peer is ignored", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newReq("198.51.100.1:9", h2("X-Forwarded-For", "192.0.2.2, oops")))
		if w.Code != 200 || gotIP != netip.MustParseAddr("198.51.100.1") {
			t.Fatalf("status %d ip %v", w.Code, gotIP)
		}
	})
	t.Run("tolerated: flagged, keyed as the nearest trusted hop", func(t *testing.T) {
		tol := mustNew(t, clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}, TolerateInvalidForwarding: true, Audit: mem})
		before := len(mem.Events())
		w := httptest.NewRecorder()
		tol.Handler(next).ServeHTTP(w, newReq("10.0.0.1:9", h2("X-Forwarded-For", "192.0.2.2, oops")))
		ev := mem.Events()[before:]
		if w.Code != 200 || gotIP != netip.MustParseAddr("10.0.0.1") || len(ev) != 1 || ev[0].Reason != "forwarding_header_invalid" || ev[0].Decision != audit.Flag {
			t.Fatalf("status %d ip %v events %+v", w.Code, gotIP, ev)
		}
	})
}

func wantRefused(t *testing.T, w *httptest.ResponseRecorder, rid string) {
	t.Helper()
	var p struct {
		Type      string `json:"type"`
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/problem+json" || p.Status != 400 ||
		p.Type != "https://bulwark.dev/problems/forwarding-header-invalid" || p.RequestID != rid || w.Header().Get("X-Request-Id") != rid ||
		w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("response %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func h2(kv ...string) hdrs {
	m := hdrs{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = []string{kv[i+1]}
	}
	return m
}

func TestRequestIDOptions(t *testing.T) {
	id := mustNew(t, clientip.Options{
		RequestIDHeader:         "x-correlation-id",
		IgnoreIncomingRequestID: true,
		GenerateRequestID:       func(dst []byte) []byte { return append(dst, "fixed-id"...) },
	})
	var got string
	h := id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientip.RequestID(r.Context()) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, newReq("198.51.100.1:1", h2("X-Correlation-Id", "incoming")))
	if got != "fixed-id" || w.Header().Get("X-Correlation-Id") != "fixed-id" || w.Header().Get("X-Request-Id") != "" {
		t.Fatalf("id %q, headers %v", got, w.Header())
	}
}

// TestRequestIDOnlyFromTrustedProxies: an incoming request ID is kept
// only from the proxies whose forwarding headers are believed; any other
// client's is replaced, so that no client can plant IDs in the audit log.
// AcceptRequestIDFromAnyClient restores "keep from anyone".
func TestRequestIDOnlyFromTrustedProxies(t *testing.T) {
	const planted = "req-from-the-client"
	for _, tc := range []struct {
		name   string
		opts   clientip.Options
		remote string
		keep   bool
	}{
		{"no proxy trusted", clientip.Options{}, "198.51.100.1:9", false},
		{"loopback peer, no proxy trusted", clientip.Options{}, "127.0.0.1:9", false},
		{"untrusted peer", xffDefault, "198.51.100.1:9", false},
		{"trusted proxy", xffDefault, "10.1.2.3:9", true},
		{"trusted IPv6 proxy", v6Proxies, "[2001:db8:ffff::1]:9", true},
		{"IPv4-mapped trusted proxy", v6Proxies, "[::ffff:10.0.0.9]:9", true},
		{"unix socket, trusted", unixPeer, "@", true},
		{"unix socket, untrusted", xffDefault, "@", false},
		{"trusted hops: every peer is the proxy", hops1, "198.51.100.1:9", true},
		{"from anyone", clientip.Options{AcceptRequestIDFromAnyClient: true}, "198.51.100.1:9", true},
		{"ignored even from a trusted proxy", clientip.Options{TrustedProxies: []string{"private"}, IgnoreIncomingRequestID: true}, "10.1.2.3:9", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := audit.NewMemory()
			tc.opts.Audit = mem
			id := mustNew(t, tc.opts)
			var got string
			h := id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = clientip.RequestID(r.Context())
				mem.Record(r.Context(), audit.FromRequest(r, "test", audit.Deny, "x"))
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq(tc.remote, h2("X-Request-Id", planted)))
			if (got == planted) != tc.keep || !clientip.ValidRequestID(got) || w.Header().Get("X-Request-Id") != got {
				t.Fatalf("request ID %q, echoed %q (keep %v)", got, w.Header().Get("X-Request-Id"), tc.keep)
			}
			if ev := mem.Events(); len(ev) != 1 || ev[0].RequestID != got {
				t.Fatalf("audited %+v", ev)
			}
			r, _ := id.Check(newReq(tc.remote, h2("X-Request-Id", planted)))
			if (clientip.RequestID(r.Context()) == planted) != tc.keep {
				t.Fatalf("Check decided otherwise: %q", clientip.RequestID(r.Context()))
			}
		})
	}
}

func TestAccessorsWithoutGuard(t *testing.T) {
	ctx := httptest.NewRequest("GET", "/", nil).Context()
	if clientip.FromContext(ctx).IsValid() || clientip.RequestID(ctx) != "" || clientip.IsSecure(ctx) {
		t.Fatal("accessors invent state")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts clientip.Options
		want string
	}{
		{"bad cidr", clientip.Options{TrustedProxies: []string{"10.0.0.0/33"}}, "not a CIDR"},
		{"bad ip", clientip.Options{TrustedProxies: []string{"proxy.internal"}}, "not a CIDR"},
		{"zoned ip", clientip.Options{TrustedProxies: []string{"fe80::1%eth0"}}, "without zone"},
		{"all v4", clientip.Options{TrustedProxies: []string{"0.0.0.0/0"}}, "every address"},
		{"all v6", clientip.Options{TrustedProxies: []string{"::/0"}}, "every address"},
		{"mapped all v4", clientip.Options{TrustedProxies: []string{"::ffff:0.0.0.0/96"}}, "every address"},
		{"mapped mixed", clientip.Options{TrustedProxies: []string{"::ffff:0.0.0.0/80"}}, "IPv4-mapped"},
		{"both modes", clientip.Options{TrustedProxies: []string{"loopback"}, TrustedHops: 1}, "not both"},
		{"hops negative", clientip.Options{TrustedHops: -1}, "between 0"},
		{"hops too many", clientip.Options{TrustedHops: 33}, "between 0"},
		{"unknown header", clientip.Options{TrustedHops: 1, Headers: []string{"CF-Connecting-IP"}}, "unknown forwarding header"},
		{"headers without trust", clientip.Options{Headers: []string{"X-Forwarded-For"}}, "no effect"},
		{"bad id header", clientip.Options{RequestIDHeader: "X Request"}, "not a valid header"},
		{"bad generator", clientip.Options{GenerateRequestID: func(d []byte) []byte { return append(d, "a b"...) }}, "GenerateRequestID"},
		{"ignore and accept IDs", clientip.Options{IgnoreIncomingRequestID: true, AcceptRequestIDFromAnyClient: true}, "contradict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clientip.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, prefix, text string }{
		{"198.51.100.7", "198.51.100.7/32", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7/32", "198.51.100.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64", "fe80::/64"},
	}
	for _, tc := range tests {
		a := netip.MustParseAddr(tc.in)
		if got := clientip.Key(a).String(); got != tc.prefix {
			t.Errorf("Key(%s) = %s, want %s", tc.in, got, tc.prefix)
		}
		if got := string(clientip.AppendKey([]byte("ip:"), a)); got != "ip:"+tc.text {
			t.Errorf("AppendKey(%s) = %s, want ip:%s", tc.in, got, tc.text)
		}
	}
	if clientip.Key(netip.Addr{}).IsValid() || len(clientip.AppendKey(nil, netip.Addr{})) != 0 {
		t.Error("zero Addr must give no key")
	}
	buf := make([]byte, 0, 64)
	a := netip.MustParseAddr("2001:db8:1:2::9")
	if n := testing.AllocsPerRun(100, func() { buf = clientip.AppendKey(buf[:0], a) }); n != 0 {
		t.Errorf("AppendKey allocates %.0f times", n)
	}
}

// TestCheckLeavesTheRequest: Check resolves into a copy of the request
// state, so a candidate trust model evaluated in shadow cannot change the
// client IP the live guards key, limit and log by.
func TestCheckLeavesTheRequest(t *testing.T) {
	live, _ := clientip.New(clientip.Options{})
	shadow, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	var inner *http.Request
	r := newReq("10.0.0.1:9", h2("X-Forwarded-For", "203.0.113.9"))
	live.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner = r })).ServeHTTP(httptest.NewRecorder(), r)
	r2, p := shadow.Check(inner)
	if p != nil || clientip.FromContext(r2.Context()) != netip.MustParseAddr("203.0.113.9") {
		t.Fatalf("shadow Check: %v %v", clientip.FromContext(r2.Context()), p)
	}
	if got := clientip.FromContext(inner.Context()); got != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("the live request's client became %v", got)
	}
	if clientip.RequestID(r2.Context()) != clientip.RequestID(inner.Context()) {
		t.Fatal("the copy has another request ID")
	}
}

// PeerTrusted answers for the connection's peer only, never for what a
// forwarding header claims.
func TestPeerTrusted(t *testing.T) {
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.1.2.3:443": true, "192.0.2.1:443": false, "[::ffff:10.0.0.1]:1": true, "garbage": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "10.9.9.9")
		if got := id.PeerTrusted(r); got != want {
			t.Errorf("%s: %v; want %v", addr, got, want)
		}
	}
	none, _ := clientip.New(clientip.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:443"
	if none.PeerTrusted(r) {
		t.Error("trusted a peer with no proxies configured")
	}
}
