package jwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/store/memstore"
)

type allocRW struct {
	h    http.Header
	code int
}

func (w *allocRW) Header() http.Header         { return w.h }
func (w *allocRW) Write(p []byte) (int, error) { return len(p), nil }
func (w *allocRW) WriteHeader(c int)           { w.code = c }

// TestVerifyAllocations pins the allocations of the verification hot
// paths (the bench module's JWT benchmarks, without timing): a cached
// token, with or without the revocation lookup, allocates nothing, through
// the guard in the pipeline too; an uncached one at most 18 times (the
// race detector adds a few).
func TestVerifyAllocations(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	mk := func(extra gjwt.MapClaims) string {
		c := gjwt.MapClaims{"sub": "alice", "role": "admin", "iss": "bench", "aud": "api", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
		for k, v := range extra {
			c[k] = v
		}
		s, _ := gjwt.NewWithClaims(gjwt.SigningMethodHS256, c).SignedString(secret)
		return s
	}
	key, _ := jwt.NewHMACKey("", jwt.HS256, secret)
	uncached := 18.0
	if raceEnabled {
		uncached = 22
	}
	for _, tc := range []struct {
		name  string
		cache int
		store bool
		tok   string
		max   float64
	}{
		{"uncached", -1, false, mk(nil), uncached},
		{"cached", 0, false, mk(nil), 0},
		{"cached+revocation", 0, true, mk(gjwt.MapClaims{"jti": "3fa85f64-5717-4562", "sid": "b3JkZXItMTIzNDU2"}), 0},
	} {
		opts := jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"bench"}, Audience: []string{"api"}, CacheSize: tc.cache}
		if tc.store {
			st := memstore.New(memstore.Options{})
			t.Cleanup(func() { _ = st.Close() })
			opts.Store = st
		}
		v, err := jwt.NewVerifier(opts)
		if err != nil {
			t.Fatal(err)
		}
		verify := minAllocs(func() { _, _ = v.Verify(context.Background(), tc.tok) })
		g, _ := authn.New(authn.Options{Authenticator: v})
		h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
		r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
		r.Header.Set("Authorization", "Bearer "+tc.tok)
		ctx, _ := reqctx.New(r.Context())
		r = r.WithContext(ctx)
		w := &allocRW{h: http.Header{}}
		stack := minAllocs(func() { h.ServeHTTP(w, r) })
		if w.code != 200 {
			t.Fatal(w.code)
		}
		if verify > tc.max || stack > tc.max {
			t.Errorf("%s: %.0f allocations in Verify, %.0f through the guard; want at most %.0f", tc.name, verify, stack, tc.max)
		}
	}
}

// minAllocs is the fewest allocations per call over a few measurements.
// Under the race detector sync.Pool drops a random quarter of what is put
// back (and a GC empties it), so one measurement of a path that pools
// buffers varies from run to run; the fewest is its cost.
func minAllocs(f func()) float64 {
	least := testing.AllocsPerRun(50, f)
	for range 4 {
		least = min(least, testing.AllocsPerRun(50, f))
	}
	return least
}
