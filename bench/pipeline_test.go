package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/recovery"
)

// pipelineWriter is a ResponseWriter whose header map is reused, so that
// the benchmarks measure the middleware and not a recorder's allocations.
type pipelineWriter struct{ h http.Header }

func (w *pipelineWriter) Header() http.Header         { return w.h }
func (w *pipelineWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *pipelineWriter) WriteHeader(int)             {}

type floorKey struct{}

// contextValueMiddleware is the floor: a middleware that only attaches one
// context value. It is not inlined, so that next is an opaque handler, as
// it is behind any real middleware.
//
//go:noinline
func contextValueMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), floorKey{}, w)))
	})
}

// BenchmarkPipeline measures the outermost layers of the request path —
// client identity (trusted-proxy client IP, HTTPS, request ID and its echo)
// and panic recovery — around an empty handler, against the bare handler
// and against the chi middlewares Go users stitch together for the same
// job (ClientIPFromXFF, RequestID, Recoverer).
func BenchmarkPipeline(b *testing.B) {
	empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := recovery.New(recovery.Options{})
	if err != nil {
		b.Fatal(err)
	}
	bulwark := id.Handler(rc.Handler(empty))
	chi := middleware.ClientIPFromXFF("10.0.0.0/8")(middleware.RequestID(middleware.Recoverer(empty)))
	// floor is the least any middleware pays that hands state to later
	// handlers through the request context: one context value and the
	// request copy r.WithContext makes (net/http has no other way to attach
	// a context). Bulwark's identity step is this plus its own work.
	floor := contextValueMiddleware(empty)

	direct := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	direct.RemoteAddr = "203.0.113.9:51234"
	proxied := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	proxied.RemoteAddr = "10.0.0.1:51234"
	proxied.Header.Set("X-Forwarded-For", "198.51.100.7, 10.0.0.2")
	proxied.Header.Set("X-Forwarded-Proto", "https")

	for _, tc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
	}{
		{"bare", empty, proxied},
		{"floor/context-value", floor, direct},
		{"bulwark/direct", bulwark, direct},
		{"bulwark/two-proxies", bulwark, proxied},
		{"chi/two-proxies", chi, proxied},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := &pipelineWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				tc.h.ServeHTTP(w, tc.r)
			}
		})
	}
}

// BenchmarkPipelineParallel is BenchmarkPipeline under concurrent load.
func BenchmarkPipelineParallel(b *testing.B) {
	empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	id, _ := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	rc, _ := recovery.New(recovery.Options{})
	bulwark := id.Handler(rc.Handler(empty))
	chi := middleware.ClientIPFromXFF("10.0.0.0/8")(middleware.RequestID(middleware.Recoverer(empty)))
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"bare", empty}, {"bulwark", bulwark}, {"chi", chi}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
				r.RemoteAddr = "10.0.0.1:51234"
				r.Header.Set("X-Forwarded-For", "198.51.100.7, 10.0.0.2")
				w := &pipelineWriter{h: http.Header{}}
				for pb.Next() {
					tc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkClientIPResolve is the pure resolution through two trusted
// proxies: no allocation.
func BenchmarkClientIPResolve(b *testing.B) {
	id, _ := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:51234"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.0.0.2")
	b.ReportAllocs()
	for b.Loop() {
		if !id.Resolve(r).IsValid() {
			b.Fatal("no address")
		}
	}
}
