package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The demo's login limit: 5 attempts per client IP per 5 minutes, the 6th
// refused with 429, Retry-After, the RateLimit headers and a problem body.
func TestLoginLimit(t *testing.T) {
	clk := testclock.New(epochHour)
	sink := audit.NewMemory()
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())},
		Now:    clk.Now, Audit: sink, LegacyHeaders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := lim.Handler(ok)
	for i := range 5 {
		clk.Set(epochHour.Add(time.Duration(i) * time.Second))
		w := serve(h, request("203.0.113.7", ""))
		if w.Code != http.StatusOK {
			t.Fatalf("attempt %d: %d", i+1, w.Code)
		}
		if got := w.Header().Get("RateLimit-Policy"); got != `"login";q=5;w=300` {
			t.Fatalf("RateLimit-Policy = %q", got)
		}
		want := `"login";r=` + string(rune('4'-i)) + `;t=300`
		if got := w.Header().Get("RateLimit"); got != want {
			t.Fatalf("attempt %d: RateLimit = %q, want %q", i+1, got, want)
		}
	}
	clk.Set(epochHour.Add(10 * time.Second))
	w := serve(h, request("203.0.113.7", ""))
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d", w.Code)
	}
	// The first attempt (at 0s) leaves the window at 300s: 290s from now.
	for name, want := range map[string]string{
		"Retry-After":           "290",
		"Content-Type":          problem.ContentType,
		"RateLimit-Policy":      `"login";q=5;w=300`,
		"RateLimit":             `"login";r=0;t=294`,
		"X-RateLimit-Limit":     "5",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     "294",
	} {
		if got := w.Header().Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["type"] != problem.TypeRateLimited || body["status"] != 429.0 || body["policy"] != "login" || body["retry_after"] != 290.0 {
		t.Fatalf("body = %v", body)
	}
	if strings.Contains(w.Body.String(), "203.0.113.7") {
		t.Fatal("the body reveals the key")
	}
	ev := sink.Events()
	if len(ev) != 1 || ev[0].Reason != "rate_limited" || ev[0].Guard != "ratelimit" || ev[0].Decision != audit.Deny || ev[0].Status != 429 {
		t.Fatalf("audit events = %+v", ev)
	}
	// Another client is not affected.
	if w := serve(h, request("203.0.113.8", "")); w.Code != http.StatusOK {
		t.Fatalf("other client: %d", w.Code)
	}
	// Five minutes after the first attempt, one more is allowed.
	clk.Set(epochHour.Add(5 * time.Minute))
	if w := serve(h, request("203.0.113.7", "")); w.Code != http.StatusOK {
		t.Fatalf("after the window: %d", w.Code)
	}
}

// The demo's /api/* limit: a token bucket of 100 refilled at 10/s, per
// principal when authenticated, else per IP.
func TestAPIBucketByPrincipal(t *testing.T) {
	clk := testclock.New(epochHour)
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.ByPrincipal())},
		Now:    clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := lim.Handler(ok)
	for i := range 100 {
		if w := serve(h, request("203.0.113.7", "alice")); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := serve(h, request("203.0.113.7", "alice"))
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || w.Header().Get("RateLimit") != `"api";r=0;t=10` {
		t.Fatalf("101st: %d %v", w.Code, w.Header())
	}
	// Same IP, anonymous: its own bucket.
	if w := serve(h, request("203.0.113.7", "")); w.Code != 200 || w.Header().Get("RateLimit") != `"api";r=99;t=1` {
		t.Fatalf("anonymous from the same IP: %d %v", w.Code, w.Header())
	}
	clk.Set(epochHour.Add(100 * time.Millisecond))
	if w := serve(h, request("203.0.113.7", "alice")); w.Code != 200 {
		t.Fatalf("after 100ms: %d", w.Code)
	}
}

func TestHeaderModes(t *testing.T) {
	for _, tc := range []struct {
		mode                 ratelimit.HeaderMode
		onAllowed, onRefused bool
	}{{ratelimit.HeadersAlways, true, true}, {ratelimit.HeadersOnDeny, false, true}, {ratelimit.HeadersNever, false, false}} {
		lim, err := ratelimit.New(ratelimit.Options{
			Limits:  []ratelimit.Limit{ratelimit.FixedWindow(1, time.Hour).By(ratelimit.ByIP())},
			Headers: tc.mode,
		})
		if err != nil {
			t.Fatal(err)
		}
		h := lim.Handler(ok)
		w := serve(h, request("203.0.113.7", ""))
		if got := w.Header().Get("RateLimit") != ""; got != tc.onAllowed || w.Header().Get("X-RateLimit-Limit") != "" {
			t.Errorf("%v: headers on allowed = %v", tc.mode, got)
		}
		w = serve(h, request("203.0.113.7", ""))
		if got := w.Header().Get("RateLimit-Policy") != ""; got != tc.onRefused || w.Code != 429 || w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: headers on refused = %v (%d)", tc.mode, got, w.Code)
		}
	}
}

func TestErrorHandlerAndCost(t *testing.T) {
	var got *problem.Problem
	sink := audit.NewMemory()
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(10, 1).By(ratelimit.ByIP())},
		Cost: func(r *http.Request) int {
			if r.Method == http.MethodPost {
				return 4
			}
			if r.Method == http.MethodDelete {
				return 11
			}
			return 0 // counts as 1
		},
		Audit: sink,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
			got = p
			w.WriteHeader(p.Status)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := lim.Handler(ok)
	post := func() int { return serve(h, request("203.0.113.7", "")).Code }
	get := func() int {
		r := request("203.0.113.7", "")
		r.Method = http.MethodGet
		return serve(h, r).Code
	}
	for i, f := range []func() int{post, post, get, get} { // 4 + 4 + 1 + 1 units
		if code := f(); code != 200 {
			t.Fatalf("request %d: %d; 10 units should pass", i, code)
		}
	}
	if post() != 429 || got == nil || got.Reason != "rate_limited" || !errors.Is(got, ratelimit.ErrLimited) {
		t.Fatalf("11th unit: %+v", got)
	}
	r := request("203.0.113.9", "")
	r.Method = http.MethodDelete
	got = nil
	if w := serve(h, r); w.Code != 413 || got == nil || got.Reason != "cost_exceeds_limit" || !errors.Is(got, ratelimit.ErrCostExceedsLimit) {
		t.Fatalf("cost 11 of 10: %d %+v", w.Code, got)
	}
	if n := len(sink.Events()); n != 2 {
		t.Fatalf("%d audit events, want 2", n)
	}
}

// failingStore is a Store whose decisions fail like an unreachable Redis.
type failingStore struct{ calls atomic.Int64 }

func (f *failingStore) Bind([]ratelimit.Limit) (ratelimit.Bound, error) { return f, nil }
func (f *failingStore) Take(context.Context, []string, int, []ratelimit.Result) error {
	f.calls.Add(1)
	return &store.UnavailableError{Op: "test", Err: errors.New("connection refused")}
}

func TestOutagePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy ratelimit.Outage
		codes  []int // 3 requests against a limit of 2
	}{
		{ratelimit.FallbackLocal, []int{200, 200, 429}},
		{ratelimit.FailOpen, []int{200, 200, 200}},
		{ratelimit.FailClosed, []int{503, 503, 503}},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			st := &failingStore{}
			var seen atomic.Int64
			sink := audit.NewMemory()
			lim, err := ratelimit.New(ratelimit.Options{
				Limits:       []ratelimit.Limit{ratelimit.FixedWindow(2, time.Hour).By(ratelimit.ByIP())},
				Store:        st,
				Outage:       tc.policy,
				OnStoreError: func(err error) { seen.Add(1) },
				Audit:        sink,
			})
			if err != nil {
				t.Fatal(err)
			}
			h := lim.Handler(ok)
			for i, want := range tc.codes {
				w := serve(h, request("203.0.113.7", ""))
				if w.Code != want {
					t.Fatalf("request %d: %d, want %d", i, w.Code, want)
				}
				switch w.Code {
				case 503:
					if w.Header().Get("Retry-After") != "5" || w.Header().Get("Content-Type") != problem.ContentType {
						t.Fatalf("503 headers: %v", w.Header())
					}
				case 200:
					if tc.policy == ratelimit.FailOpen && w.Header().Get("RateLimit") != "" {
						t.Fatal("fail-open decisions know no quota, yet sent RateLimit")
					}
				}
			}
			if st.calls.Load() != 3 || seen.Load() != 3 {
				t.Fatalf("store calls %d, OnStoreError %d", st.calls.Load(), seen.Load())
			}
			d, err := lim.Decide(request("203.0.113.8", ""))
			if !d.Degraded {
				t.Fatalf("decision not marked degraded: %+v", d)
			}
			if (tc.policy == ratelimit.FailClosed) != (err != nil) || err != nil && !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Decide error %v under %v", err, tc.policy)
			}
			ev := sink.Events()
			// The first failure: one event, naming the policy that decides
			// from then on; then one per refusal.
			if want := "ratelimit_" + tc.policy.String(); len(ev) == 0 || ev[0].Reason != want || ev[0].Decision != audit.Flag {
				t.Fatalf("first audit event %+v, want a flag %s", ev, want)
			}
			for _, e := range ev[1:] {
				if want := map[int]string{503: "ratelimit_unavailable", 429: "rate_limited"}[e.Status]; e.Reason != want {
					t.Fatalf("audit %+v", e)
				}
			}
		})
	}
}

// TestKeylessLimit: New refuses a limit that does not say what it counts
// by, naming the fix, instead of a panic when the routes are wired.
func TestKeylessLimit(t *testing.T) {
	_, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.GCRA(1, time.Second, 1)}})
	if err == nil || !strings.Contains(err.Error(), "Key is required") || !strings.Contains(err.Error(), "Global()") {
		t.Fatalf("New: %v", err)
	}
}

// TestGlobalKey: Global counts every client in one bucket.
func TestGlobalKey(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(2, time.Minute).By(ratelimit.Global())}})
	if err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"203.0.113.1", "198.51.100.2", "2001:db8::3"} {
		_, p := lim.Check(request(ip, ""))
		if (p == nil) != (i < 2) {
			t.Fatalf("request %d from %s: %v", i, ip, p)
		}
		if p != nil && (p.Status != 429 || p.Reason != "rate_limited") {
			t.Fatalf("refusal %+v", p)
		}
	}
	if k, err := ratelimit.ParseKey("global+ip"); err != nil || k.String() != "global+ip" {
		t.Fatalf("ParseKey: %v %v", k, err)
	}
}

func TestOptionsValidation(t *testing.T) {
	ip := ratelimit.ByIP()
	for _, tc := range []struct {
		name string
		opts ratelimit.Options
		want string
	}{
		{"no limits", ratelimit.Options{}, "Limits is empty"},
		{"no algorithm", ratelimit.Options{Limits: []ratelimit.Limit{{Limit: 1, Window: time.Second}}}, "Algorithm is required"},
		{"zero limit", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(0, time.Second).By(ratelimit.Global())}}, "at least 1"},
		{"zero window", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, 0).By(ratelimit.Global())}}, "Window must be positive"},
		{"zero refill", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.TokenBucket(10, 0).By(ratelimit.Global())}}, "refill rate must be positive"},
		{"huge window", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, 400*24*time.Hour).By(ratelimit.Global())}}, "must not exceed"},
		{"huge sliding log", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5000, time.Hour).By(ratelimit.Global())}}, "use ratelimit.GCRA"},
		{"unnamed pair", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).By(ip), ratelimit.FixedWindow(2, time.Hour).By(ip)}}, "needs a Name"},
		{"duplicate names", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).Named("a").By(ratelimit.Global()), ratelimit.FixedWindow(2, time.Hour).Named("a").By(ratelimit.Global())}}, "unique"},
		{"bad name", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).Named(`a"b`).By(ratelimit.Global())}}, "letters, digits"},
		{"negative max keys", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).By(ratelimit.Global())}, MaxKeys: -1}, "MaxKeys"},
		{"unknown outage", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).By(ratelimit.Global())}, Outage: 9}, "Outage"},
		{"negative max memory", ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Second).By(ratelimit.Global())}, MaxMemory: -1}, "MaxMemory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ratelimit.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestTextForms(t *testing.T) {
	for _, s := range []string{"token_bucket", "gcra", "sliding_window", "fixed_window"} {
		var a ratelimit.Algorithm
		if err := a.UnmarshalText([]byte(s)); err != nil || a.String() != s {
			t.Errorf("%s: %v %v", s, a, err)
		}
	}
	var a ratelimit.Algorithm
	if a.UnmarshalText([]byte("leaky")) == nil {
		t.Error("unknown algorithm accepted")
	}
	for _, s := range []string{"fallback_local", "fail_open", "fail_closed"} {
		var o ratelimit.Outage
		if err := o.UnmarshalText([]byte(s)); err != nil || o.String() != s {
			t.Errorf("%s: %v %v", s, o, err)
		}
	}
	var m ratelimit.HeaderMode
	if err := m.UnmarshalText([]byte("on-deny")); err != nil || m != ratelimit.HeadersOnDeny {
		t.Errorf("on-deny: %v %v", m, err)
	}
	// A limit decodes from configuration.
	var l ratelimit.Limit
	if err := json.Unmarshal([]byte(`{"name":"login","algorithm":"sliding_window","limit":5,"window":300000000000,"key":"route+ip"}`), &l); err != nil {
		t.Fatal(err)
	}
	if l.String() != "login: sliding_window 5 per 5m0s by route+ip" {
		t.Fatalf("decoded %s", l)
	}
}

// A configuration whose in-process state could outgrow MaxMemory is refused
// at construction with a message saying how to fit: the 1 GiB sliding log
// (1,000 timestamps for each of 100,000 keys) never gets built.
func TestMemoryBudget(t *testing.T) {
	big := ratelimit.SlidingWindow(1000, time.Hour).Named("big").By(ratelimit.ByIP())
	_, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{big}})
	if err == nil {
		t.Fatal("a sliding window of 1,000 over 100,000 keys (1.1 GiB) accepted")
	}
	for _, want := range []string{`limit "big"`, "1.1 GiB", "12110 bytes per key", "MaxKeys 100000", "MaxMemory (256 MiB)",
		"ratelimit.GCRA", "lower MaxKeys to at most 22166"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Each way out the message names works.
	for name, opts := range map[string]ratelimit.Options{
		"fewer keys":  {Limits: []ratelimit.Limit{big}, MaxKeys: 22166},
		"more memory": {Limits: []ratelimit.Limit{big}, MaxMemory: 2 << 30},
		"gcra":        {Limits: []ratelimit.Limit{ratelimit.GCRA(1000, time.Hour, 1000).By(ratelimit.ByIP())}, MaxKeys: 1_000_000},
		// Shared state without a local fallback keeps nothing in memory.
		"store, fail closed": {Limits: []ratelimit.Limit{big}, Store: &failingStore{}, Outage: ratelimit.FailClosed},
	} {
		if _, err := ratelimit.New(opts); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{big}, MaxKeys: 22167}); err == nil {
		t.Error("one key over the budget accepted")
	}
	// The local fallback of a shared store is held to the budget too, and
	// several limits count together.
	_, err = ratelimit.New(ratelimit.Options{Store: &failingStore{}, Limits: []ratelimit.Limit{
		ratelimit.SlidingWindow(600, time.Hour).Named("a").By(ratelimit.Global()), ratelimit.SlidingWindow(600, time.Hour).Named("b").By(ratelimit.Global())}})
	if err == nil || !strings.Contains(err.Error(), "the 2 limits") {
		t.Fatalf("two 600-unit logs over 100,000 keys: %v", err)
	}
}

// A request costing more than the limit can never pass: 413 with a problem
// that says so, no Retry-After and no RateLimit member (whose t=0 would
// invite a retry loop); RateLimit-Policy still tells the quota.
func TestCostExceedsLimit(t *testing.T) {
	sink := audit.NewMemory()
	lim, err := ratelimit.New(ratelimit.Options{
		Limits:        []ratelimit.Limit{ratelimit.TokenBucket(10, 1).Named("api").By(ratelimit.ByIP())},
		Cost:          func(*http.Request) int { return 11 },
		LegacyHeaders: true,
		Audit:         sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(lim.Handler(ok), request("203.0.113.7", ""))
	if w.Code != http.StatusRequestEntityTooLarge || w.Header().Get("Content-Type") != problem.ContentType {
		t.Fatalf("status %d, %v", w.Code, w.Header())
	}
	for _, name := range []string{"Retry-After", "RateLimit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if v := w.Header().Values(name); len(v) != 0 {
			t.Errorf("%s: %q on a request that can never pass", name, v)
		}
	}
	if got := w.Header().Get("RateLimit-Policy"); got != `"api";q=10;w=10` || w.Header().Get("X-RateLimit-Limit") != "10" {
		t.Errorf("RateLimit-Policy %q, X-RateLimit-Limit %q", got, w.Header().Get("X-RateLimit-Limit"))
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["type"] != ratelimit.TypeCostExceedsLimit || body["policy"] != "api" || body["limit"] != 10.0 {
		t.Fatalf("body %v", body)
	}
	if _, ok := body["retry_after"]; ok {
		t.Fatalf("body offers a retry: %v", body)
	}
	if ev := sink.Events(); len(ev) != 1 || ev[0].Status != 413 || ev[0].Reason != "cost_exceeds_limit" {
		t.Fatalf("audit %+v", ev)
	}
}

// Nested limiters — the demo's login limit inside the /api bucket — each
// add their members to the RateLimit-Policy and RateLimit lists instead of
// replacing the other's; the legacy headers show the most restrictive.
func TestNestedLimitersListEveryPolicy(t *testing.T) {
	clk := testclock.New(epochHour)
	api, err := ratelimit.New(ratelimit.Options{Now: clk.Now, LegacyHeaders: true,
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	login, err := ratelimit.New(ratelimit.Options{Now: clk.Now, LegacyHeaders: true,
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	h := api.Handler(login.Handler(ok))
	check := func(w *httptest.ResponseRecorder, want map[string][]string) {
		t.Helper()
		for name, v := range want {
			if got := w.Header().Values(name); strings.Join(got, " | ") != strings.Join(v, " | ") {
				t.Errorf("%s = %q, want %q", name, got, v)
			}
		}
	}
	for i := range 5 {
		w := serve(h, request("203.0.113.7", ""))
		if w.Code != 200 {
			t.Fatalf("attempt %d: %d", i+1, w.Code)
		}
		check(w, map[string][]string{
			"RateLimit-Policy":      {`"api";q=100;w=10`, `"login";q=5;w=300`},
			"RateLimit":             {`"api";r=` + strconv.Itoa(99-i) + `;t=` + strconv.Itoa(seconds(i+1)), `"login";r=` + strconv.Itoa(4-i) + `;t=300`},
			"X-RateLimit-Limit":     {"5"},
			"X-RateLimit-Remaining": {strconv.Itoa(4 - i)},
		})
	}
	w := serve(h, request("203.0.113.7", ""))
	if w.Code != 429 {
		t.Fatalf("6th login: %d", w.Code)
	}
	check(w, map[string][]string{
		"RateLimit-Policy": {`"api";q=100;w=10`, `"login";q=5;w=300`},
		"RateLimit":        {`"api";r=94;t=1`, `"login";r=0;t=300`},
	})
	// The same limiter twice, or SetHeaders called again, repeats nothing.
	twice := api.Handler(api.Handler(ok))
	check(serve(twice, request("203.0.113.9", "")), map[string][]string{
		"RateLimit-Policy": {`"api";q=100;w=10`},
		"RateLimit":        {`"api";r=98;t=1`},
	})
}

// Two unnamed limiters are both "default": nested, each keeps its own
// member; neither is silently dropped.
func TestNestedUnnamedLimitersKeepBothMembers(t *testing.T) {
	clk := testclock.New(epochHour)
	outer, err := ratelimit.New(ratelimit.Options{Now: clk.Now, Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := ratelimit.New(ratelimit.Options{Now: clk.Now, Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(outer.Handler(inner.Handler(ok)), request("203.0.113.8", ""))
	if got := w.Header().Values("RateLimit-Policy"); len(got) != 2 {
		t.Fatalf("RateLimit-Policy %q", got)
	}
	if got := w.Header().Values("RateLimit"); strings.Join(got, " | ") != `"default";r=99;t=1 | "default";r=4;t=300` {
		t.Fatalf("RateLimit %q: a member was dropped", got)
	}
}

// seconds is the RateLimit t of a token bucket refilling 10 per second
// after n units were taken at once: n/10 seconds, rounded up.
func seconds(n int) int { return (n + 9) / 10 }

// Writing the headers of one limiter takes one allocation (the values'
// bytes; the policy is built once), with the legacy headers too.
func TestSetHeadersAllocs(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Options{LegacyHeaders: true,
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := lim.Decide(request("203.0.113.7", ""))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if n := testing.AllocsPerRun(100, func() { clear(h); lim.SetHeaders(h, d) }); n != 1 {
		t.Fatalf("%v allocations to write the headers, want 1", n)
	}
	if h.Get("RateLimit") != `"api";r=99;t=1` || h.Get("X-RateLimit-Remaining") != "99" || h.Get("X-RateLimit-Reset") != "1" {
		t.Fatalf("headers %v", h)
	}
}
