package ratelimit_test

// The in-memory limiter's throughput per algorithm, beside its peers', is
// measured in the bench module (BenchmarkLimiter_*); this is the HTTP
// decision alone, keyed by the identity guard's client IP.

import (
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/ratelimit"
)

func BenchmarkDecideByIP(b *testing.B) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).By(ratelimit.ByIP())}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	ctx, st := reqctx.New(r.Context())
	st.ClientIP = mustAddr("203.0.113.7")
	r = r.WithContext(ctx)
	b.ReportAllocs()
	for b.Loop() {
		lim.Decide(r)
	}
}
