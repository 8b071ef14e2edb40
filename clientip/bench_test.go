package clientip_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// nopWriter is a ResponseWriter whose header map is reused across
// iterations, so that the benchmarks measure the guard, not the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkResolve(b *testing.B) {
	id := mustNew(b, clientip.Options{TrustedProxies: []string{"10.0.0.0/8", "192.168.0.0/16"}})
	cases := []struct {
		name   string
		remote string
		hdr    hdrs
	}{
		{"untrusted-peer", "198.51.100.1:4711", hdrs{"X-Forwarded-For": {"203.0.113.9"}}},
		{"xff-two-trusted-proxies", "10.0.0.1:4711", hdrs{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9, 192.168.1.2"}}},
		{"xff-ipv6-client", "10.0.0.1:4711", hdrs{"X-Forwarded-For": {"2001:db8:cafe::17, 192.168.1.2"}}},
		{"forwarded-two-trusted-proxies", "10.0.0.1:4711", hdrs{"Forwarded": {`for=203.0.113.9;proto=https, for="192.168.1.2"`}}},
		{"xff-10000-entries", "10.0.0.1:4711", hdrs{"X-Forwarded-For": {strings.Repeat("10.1.2.3, ", 10000) + "10.0.0.2"}}},
	}
	for _, tc := range cases {
		r := newReq(tc.remote, tc.hdr)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var a netip.Addr
			for b.Loop() {
				a = id.Resolve(r)
			}
			if !a.IsValid() {
				b.Fatal("no address")
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	id := mustNew(b, clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	// floor is what any context-carrying identity guard must pay: the state
	// allocation and the request copy.
	var next http.Handler = empty
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := reqctx.New(r.Context())
		next.ServeHTTP(w, r.WithContext(ctx))
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
		hdr  hdrs
	}{
		{"bare", empty, nil},
		{"floor", floor, nil},
		{"identity-generated-id", id.Handler(empty), hdrs{"X-Forwarded-For": {"203.0.113.9, 10.0.0.2"}}},
		{"identity-incoming-id", id.Handler(empty), hdrs{"X-Forwarded-For": {"203.0.113.9, 10.0.0.2"}, "X-Request-Id": {"01JABCDEFGHJKMNPQRSTVWXYZ0"}}},
	} {
		r := newReq("10.0.0.1:4711", tc.hdr)
		w := &nopWriter{h: http.Header{}}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.h.ServeHTTP(w, r)
			}
		})
	}
}

func BenchmarkAppendKey(b *testing.B) {
	a := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = clientip.AppendKey(buf[:0], a)
	}
}

func BenchmarkAppendRequestID(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = clientip.AppendRequestID(buf[:0])
	}
}
