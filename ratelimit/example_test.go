package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
)

// The login limit of the demo: 5 attempts per client IP per 5 minutes; the
// 6th gets 429 with Retry-After and the RateLimit headers.
func Example() {
	login, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP()),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := login.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	for i := 1; i <= 6; i++ {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = "203.0.113.7:51234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(i, w.Code, w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"), "retry:"+w.Header().Get("Retry-After"))
	}
	// Output:
	// 1 200 "login";q=5;w=300 "login";r=4;t=300 retry:
	// 2 200 "login";q=5;w=300 "login";r=3;t=300 retry:
	// 3 200 "login";q=5;w=300 "login";r=2;t=300 retry:
	// 4 200 "login";q=5;w=300 "login";r=1;t=300 retry:
	// 5 200 "login";q=5;w=300 "login";r=0;t=300 retry:
	// 6 429 "login";q=5;w=300 "login";r=0;t=300 retry:300
}

// Every /api/* route: a token bucket of 100 refilled at 10 per second, per
// principal when the caller is authenticated, else per client IP — so the
// limiter goes after (optional) authentication.
func ExampleTokenBucket() {
	api, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.ByPrincipal())},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(api.Limits()[0], api.Limits()[0].Interval())
	// Output: api: token_bucket 100 per 10s by principal 100ms
}

// Two limits on one key, decided together outside HTTP: a refusal by the
// burst limit does not use up the daily quota. Allow takes the key from
// its caller; each limit still says what it counts by, for Handler.
func ExampleLimiter_Allow() {
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.GCRA(1, time.Second, 3).Named("burst").By(ratelimit.ByPrincipal()),
			ratelimit.FixedWindow(1000, 24*time.Hour).Named("daily").By(ratelimit.ByPrincipal()),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for range 4 {
		d, _ := lim.Allow(ctx, "customer-42")
		fmt.Println(d.Allowed, d.Policy, d.Remaining)
	}
	// Output:
	// true burst 2
	// true burst 1
	// true burst 0
	// false burst 0
}

// Weighted requests: an export costs 10 units of a 100-unit bucket.
func ExampleOptions_cost() {
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 1).By(ratelimit.ByAPIKey("X-API-Key"))},
		Cost: func(r *http.Request) int {
			if r.URL.Path == "/api/export" {
				return 10
			}
			return 1
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/export", nil)
	r.Header.Set("X-API-Key", "demo-read-key-0001")
	d, _ := lim.Decide(r)
	fmt.Println(d.Allowed, d.Remaining)
	// Output: true 90
}

// Keys have a text form for configuration files.
func ExampleParseKey() {
	k, err := ratelimit.ParseKey("route+ip")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k)
	_, err = ratelimit.ParseKey("cookie:session")
	fmt.Println(err != nil)
	// Output:
	// route+ip
	// true
}

// unreachable is a Store whose Redis does not answer.
type unreachable struct{}

func (unreachable) Bind([]ratelimit.Limit) (ratelimit.Bound, error) { return unreachable{}, nil }
func (unreachable) Take(context.Context, []string, int, []ratelimit.Result) error {
	return &store.UnavailableError{Op: "ratelimit", Err: errors.New("connection refused")}
}

// A Store outage is counted, decision by decision, and recorded once: one
// audit event (a log line on slog.Default() when there is no sink) for
// 100 decisions made by the Outage policy.
func ExampleLimiter_StoreHealth() {
	events := audit.NewMemory()
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.Global())},
		Store:  unreachable{}, // e.g. a redislimit.Store
		Audit:  events,
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 100 {
		_, _ = lim.Allow(context.Background(), "k")
	}
	h := lim.StoreHealth()
	fmt.Println(h.Degraded, h.Errors, h.Outage)
	for _, e := range events.Events() {
		fmt.Println(e.Guard, e.Decision, e.Reason)
	}
	// Output:
	// true 100 fallback_local
	// ratelimit flag ratelimit_fallback_local
}
