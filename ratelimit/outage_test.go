package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
)

// switchStore admits everything while up, and fails like an unreachable
// Redis while down.
type switchStore struct{ down atomic.Bool }

func (s *switchStore) Bind([]ratelimit.Limit) (ratelimit.Bound, error) { return s, nil }
func (s *switchStore) Take(_ context.Context, _ []string, _ int, rs []ratelimit.Result) error {
	if s.down.Load() {
		return &store.UnavailableError{Op: "test", Err: errors.New("i/o timeout")}
	}
	for i := range rs {
		rs[i] = ratelimit.Result{Allowed: true, Remaining: 1}
	}
	return nil
}

// With nothing configured (no OnStoreError, no Audit), a Store outage is
// still visible: every error is counted (StoreHealth), and the outage is
// logged on slog.Default() at its transitions — its start, naming the
// policy that decides, a summary at most once a minute while it lasts,
// and its end — not once per decision. Errors now and then (a timeout
// under load) within a second of each other make one outage.
func TestOutageVisibleByDefault(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	clk := testclock.New(epochHour)
	st := &switchStore{}
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())},
		Store:  st,
		Now:    clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	allow := func(n int) {
		for i := range n {
			if _, err := lim.Allow(context.Background(), fmt.Sprint("k", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	lines := func() []string { return strings.Split(strings.TrimSpace(logs.String()), "\n") }

	allow(100)
	if h := lim.StoreHealth(); h.Degraded || h.Errors != 0 || h.Outage != ratelimit.FallbackLocal || logs.Len() != 0 {
		t.Fatalf("healthy: %+v, logs %q", h, logs.String())
	}

	// An outage of 90 s, 1,000 decisions every 10 s.
	st.down.Store(true)
	for i := range 10 {
		if i > 0 {
			clk.Advance(10 * time.Second)
		}
		allow(1000)
	}
	if h := lim.StoreHealth(); !h.Degraded || h.Errors != 10_000 {
		t.Fatalf("during the outage: %+v", h)
	}
	if got := lines(); len(got) != 2 ||
		!strings.Contains(got[0], "reason=ratelimit_fallback_local") || !strings.Contains(got[0], "limits=login") || !strings.Contains(got[0], "i/o timeout") ||
		!strings.Contains(got[1], "reason=ratelimit_still_degraded") || !strings.Contains(got[1], "errors=6001") {
		t.Fatalf("log during the outage, want its start and one summary:\n%s", logs.String())
	}

	// Back: the first decision a second after the last error ends it.
	st.down.Store(false)
	allow(10) // within a second of the last error: not yet
	clk.Advance(time.Second)
	allow(10)
	if n := len(lines()); n != 3 || !strings.Contains(lines()[2], "reason=ratelimit_recovered") || !strings.Contains(lines()[2], "errors=10000") ||
		!strings.Contains(lines()[2], "outage=1m30s") || !strings.Contains(lines()[2], "level=INFO") {
		t.Fatalf("log after the outage:\n%s", logs.String())
	}
	if h := lim.StoreHealth(); h.Degraded {
		t.Fatalf("after the outage: %+v", h)
	}

	// A Store failing now and then: one outage, not a pair per error.
	for range 50 {
		st.down.Store(true)
		allow(1)
		st.down.Store(false)
		allow(20)
		clk.Advance(100 * time.Millisecond)
	}
	clk.Advance(time.Second)
	allow(1)
	if got := lines(); len(got) != 5 || !strings.Contains(got[3], "reason=ratelimit_fallback_local") || !strings.Contains(got[4], "reason=ratelimit_recovered") || !strings.Contains(got[4], "errors=50") {
		t.Fatalf("log of intermittent errors, want one start and one end:\n%s", logs.String())
	}
}

// With an audit sink, the events go there (and so to metrics.Sink and the
// application's log), with the policy in the reason.
func TestOutageEventsToAudit(t *testing.T) {
	clk := testclock.New(epochHour)
	for _, policy := range []ratelimit.Outage{ratelimit.FallbackLocal, ratelimit.FailOpen, ratelimit.FailClosed} {
		st := &switchStore{}
		sink := audit.NewMemory()
		lim, err := ratelimit.New(ratelimit.Options{
			Limits: []ratelimit.Limit{ratelimit.GCRA(10, time.Second, 10).By(ratelimit.Global())},
			Store:  st, Outage: policy, Audit: sink, Now: clk.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		st.down.Store(true)
		for range 100 {
			_, _ = lim.Allow(context.Background(), "k")
		}
		st.down.Store(false)
		clk.Advance(time.Second)
		_, _ = lim.Allow(context.Background(), "k")
		ev := sink.Events()
		if len(ev) != 2 || ev[0].Reason != "ratelimit_"+policy.String() || ev[0].Decision != audit.Flag || ev[0].Guard != "ratelimit" ||
			ev[1].Reason != ratelimit.ReasonRecovered || ev[1].Decision != audit.Allow {
			t.Fatalf("%s: events %+v", policy, ev)
		}
	}
}
