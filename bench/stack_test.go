package bench

// The full demo-like stack per request — security headers, CORS, a rate
// limit and JWT authentication — against the stack Go users stitch today
// from unrolled/secure + rs/cors + go-chi/httprate + golang-jwt (the shape
// of ../shared/bench/peers/stack_test.go), in the same run:
//
//	go test -run '^$' -bench 'Stack' -benchmem
//
// Both sides get the same request: an allowed Origin, a valid HS256 bearer
// token, one client IP. Bulwark's stack also resolves the client identity
// and assigns a request ID, which the stitched stack does not do at all.

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/rs/cors"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/clientip"
	bcors "github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/testhttp"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store/memstore"
)

func stitchedStack() http.Handler {
	var h http.Handler = jwtOK
	h = jwtPeerMW(h)
	//lint:ignore SA1019 the peers' stitched stack (../shared/bench/peers) uses exactly this
	h = httprate.LimitByIP(1<<30, time.Minute)(h)
	h = cors.New(cors.Options{AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"}, AllowedHeaders: []string{"Authorization", "Content-Type"}}).Handler(h)
	return secureMW()(h)
}

// bulwarkStack is the same protection assembled through bulwark.Policy;
// revocation says whether the verifier checks a revocation store (the demo
// does) on every request. Its header profile also sends what the stitched
// stack lacks (Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy,
// Cache-Control: no-store, X-XSS-Protection: 0, X-Request-ID): 16 response
// headers against 12.
func bulwarkStack(b testing.TB, revocation bool) http.Handler {
	return bulwarkStackWith(b, revocation, false)
}

// bulwarkStackWith builds bulwarkStack; peerHeaders leaves out COOP, CORP
// and Cache-Control, so that the response carries the stitched stack's
// headers plus only X-Request-ID and X-XSS-Protection (14 against 12): the
// same work, for an implementation-to-implementation comparison.
func bulwarkStackWith(b testing.TB, revocation, peerHeaders bool) http.Handler {
	b.Helper()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	id, err := clientip.New(clientip.Options{})
	must(err)
	pol, err := csp.New(csp.Options{DefaultSrc: []string{"'self'"}, ScriptSrc: []string{"'self'"}, ObjectSrc: []string{"'none'"}, FrameAncestors: []string{"'none'"}})
	must(err)
	hopts := headers.Options{
		HSTS: headers.HSTS{MaxAge: 365 * 24 * time.Hour, IncludeSubDomains: true}, ReferrerPolicy: "strict-origin-when-cross-origin",
		CSP: pol, PermissionsPolicy: headers.PermissionsPolicy{"geolocation": nil, "camera": nil, "microphone": nil},
	}
	if peerHeaders {
		hopts.COOP, hopts.CORP, hopts.CacheControl = headers.Off, headers.Off, headers.Off
	}
	hdr, err := headers.New(hopts)
	must(err)
	c, err := bcors.New(bcors.Options{AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"}, AllowedHeaders: []string{"Authorization", "Content-Type"}})
	must(err)
	rl, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.GCRA(1<<30, time.Minute, 1<<30).By(ratelimit.ByIP())}})
	must(err)
	key, err := jwt.NewHMACKey("", jwt.HS256, jwtSecret)
	must(err)
	opts := jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"bench"}, Audience: []string{"api"}}
	if revocation {
		st := memstore.New(memstore.Options{})
		b.Cleanup(func() { _ = st.Close() })
		opts.Store = st
	}
	v, err := jwt.NewVerifier(opts)
	must(err)
	g, err := authn.New(authn.Options{Authenticator: v})
	must(err)
	return bulwark.Policy{
		Identity:      id.Handler,
		Headers:       hdr.Handler,
		CORS:          c.Handler,
		PreAuthLimits: rl.Handler,
		Authn:         g.Require,
	}.Handler(jwtOK)
}

// runStackBench serves one request per iteration. Like the peers'
// benchmark it gives every response a fresh header map of capacity 8 (as a
// server would give it a fresh map), so map growth from the headers each
// stack sets is part of the cost; with reuse set the map is cleared
// instead, which isolates the middleware's own work.
func runStackBench(b *testing.B, h http.Handler, reuse ...bool) {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Authorization", "Bearer "+jwtToken(b))
	r.RemoteAddr = "203.0.113.7:5555"
	hm := freshMap
	if len(reuse) > 0 && reuse[0] {
		hm = clearMap
	}
	serveLoop(b, h, r, &testhttp.NopWriter{H: http.Header{}}, hm, func(w *testhttp.NopWriter) { wantOK(b, w) })
}

func BenchmarkStack_PeerStitched(b *testing.B)      { runStackBench(b, stitchedStack()) }
func BenchmarkStack_Bulwark(b *testing.B)           { runStackBench(b, bulwarkStack(b, false)) }
func BenchmarkStack_BulwarkRevocation(b *testing.B) { runStackBench(b, bulwarkStack(b, true)) }
func BenchmarkStack_BulwarkPeerHeaders(b *testing.B) {
	runStackBench(b, bulwarkStackWith(b, true, true))
}
func BenchmarkStack_BareHeaderMapReset(b *testing.B) { runStackBench(b, jwtOK) }
