package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	rscors "github.com/rs/cors"

	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/internal/testhttp"
)

// The same policy for both libraries: the one of corsMW in
// shared/bench/peers/stack_test.go.
func corsPeers(b *testing.B) map[string]http.Handler {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://example.com"},
		AllowCredentials: true,
		AllowedMethods:   []string{"GET", "POST", "PUT", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
	})
	if err != nil {
		b.Fatal(err)
	}
	rs := rscors.New(rscors.Options{
		AllowedOrigins:   []string{"https://example.com"},
		AllowCredentials: true,
		AllowedMethods:   []string{"GET", "POST", "PUT", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	return map[string]http.Handler{"bulwark": c.Handler(ok), "rs-cors": rs.Handler(ok)}
}

// runCORS serves r with each peer, the header map cleared between requests
// so that only the middleware's own allocations are counted.
func runCORS(b *testing.B, r *http.Request, check func(b *testing.B, name string, w *testhttp.NopWriter)) {
	peers := corsPeers(b)
	for _, name := range []string{"bulwark", "rs-cors"} {
		h := peers[name]
		b.Run(name, func(b *testing.B) {
			serveLoop(b, h, r, &testhttp.NopWriter{H: make(http.Header, 8)}, clearMap, func(w *testhttp.NopWriter) { check(b, name, w) })
		})
	}
}

func BenchmarkCORS_Actual(b *testing.B) {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	runCORS(b, r, func(b *testing.B, name string, w *testhttp.NopWriter) {
		if w.Code != 200 || w.H.Get("Access-Control-Allow-Origin") != "https://example.com" || w.H.Get("Access-Control-Allow-Credentials") != "true" {
			b.Fatalf("%s: status %d, headers %v", name, w.Code, w.H)
		}
	})
}

func BenchmarkCORS_Preflight(b *testing.B) {
	r := httptest.NewRequest("OPTIONS", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	runCORS(b, r, func(b *testing.B, name string, w *testhttp.NopWriter) {
		if w.Code != 204 || w.H.Get("Access-Control-Allow-Origin") != "https://example.com" || w.H.Get("Access-Control-Allow-Headers") == "" {
			b.Fatalf("%s: status %d, headers %v", name, w.Code, w.H)
		}
	})
}

// A preflight whose Access-Control-Request-Headers is 1,024 commas: both
// refuse it (Bulwark with a 403 problem, rs/cors with a 204 without CORS
// headers); what matters is that the work stays bounded.
func BenchmarkCORS_PreflightAdversarial1024Commas(b *testing.B) {
	r := httptest.NewRequest("OPTIONS", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", strings.Repeat(",", 1024))
	runCORS(b, r, func(b *testing.B, name string, w *testhttp.NopWriter) {
		if w.H.Get("Access-Control-Allow-Origin") != "" {
			b.Fatalf("%s: allowed the adversarial preflight", name)
		}
	})
}

// A disallowed origin's actual request: no CORS headers, only Vary.
func BenchmarkCORS_ActualDisallowed(b *testing.B) {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com.evil.net")
	runCORS(b, r, func(b *testing.B, name string, w *testhttp.NopWriter) {
		if w.Code != 200 || w.H.Get("Access-Control-Allow-Origin") != "" {
			b.Fatalf("%s: status %d, headers %v", name, w.Code, w.H)
		}
	})
}

// The decision alone for the 1,024-comma preflight: bounded parsing, no
// allocation; the rest of the refusal's cost is the 403 problem response.
func BenchmarkCORS_CheckAdversarial1024Commas(b *testing.B) {
	c, err := cors.New(cors.Options{
		AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"}, AllowedHeaders: []string{"Authorization", "Content-Type"},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("OPTIONS", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", strings.Repeat(",", 1024))
	b.ReportAllocs()
	for b.Loop() {
		if c.Decide(r).Allowed {
			b.Fatal("allowed")
		}
	}
}
