package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/unrolled/secure"

	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/testhttp"
)

// The header set of the peer baseline (shared/bench/peers headersMW):
// HSTS with includeSubDomains, DENY, nosniff, strict-origin-when-cross-
// origin, a four-directive CSP and a three-feature Permissions-Policy.
func secureMW() func(http.Handler) http.Handler {
	s := secure.New(secure.Options{
		STSSeconds: 31536000, STSIncludeSubdomains: true, FrameDeny: true,
		ContentTypeNosniff: true, ReferrerPolicy: "strict-origin-when-cross-origin",
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'",
		PermissionsPolicy:     "geolocation=(), camera=(), microphone=()",
		IsDevelopment:         false, SSLRedirect: false,
	})
	return s.Handler
}

// The same header set from Bulwark (plus X-XSS-Protection: 0, which is
// always sent), with or without a per-request nonce in script-src.
func bulwarkHeaders(b *testing.B, nonce bool) http.Handler {
	co := csp.Options{
		DefaultSrc:     []string{csp.Self},
		ScriptSrc:      []string{csp.Self},
		ObjectSrc:      []string{csp.None},
		FrameAncestors: []string{csp.None},
	}
	if nonce {
		co.ScriptSrc = []string{csp.StrictDynamic}
		co.Nonce = true
	}
	cp, err := csp.New(co)
	if err != nil {
		b.Fatal(err)
	}
	p, err := headers.New(headers.Options{
		HSTS:              headers.HSTS{MaxAge: headers.Year, IncludeSubDomains: true},
		FrameOptions:      "DENY",
		ReferrerPolicy:    "strict-origin-when-cross-origin",
		PermissionsPolicy: headers.PermissionsPolicy{}.Deny(headers.Geolocation, headers.Camera, headers.Microphone),
		COOP:              headers.Off,
		CORP:              headers.Off,
		CacheControl:      headers.Off,
		RemoveHeaders:     []string{},
		CSP:               cp,
	})
	if err != nil {
		b.Fatal(err)
	}
	return p.Handler(okHandler(nonce))
}

// The full API profile: 11 headers and header removal.
func bulwarkAPI(b *testing.B) http.Handler {
	p, err := headers.New(headers.API())
	if err != nil {
		b.Fatal(err)
	}
	return p.Handler(okHandler(false))
}

func okHandler(nonce bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nonce && csp.Nonce(r.Context()) == "" {
			panic("no nonce")
		}
		w.WriteHeader(http.StatusOK)
	})
}

// runHeaders serves one HTTPS request (TLS as seen by the client-identity
// guard: reqctx State.Secure) per iteration. The response header map is
// cleared, not reallocated, so that map growth is not charged to either
// side.
func runHeaders(b *testing.B, h http.Handler, wantHeaders int) {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.RemoteAddr = "203.0.113.7:5555"
	ctx, st := reqctx.New(context.Background())
	st.Secure = true
	r = r.WithContext(ctx)
	serveLoop(b, h, r, &testhttp.NopWriter{H: make(http.Header, 16)}, clearMap, func(w *testhttp.NopWriter) {
		if w.Code != 200 || len(w.H) < wantHeaders || w.H.Get("Strict-Transport-Security") == "" || w.H.Get("Content-Security-Policy") == "" {
			b.Fatalf("status %d, headers %v", w.Code, w.H)
		}
	})
}

func BenchmarkHeaders_UnrolledSecure(b *testing.B) { runHeaders(b, secureMW()(okHandler(false)), 6) }
func BenchmarkHeaders_Bulwark(b *testing.B)        { runHeaders(b, bulwarkHeaders(b, false), 7) }
func BenchmarkHeaders_BulwarkNonce(b *testing.B)   { runHeaders(b, bulwarkHeaders(b, true), 7) }
func BenchmarkHeaders_BulwarkAPI(b *testing.B)     { runHeaders(b, bulwarkAPI(b), 10) }
