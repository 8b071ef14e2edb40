package redislimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// A caller that gives up (its context cancelled, or its own deadline
// passed) is not a Redis outage: it gets its context's error back, the
// breaker does not count it, OnStoreError is not called and no outage
// policy applies — so the healthy callers after it are decided by Redis,
// not refused with 503 (the breaker used to open after three of them).
func TestCallerCancellationIsNotAnOutage(t *testing.T) {
	for _, batch := range []int{0, 1} {
		t.Run(map[int]string{0: "batched", 1: "unbatched"}[batch], func(t *testing.T) {
			st := newStore(t, redislimit.Options{Prefix: testredis.Prefix(t), MaxBatch: batch})
			var storeErrors atomic.Int64
			lim, err := ratelimit.New(ratelimit.Options{
				Limits:       []ratelimit.Limit{ratelimit.GCRA(1, time.Hour, 1000).By(ratelimit.Global())},
				Store:        st,
				Outage:       ratelimit.FailClosed,
				OnStoreError: func(error) { storeErrors.Add(1) },
			})
			if err != nil {
				t.Fatal(err)
			}
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel2()
			for i := range 10 {
				ctx, want := cancelled, context.Canceled
				if i%2 == 1 {
					ctx, want = expired, context.DeadlineExceeded
				}
				d, err := lim.Allow(ctx, "k")
				if !errors.Is(err, want) || errors.Is(err, store.ErrUnavailable) || d.Allowed || d.Degraded {
					t.Fatalf("call %d with a finished context: %+v, %v", i, d, err)
				}
			}
			if n := storeErrors.Load(); n != 0 {
				t.Fatalf("OnStoreError called %d times for callers that gave up", n)
			}
			for i := range 20 {
				d, err := lim.Allow(context.Background(), "k")
				if err != nil || !d.Allowed || d.Degraded {
					t.Fatalf("healthy call %d after the cancelled ones: %+v, %v", i, d, err)
				}
			}
		})
	}
}

// Through the middleware: a request whose client has gone gets no 503 (and
// no audit event: nothing was denied), and the clients after it are served.
func TestHandlerClientGone(t *testing.T) {
	st := newStore(t, redislimit.Options{Prefix: testredis.Prefix(t)})
	sink := audit.NewMemory()
	var storeErrors atomic.Int64
	lim, err := ratelimit.New(ratelimit.Options{
		Limits:       []ratelimit.Limit{ratelimit.TokenBucket(100, 10).By(ratelimit.ByIP())},
		Store:        st,
		Outage:       ratelimit.FailClosed,
		OnStoreError: func(error) { storeErrors.Add(1) },
		Audit:        sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64
	h := lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) }))
	for range 10 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != ratelimit.StatusClientClosedRequest || w.Body.Len() != 0 {
			t.Fatalf("a departed client got %d %q", w.Code, w.Body)
		}
	}
	if served.Load() != 0 || len(sink.Events()) != 0 || storeErrors.Load() != 0 {
		t.Fatalf("served %d, audit events %d, store errors %d for departed clients", served.Load(), len(sink.Events()), storeErrors.Load())
	}
	for i := range 20 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d after the departed ones: %d %s", i, w.Code, w.Body)
		}
	}
}

// redisstore.Unavailable classifies the store's own timeouts as outages,
// but not a caller's cancellation.
func TestUnavailableClassification(t *testing.T) {
	if err := redisstore.Unavailable("op", context.Canceled); errors.Is(err, store.ErrUnavailable) {
		t.Errorf("context.Canceled classified as an outage: %v", err)
	}
	if err := redisstore.Unavailable("op", context.DeadlineExceeded); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a timeout not classified as an outage: %v", err)
	}
}
