package migrate

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/httprate"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
)

// The peer's key functions users migrate from; httprate v0.16 deprecates both.
var (
	//lint:ignore SA1019 the guide migrates users off it
	keyByIP = httprate.KeyByIP
	//lint:ignore SA1019 the guide migrates users off it
	keyByRealIP = httprate.KeyByRealIP
)

func limiter(t *testing.T, o ratelimit.Options) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fromAddr(addr string, headers ...string) func() *http.Request {
	return func() *http.Request {
		r := req("GET", "https://api.example.com/items", headers...)
		r.RemoteAddr = addr + ":40000"
		return r
	}
}

// TestHTTPRate proves docs/migrate/httprate.md: 3 requests a minute per
// client IP with go-chi/httprate and with package ratelimit, on the same
// requests.
func TestHTTPRate(t *testing.T) {
	limit := ratelimit.SlidingWindow(3, time.Minute).By(ratelimit.ByIP())

	t.Run("same: three admitted, the fourth refused, other IPs unaffected", func(t *testing.T) {
		peer := httprate.LimitBy(3, time.Minute, keyByIP)(ok)
		bw := limiter(t, ratelimit.Options{Limits: []ratelimit.Limit{limit}, LegacyHeaders: true}).Handler(ok)
		for i := 1; i <= 3; i++ {
			p, b := both(peer, bw, fromAddr("198.51.100.7"))
			wantStatus(t, "httprate", p, 200)
			wantStatus(t, "bulwark", b, 200)
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining"} {
				if p.Header().Get(h) != b.Header().Get(h) {
					t.Errorf("request %d: %s: httprate %q, bulwark %q", i, h, p.Header().Get(h), b.Header().Get(h))
				}
			}
		}
		p, b := both(peer, bw, fromAddr("198.51.100.7"))
		wantStatus(t, "httprate", p, 429)
		wantHeader(t, "httprate", p, "Retry-After", "60")
		wantProblem(t, "bulwark", b, 429)
		wantHeader(t, "bulwark", b, "Retry-After", "60")
		if b.Header().Get("RateLimit-Policy") == "" || b.Header().Get("RateLimit") == "" {
			t.Errorf("bulwark: no IETF RateLimit headers: %v", b.Header())
		}
		p, b = both(peer, bw, fromAddr("198.51.100.8"))
		wantStatus(t, "httprate, another IP", p, 200)
		wantStatus(t, "bulwark, another IP", b, 200)
	})

	// KeyByRealIP believes True-Client-IP, X-Real-IP and X-Forwarded-For
	// from anyone; Bulwark believes X-Forwarded-For from trusted proxies only.
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("differs: a client rotating X-Forwarded-For", func(t *testing.T) {
		peer := httprate.LimitBy(3, time.Minute, keyByRealIP)(ok)
		bw := id.Handler(limiter(t, ratelimit.Options{Limits: []ratelimit.Limit{limit}}).Handler(ok))
		var pOK, bOK int
		for i := range 10 {
			p, b := both(peer, bw, fromAddr("203.0.113.9", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1)))
			if p.Code == 200 {
				pOK++
			}
			if b.Code == 200 {
				bOK++
			}
		}
		if pOK != 10 || bOK != 3 {
			t.Errorf("admitted of 10: httprate %d (want 10), bulwark %d (want 3)", pOK, bOK)
		}
	})
	t.Run("differs: a client locking out a victim with X-Real-IP", func(t *testing.T) {
		peer := httprate.LimitBy(3, time.Minute, keyByRealIP)(ok)
		bw := id.Handler(limiter(t, ratelimit.Options{Limits: []ratelimit.Limit{limit}}).Handler(ok))
		for range 3 {
			both(peer, bw, fromAddr("203.0.113.9", "X-Real-IP", "198.51.100.7"))
		}
		p, b := both(peer, bw, fromAddr("198.51.100.7"))
		wantStatus(t, "httprate, the victim", p, 429)
		wantStatus(t, "bulwark, the victim", b, 200)
	})
	t.Run("same: behind a trusted proxy", func(t *testing.T) {
		// The peer's documented replacement is a trusted-proxy resolver in
		// front; here both key by the address the proxy appended.
		bw := id.Handler(limiter(t, ratelimit.Options{Limits: []ratelimit.Limit{limit}}).Handler(ok))
		peer := httprate.LimitBy(3, time.Minute, keyByRealIP)(ok)
		for i := 1; i <= 4; i++ {
			want := 200
			if i == 4 {
				want = 429
			}
			p, b := both(peer, bw, fromAddr("10.0.0.1", "X-Forwarded-For", "198.51.100.7"))
			wantStatus(t, "httprate", p, want)
			wantStatus(t, "bulwark", b, want)
		}
	})
}

// TestHTTPRateReplicas proves the "replicas" rows of docs/migrate/httprate.md
// against the Redis at 127.0.0.1:6379 (REDIS_URL), under a prefix of its own:
// two replicas of package ratelimit sharing redislimit enforce one limit,
// where two httprate limiters with their default in-memory counter each
// enforce their own. (github.com/go-chi/httprate-redis, the peer's shared
// counter, is not served by the Go module proxy this module builds from.)
// It fails rather than skips under CI=true when Redis is missing.
func TestHTTPRateReplicas(t *testing.T) {
	client := testredis.Client(t)
	st, err := redislimit.New(redislimit.Options{Client: client, Prefix: testredis.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	limit := ratelimit.SlidingWindow(3, time.Minute).By(ratelimit.ByIP())
	opts := ratelimit.Options{Limits: []ratelimit.Limit{limit}, Store: st, Outage: ratelimit.FailClosed}
	bw := []http.Handler{limiter(t, opts).Handler(ok), limiter(t, opts).Handler(ok)}
	peer := []http.Handler{httprate.LimitBy(3, time.Minute, keyByIP)(ok), httprate.LimitBy(3, time.Minute, keyByIP)(ok)}
	var pOK, bOK int
	for i := range 6 {
		if serve(peer[i%2], fromAddr("198.51.100.7")()).Code == 200 {
			pOK++
		}
		if serve(bw[i%2], fromAddr("198.51.100.7")()).Code == 200 {
			bOK++
		}
	}
	if pOK != 6 || bOK != 3 {
		t.Errorf("admitted of 6 across two replicas: httprate in memory %d (want 6), bulwark with Redis %d (want 3)", pOK, bOK)
	}
}
