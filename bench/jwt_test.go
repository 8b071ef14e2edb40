package bench

// JWT verification in a middleware, against the peers Go users stitch
// today: golang-jwt in the typical hand-written middleware (as in
// ../shared/bench/peers/stack_test.go jwtMW) and go-chi/jwtauth (jwx).
//
//	go test -run '^$' -bench 'JWT' -benchmem
//
// Bulwark variants: uncached (every request parses and verifies), cached
// (a repeated token: every request is a cache hit, the best case), and
// cached with the revocation denylist in a memstore (two store lookups
// per request: the jti, then the sid). "InStack" variants attach, on
// every request and inside the timed loop, the request state the
// client-identity guard attaches first in the real pipeline (a context
// and a request copy, what the peer's context.WithValue costs it), and
// the guard then records the principal into it; the other variants let
// the guard attach it itself.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/jwtauth/v5"
	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/testhttp"
	"github.com/bulwark-go/bulwark/store/memstore"
)

var jwtSecret = []byte("0123456789abcdef0123456789abcdef")

func jwtToken(b testing.TB) string { return jwtTokenWith(b, nil) }

// jwtTokenWith is the peers' token plus extra claims.
func jwtTokenWith(b testing.TB, extra gjwt.MapClaims) string {
	b.Helper()
	c := gjwt.MapClaims{
		"sub": "alice", "role": "admin", "iss": "bench", "aud": "api",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}
	for k, v := range extra {
		c[k] = v
	}
	t := gjwt.NewWithClaims(gjwt.SigningMethodHS256, c)
	s, err := t.SignedString(jwtSecret)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

type jwtCtxKey struct{}

// jwtPeerMW is golang-jwt as users typically write it (peers' jwtMW).
func jwtPeerMW(next http.Handler) http.Handler {
	p := gjwt.NewParser(gjwt.WithValidMethods([]string{"HS256"}), gjwt.WithIssuer("bench"), gjwt.WithAudience("api"), gjwt.WithExpirationRequired())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ") {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		tok, err := p.Parse(h[7:], func(*gjwt.Token) (any, error) { return jwtSecret, nil })
		if err != nil || !tok.Valid {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jwtCtxKey{}, tok.Claims)))
	})
}

func jwtauthMW(next http.Handler) http.Handler {
	ta := jwtauth.New("HS256", jwtSecret, nil)
	return jwtauth.Verifier(ta)(jwtauth.Authenticator(ta)(next))
}

func bulwarkJWT(b *testing.B, cacheSize int, withStore bool) http.Handler {
	b.Helper()
	key, err := jwt.NewHMACKey("", jwt.HS256, jwtSecret)
	if err != nil {
		b.Fatal(err)
	}
	opts := jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"bench"}, Audience: []string{"api"}, CacheSize: cacheSize}
	if withStore {
		st := memstore.New(memstore.Options{})
		b.Cleanup(func() { _ = st.Close() })
		opts.Store = st
	}
	v, err := jwt.NewVerifier(opts)
	if err != nil {
		b.Fatal(err)
	}
	g, err := authn.New(authn.Options{Authenticator: v})
	if err != nil {
		b.Fatal(err)
	}
	return g.Require(jwtOK)
}

var jwtOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })

func runJWT(b *testing.B, h http.Handler, inStack bool) { runJWTToken(b, h, inStack, jwtToken(b)) }

func runJWTToken(b *testing.B, h http.Handler, inStack bool, tok string) {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if inStack {
		h = withState(h)
	}
	serveLoop(b, h, r, &testhttp.NopWriter{H: http.Header{}}, keepMap, func(w *testhttp.NopWriter) { wantOK(b, w) })
}

// withState attaches a fresh request state to every request before next,
// as the client-identity guard does first in the real pipeline, so that
// the InStack variants pay for it in the timed loop.
func withState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := reqctx.New(r.Context())
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// wantOK fails b unless w got a 200.
func wantOK(b *testing.B, w *testhttp.NopWriter) {
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
}

func BenchmarkJWT_PeerGolangJWT(b *testing.B) { runJWT(b, jwtPeerMW(jwtOK), false) }
func BenchmarkJWT_PeerJwtauth(b *testing.B)   { runJWT(b, jwtauthMW(jwtOK), false) }
func BenchmarkJWT_BulwarkUncached(b *testing.B) {
	runJWT(b, bulwarkJWT(b, -1, false), false)
}
func BenchmarkJWT_BulwarkCached(b *testing.B) { runJWT(b, bulwarkJWT(b, 0, false), false) }
func BenchmarkJWT_BulwarkUncachedInStack(b *testing.B) {
	runJWT(b, bulwarkJWT(b, -1, false), true)
}
func BenchmarkJWT_BulwarkCachedInStack(b *testing.B) { runJWT(b, bulwarkJWT(b, 0, false), true) }

// The token carries a jti and a session (sid): every request, cached or
// not, asks the revocation store (memstore here) about both.
func BenchmarkJWT_BulwarkCachedRevocationInStack(b *testing.B) {
	runJWTToken(b, bulwarkJWT(b, 0, true), true, jwtTokenWith(b, gjwt.MapClaims{"jti": "3fa85f64-5717-4562", "sid": "b3JkZXItMTIzNDU2"}))
}

// Verification alone, without the HTTP plumbing.
func BenchmarkJWTVerify_PeerGolangJWT(b *testing.B) {
	tok := jwtToken(b)
	p := gjwt.NewParser(gjwt.WithValidMethods([]string{"HS256"}), gjwt.WithIssuer("bench"), gjwt.WithAudience("api"), gjwt.WithExpirationRequired())
	kf := func(*gjwt.Token) (any, error) { return jwtSecret, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(tok, kf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, cacheSize int) {
	tok := jwtToken(b)
	key, _ := jwt.NewHMACKey("", jwt.HS256, jwtSecret)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"bench"}, Audience: []string{"api"}, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJWTVerify_BulwarkUncached(b *testing.B) { benchVerify(b, -1) }
func BenchmarkJWTVerify_BulwarkCached(b *testing.B)   { benchVerify(b, 0) }
