package migrate

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	rscors "github.com/rs/cors"

	"github.com/bulwark-go/bulwark/cors"
)

// TestRSCORS proves docs/migrate/rs-cors.md: the same policy written for
// rs/cors and for package cors answers allowed requests alike, and the
// differences the guide lists show on the same requests.
func TestRSCORS(t *testing.T) {
	rs := rscors.New(rscors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "POST", "PUT"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-ID"},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(ok)
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "POST", "PUT"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-ID"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	bw := c.Handler(ok)
	const api = "https://api.example.com/v1/items"

	t.Run("same: allowed actual request", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request { return req("GET", api, "Origin", "https://app.example.com") })
		for _, x := range []struct {
			who string
			w   interface{ Header() http.Header }
		}{{"rs/cors", p}, {"bulwark", b}} {
			h := x.w.Header()
			if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" ||
				!strings.EqualFold(h.Get("Access-Control-Expose-Headers"), "X-Request-ID") || !slices.Contains(h.Values("Vary"), "Origin") {
				t.Errorf("%s: headers %v", x.who, h)
			}
		}
		wantStatus(t, "rs/cors", p, 200)
		wantStatus(t, "bulwark", b, 200)
	})

	t.Run("same: allowed preflight", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request {
			return req("OPTIONS", api, "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", "authorization,content-type")
		})
		for who, w := range map[string]http.Header{"rs/cors": p.Header(), "bulwark": b.Header()} {
			if w.Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Get("Access-Control-Allow-Credentials") != "true" ||
				w.Get("Access-Control-Max-Age") != "600" || !strings.Contains(strings.ToLower(w.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("%s: headers %v", who, w)
			}
		}
		wantStatus(t, "rs/cors", p, 204)
		wantStatus(t, "bulwark", b, 204)
	})

	t.Run("same: disallowed origin gets no CORS headers, reaches the handler", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request { return req("POST", api, "Origin", "https://evil.example") })
		for who, w := range map[string]http.Header{"rs/cors": p.Header(), "bulwark": b.Header()} {
			if w.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: ACAO %q for a refused origin", who, w.Get("Access-Control-Allow-Origin"))
			}
		}
		wantStatus(t, "rs/cors", p, 200)
		wantStatus(t, "bulwark", b, 200)
	})

	t.Run("differs: refused preflight is 204 without headers vs 403 problem", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request {
			return req("OPTIONS", api, "Origin", "https://evil.example", "Access-Control-Request-Method", "PUT")
		})
		wantStatus(t, "rs/cors", p, 204)
		wantHeader(t, "rs/cors", p, "Access-Control-Allow-Origin", "")
		wantProblem(t, "bulwark", b, 403)
		wantHeader(t, "bulwark", b, "Access-Control-Allow-Origin", "")
	})

	t.Run("differs: Allow-Methods echoes the request vs lists the policy", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request {
			return req("OPTIONS", api, "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
		})
		wantHeader(t, "rs/cors", p, "Access-Control-Allow-Methods", "PUT")
		if m := b.Header().Get("Access-Control-Allow-Methods"); !strings.Contains(m, "GET") || !strings.Contains(m, "PUT") {
			t.Errorf("bulwark: Access-Control-Allow-Methods %q, want the allowed list", m)
		}
	})

	t.Run("differs: origin case", func(t *testing.T) {
		p, b := both(rs, bw, func() *http.Request { return req("GET", api, "Origin", "HTTPS://APP.EXAMPLE.COM") })
		wantHeader(t, "rs/cors", p, "Access-Control-Allow-Origin", "HTTPS://APP.EXAMPLE.COM")
		wantHeader(t, "bulwark", b, "Access-Control-Allow-Origin", "")
	})

	t.Run("differs: X-Requested-With allowed by default", func(t *testing.T) {
		d, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		p, b := both(rscors.New(rscors.Options{AllowedOrigins: []string{"https://app.example.com"}}).Handler(ok), d.Handler(ok), func() *http.Request {
			return req("OPTIONS", api, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET",
				"Access-Control-Request-Headers", "x-requested-with")
		})
		wantHeader(t, "rs/cors", p, "Access-Control-Allow-Origin", "https://app.example.com")
		wantProblem(t, "bulwark", b, 403)
	})

	// Configurations rs/cors accepts and package cors refuses.
	insecure := []struct {
		name string
		rs   rscors.Options
		bw   cors.Options
		// origin is a request the rs/cors policy grants with credentials.
		origin, acao string
	}{
		{"* with credentials",
			rscors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true},
			cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true},
			"https://evil.example", "*"},
		{"origin func that says yes, with credentials (reflection)",
			rscors.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true},
			cors.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true},
			"https://evil.example", "https://evil.example"},
		{"suffix check in an origin func, with credentials",
			rscors.Options{AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }, AllowCredentials: true},
			cors.Options{AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }, AllowOriginFuncDomains: []string{"example.com"}, AllowCredentials: true},
			"https://evilexample.com", "https://evilexample.com"},
		{"wildcard over a public suffix",
			rscors.Options{AllowedOrigins: []string{"https://*.github.io"}, AllowCredentials: true},
			cors.Options{AllowedOrigins: []string{"https://*.github.io"}, AllowCredentials: true},
			"https://attacker.github.io", "https://attacker.github.io"},
		{"plain-HTTP origin with credentials",
			rscors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true},
			cors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true},
			"http://app.example.com", "http://app.example.com"},
	}
	for _, tc := range insecure {
		t.Run("differs: refused at New: "+tc.name, func(t *testing.T) {
			p := serve(rscors.New(tc.rs).Handler(ok), req("GET", api, "Origin", tc.origin))
			wantHeader(t, "rs/cors", p, "Access-Control-Allow-Origin", tc.acao)
			wantHeader(t, "rs/cors", p, "Access-Control-Allow-Credentials", "true")
			if _, err := cors.New(tc.bw); !errors.Is(err, cors.ErrInsecure) {
				t.Errorf("bulwark: New error %v, want ErrInsecure", err)
			}
		})
	}

	t.Run("differs: zero options allow every origin vs none", func(t *testing.T) {
		z, err := cors.New(cors.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, b := both(rscors.New(rscors.Options{}).Handler(ok), z.Handler(ok), func() *http.Request {
			return req("GET", api, "Origin", "https://evil.example")
		})
		wantHeader(t, "rs/cors", p, "Access-Control-Allow-Origin", "*")
		wantHeader(t, "bulwark", b, "Access-Control-Allow-Origin", "")
	})

	t.Run("differs: default preflight max-age", func(t *testing.T) {
		d, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		p, b := both(rscors.New(rscors.Options{AllowedOrigins: []string{"https://app.example.com"}}).Handler(ok), d.Handler(ok), func() *http.Request {
			return req("OPTIONS", api, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
		})
		wantHeader(t, "rs/cors", p, "Access-Control-Max-Age", "")
		wantHeader(t, "bulwark", b, "Access-Control-Max-Age", "300")
	})
}
