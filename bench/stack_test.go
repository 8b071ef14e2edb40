package bench

// The full demo-like stack per request — security headers, CORS, a rate
// limit and JWT authentication — against the stack Go users stitch today
// from unrolled/secure + rs/cors + go-chi/httprate + golang-jwt (the shape
// of ../shared/bench/peers/stack_test.go), in the same run:
//
//	go test -run '^$' -bench 'Stack' -benchmem
//
// Both sides get the same requests: an allowed Origin, a valid HS256
// bearer token carrying a jti and a session (sid), one client IP.
// Bulwark's stack also resolves the client identity and assigns a request
// ID, which the stitched stack does not do at all.
//
// golang-jwt verifies every token; Bulwark's verifier remembers verified
// tokens (CacheSize, 4096 by default). So that no figure owes its speed to
// a workload made for the cache, every Bulwark stack runs three ways, each
// beside the peer on the same tokens:
//
//	CacheHits   one token, sent over and over: every request a cache hit
//	            (the best case; the peer's OneToken)
//	CacheOff    the same token, CacheSize -1: every request verifies
//	            (the worst case)
//	Zipf10k     10,000 distinct tokens, drawn Zipf-distributed (s = 1.01,
//	            the popularity of users of one API), with the default
//	            cache: the realistic mix (the peer's Zipf10k). It reports
//	            the hit rate it gets, about 79%.
//
// BulwarkRevocation and BulwarkPeerHeaders also check the revocation
// denylist (a memstore) for the token's jti and sid on every request,
// cached or not, as the demo does.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	gjwt "github.com/golang-jwt/jwt/v5"
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

// stackConfig says how bulwarkStackWith builds the stack.
type stackConfig struct {
	// revocation gives the verifier a revocation store (memstore), which
	// every request asks about the token's jti and sid.
	revocation bool
	// peerHeaders leaves out COOP, CORP and Cache-Control, so that the
	// response carries the stitched stack's headers plus only X-Request-ID
	// and X-XSS-Protection (14 against 12): the same work, for an
	// implementation-to-implementation comparison. Otherwise the profile
	// sends all 16 headers.
	peerHeaders bool
	// cacheSize is VerifierOptions.CacheSize: 0 the default (4096
	// tokens), -1 no cache.
	cacheSize int
}

// bulwarkStack is the same protection assembled through bulwark.Policy,
// with the default cache; revocation says whether the verifier checks a
// revocation store (the demo does) on every request. Its header profile
// also sends what the stitched stack lacks (Cross-Origin-Opener-Policy,
// Cross-Origin-Resource-Policy, Cache-Control: no-store,
// X-XSS-Protection: 0, X-Request-ID): 16 response headers against 12.
func bulwarkStack(b testing.TB, revocation bool) http.Handler {
	h, _ := bulwarkStackWith(b, stackConfig{revocation: revocation})
	return h
}

// bulwarkStackWith builds the stack c describes and returns it with its
// verifier.
func bulwarkStackWith(b testing.TB, c stackConfig) (http.Handler, *jwt.Verifier) {
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
	if c.peerHeaders {
		hopts.COOP, hopts.CORP, hopts.CacheControl = headers.Off, headers.Off, headers.Off
	}
	hdr, err := headers.New(hopts)
	must(err)
	cs, err := bcors.New(bcors.Options{AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"}, AllowedHeaders: []string{"Authorization", "Content-Type"}})
	must(err)
	rl, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.GCRA(1<<30, time.Minute, 1<<30).By(ratelimit.ByIP())}})
	must(err)
	v := stackVerifier(b, c)
	g, err := authn.New(authn.Options{Authenticator: v})
	must(err)
	return bulwark.Policy{
		Identity:      id.Handler,
		Headers:       hdr.Handler,
		CORS:          cs.Handler,
		PreAuthLimits: rl.Handler,
		Authn:         g.Require,
	}.Handler(jwtOK), v
}

// stackVerifier is the stack's verifier as c configures it.
func stackVerifier(b testing.TB, c stackConfig) *jwt.Verifier {
	b.Helper()
	key, err := jwt.NewHMACKey("", jwt.HS256, jwtSecret)
	if err != nil {
		b.Fatal(err)
	}
	opts := jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"bench"}, Audience: []string{"api"}, CacheSize: c.cacheSize}
	if c.revocation {
		st := memstore.New(memstore.Options{})
		b.Cleanup(func() { _ = st.Close() })
		opts.Store = st
	}
	v, err := jwt.NewVerifier(opts)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// zipfTokens is the number of distinct tokens of the Zipf10k mix.
const zipfTokens = 10_000

var (
	stackTokensOnce sync.Once
	stackTokenSet   []string
	zipfSeq         []uint16
)

// stackTokens returns zipfTokens distinct tokens (the peers' claims plus
// a jti and a sid of their own) and a sequence of 1<<16 indexes into
// them, Zipf-distributed (s = 1.01: the most popular token is asked for
// 11% of the time, the top 100 54%, the top 1,000 77%; 7,385 distinct
// tokens appear in the sequence), the same for every benchmark of the
// run.
func stackTokens(b testing.TB) ([]string, []uint16) {
	b.Helper()
	stackTokensOnce.Do(func() {
		stackTokenSet = make([]string, zipfTokens)
		for i := range stackTokenSet {
			stackTokenSet[i] = jwtTokenWith(b, gjwt.MapClaims{"jti": fmt.Sprintf("jti-%05d-5717-4562", i), "sid": fmt.Sprintf("sid-%05d-MTIzNDU2", i)})
		}
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.01, 1, zipfTokens-1)
		zipfSeq = make([]uint16, 1<<16)
		for i := range zipfSeq {
			zipfSeq[i] = uint16(z.Uint64())
		}
	})
	return stackTokenSet, zipfSeq
}

func stackRequest(tok string) *http.Request {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Authorization", "Bearer "+tok)
	r.RemoteAddr = "203.0.113.7:5555"
	return r
}

// runStackBench serves one request per iteration, every time with the
// first token of stackTokens. Like the peers' benchmark it gives every
// response a fresh header map of capacity 8 (as a server would give it a
// fresh map), so map growth from the headers each stack sets is part of
// the cost; with reuse set the map is cleared instead, which isolates the
// middleware's own work.
func runStackBench(b *testing.B, h http.Handler, reuse ...bool) {
	toks, _ := stackTokens(b)
	hm := freshMap
	if len(reuse) > 0 && reuse[0] {
		hm = clearMap
	}
	serveLoop(b, h, stackRequest(toks[0]), &testhttp.NopWriter{H: http.Header{}}, hm, func(w *testhttp.NopWriter) { wantOK(b, w) })
}

// runStackZipf serves the Zipf10k mix: one request per iteration, its
// token drawn from stackTokens' sequence. Every token is served once
// before the timer starts (and must pass), so the cache starts warm, as
// it is in a server that has run for a while.
func runStackZipf(b *testing.B, h http.Handler) {
	toks, seq := stackTokens(b)
	reqs := make([]*http.Request, len(toks))
	w := &testhttp.NopWriter{H: http.Header{}}
	for i, tok := range toks {
		reqs[i] = stackRequest(tok)
		w.H, w.Code = make(http.Header, 8), 0
		h.ServeHTTP(w, reqs[i])
		wantOK(b, w)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		w.H, w.Code = make(http.Header, 8), 0
		h.ServeHTTP(w, reqs[seq[i&(len(seq)-1)]])
		i++
	}
	wantOK(b, w)
}

// zipfHitRate is the share of the Zipf10k mix a verifier configured as c
// answers from its cache (a hit returns the cached, shared principal),
// measured on a verifier of its own after serving every token once, as
// runStackZipf does. The cache is seeded per verifier, so this is the
// rate of another placement of the same tokens: an estimate.
func zipfHitRate(b *testing.B, c stackConfig) float64 {
	toks, seq := stackTokens(b)
	v := stackVerifier(b, c)
	last := make([]*authn.Principal, len(toks))
	verify := func(i uint16) (hit bool) {
		p, err := v.Verify(b.Context(), toks[i])
		if err != nil {
			b.Fatal(err)
		}
		hit = p == last[i]
		last[i] = p
		return hit
	}
	for i := range toks {
		verify(uint16(i))
	}
	hits := 0
	for _, i := range seq {
		if verify(i) {
			hits++
		}
	}
	return float64(hits) / float64(len(seq))
}

// benchStack runs the three ways of one Bulwark stack.
func benchStack(b *testing.B, c stackConfig) {
	b.Run("CacheHits", func(b *testing.B) {
		h, _ := bulwarkStackWith(b, c)
		runStackBench(b, h)
	})
	b.Run("CacheOff", func(b *testing.B) {
		off := c
		off.cacheSize = -1
		h, _ := bulwarkStackWith(b, off)
		runStackBench(b, h)
	})
	b.Run("Zipf10k", func(b *testing.B) {
		h, _ := bulwarkStackWith(b, c)
		runStackZipf(b, h)
		b.ReportMetric(100*zipfHitRate(b, c), "cache-hit-%")
	})
}

func BenchmarkStack_PeerStitched(b *testing.B) {
	b.Run("OneToken", func(b *testing.B) { runStackBench(b, stitchedStack()) })
	b.Run("Zipf10k", func(b *testing.B) { runStackZipf(b, stitchedStack()) })
}
func BenchmarkStack_Bulwark(b *testing.B)           { benchStack(b, stackConfig{}) }
func BenchmarkStack_BulwarkRevocation(b *testing.B) { benchStack(b, stackConfig{revocation: true}) }
func BenchmarkStack_BulwarkPeerHeaders(b *testing.B) {
	benchStack(b, stackConfig{revocation: true, peerHeaders: true})
}
func BenchmarkStack_BareHeaderMapReset(b *testing.B) { runStackBench(b, jwtOK) }
