package ratelimit_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/ratelimit"
)

const benchKeys = 100_000

var keys = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	return k
}()

func benchLimiter(b *testing.B, l ratelimit.Limit) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lim.Allow(ctx, keys[n.Add(1)%benchKeys])
		}
	})
}

func BenchmarkMemoryGCRA(b *testing.B) {
	benchLimiter(b, ratelimit.GCRA(1<<30, time.Minute, 1<<30).By(ratelimit.Global()))
}
func BenchmarkMemoryTokenBucket(b *testing.B) {
	benchLimiter(b, ratelimit.TokenBucket(1<<30, 1<<20).By(ratelimit.Global()))
}
func BenchmarkMemoryFixed(b *testing.B) {
	benchLimiter(b, ratelimit.FixedWindow(1<<30, time.Minute).By(ratelimit.Global()))
}
func BenchmarkMemorySliding(b *testing.B) {
	benchLimiter(b, ratelimit.SlidingWindow(5, time.Minute).By(ratelimit.Global()))
}

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
