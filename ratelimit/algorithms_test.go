package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/internal/limittest"
)

func TestAlgorithms(t *testing.T) {
	for _, c := range limittest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			clk := testclock.New(c.Start)
			lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{c.Limit}, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			limittest.Run(t, c, func(at time.Duration, cost int) ratelimit.Decision {
				clk.Set(c.Start.Add(at))
				d, err := lim.AllowN(context.Background(), cost, "k")
				if err != nil {
					t.Fatal(err)
				}
				return d
			})
		})
	}
}

func TestCostAboveCapacityNeverAllowed(t *testing.T) {
	for _, l := range []ratelimit.Limit{ratelimit.TokenBucket(10, 1).By(ratelimit.Global()), ratelimit.GCRA(1, time.Second, 10).By(ratelimit.Global()),
		ratelimit.SlidingWindow(10, time.Minute).By(ratelimit.Global()), ratelimit.FixedWindow(10, time.Minute).By(ratelimit.Global())} {
		t.Run(l.Algorithm.String(), func(t *testing.T) {
			clk := testclock.New(epochHour)
			lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				d, err := lim.AllowN(context.Background(), 11, "k")
				if err != nil || d.Allowed || !d.CostTooHigh || d.RetryAfter != 0 {
					t.Fatalf("cost 11 of 10: %+v, %v", d, err)
				}
				clk.Set(clk.Now().Add(time.Hour))
			}
			// Nothing was consumed: the full capacity is still there.
			d, _ := lim.AllowN(context.Background(), 10, "k")
			if !d.Allowed || d.Remaining != 0 {
				t.Fatalf("cost 10 after refusals: %+v", d)
			}
			if _, err := lim.AllowN(context.Background(), 0, "k"); err != ratelimit.ErrInvalidCost {
				t.Fatalf("cost 0: %v", err)
			}
		})
	}
}

func TestFixedWindowBeforeEpoch(t *testing.T) {
	start := time.Unix(-3600, 0)
	clk := testclock.New(start)
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Minute).By(ratelimit.Global())}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(30 * time.Second))
	if d, _ := lim.Allow(context.Background(), "k"); !d.Allowed {
		t.Fatal("first refused")
	}
	d, _ := lim.Allow(context.Background(), "k")
	if d.Allowed || d.RetryAfter != 30*time.Second {
		t.Fatalf("second: %+v", d)
	}
}

// Several limits on one request: a refusal by one consumes none of the
// others.
func TestMultipleLimitsAllOrNothing(t *testing.T) {
	clk := testclock.New(epochHour)
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.SlidingWindow(3, time.Minute).Named("burst").By(ratelimit.Global()),
			ratelimit.FixedWindow(5, time.Hour).Named("hourly").By(ratelimit.Global()),
		},
		Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		d, _ := lim.Allow(ctx, "alice")
		if !d.Allowed {
			t.Fatalf("request %d refused: %+v", i, d)
		}
	}
	// Burst exhausted: refused many times, the hourly limit must not move.
	for range 10 {
		d, _ := lim.Allow(ctx, "alice")
		if d.Allowed || d.Policy != "burst" || d.RetryAfter != time.Minute {
			t.Fatalf("want a burst refusal, got %+v", d)
		}
	}
	clk.Set(epochHour.Add(time.Minute))
	d, _ := lim.Allow(ctx, "alice")
	if !d.Allowed || d.Policy != "hourly" || d.Remaining != 1 {
		t.Fatalf("after the burst window: %+v (want hourly binding with 1 left)", d)
	}
	d, _ = lim.Allow(ctx, "alice")
	if !d.Allowed || d.Remaining != 0 {
		t.Fatalf("5th in the hour: %+v", d)
	}
	d, _ = lim.Allow(ctx, "alice")
	if d.Allowed || d.Policy != "hourly" || d.RetryAfter != 59*time.Minute {
		t.Fatalf("6th in the hour: %+v", d)
	}
	// Per-limit keys: a different key for the second limit.
	// Per-limit keys: the hourly limit by team, which has its whole hour.
	d, err = lim.Allow(ctx, "alice", "team-1")
	if err != nil || !d.Allowed || d.Policy != "burst" || d.Remaining != 0 {
		t.Fatalf("alice's last burst unit, team-1's first: %+v %v", d, err)
	}
	d, _ = lim.Allow(ctx, "bob", "team-1")
	if !d.Allowed || d.Policy != "burst" || d.Remaining != 2 { // hourly has 3 left
		t.Fatalf("bob in team-1: %+v", d)
	}
	for _, want := range []int{2, 1, 0} {
		d, _ = lim.Allow(ctx, "carol", "team-1")
		if !d.Allowed || d.Remaining != want {
			t.Fatalf("carol in team-1: %+v, want %d left", d, want)
		}
	}
	d, _ = lim.Allow(ctx, "dave", "team-1")
	if d.Allowed || d.Policy != "hourly" {
		t.Fatalf("team-1's hour is used up: %+v", d)
	}
	if _, err := lim.Allow(ctx, "a", "b", "c"); err != ratelimit.ErrKeyCount {
		t.Fatalf("3 keys for 2 limits: %v", err)
	}
}

// Many goroutines on one key: exactly the limit is admitted.
func TestConcurrentExact(t *testing.T) {
	for _, l := range []ratelimit.Limit{ratelimit.TokenBucket(100, 0.001).By(ratelimit.Global()), ratelimit.GCRA(1, time.Hour, 100).By(ratelimit.Global()),
		ratelimit.SlidingWindow(100, time.Hour).By(ratelimit.Global()), ratelimit.FixedWindow(100, ratelimit.MaxWindow).By(ratelimit.Global())} {
		t.Run(l.Algorithm.String(), func(t *testing.T) {
			lim, err := ratelimit.New(ratelimit.Options{MaxKeys: 1000, Limits: []ratelimit.Limit{l.Named("l"), ratelimit.SlidingWindow(1000, time.Hour).Named("other").By(ratelimit.Global())}})
			if err != nil {
				t.Fatal(err)
			}
			got := hammer(64, 20, func() bool {
				d, err := lim.Allow(context.Background(), "one")
				return err == nil && d.Allowed
			})
			if got != 100 {
				t.Fatalf("admitted %d, want exactly 100", got)
			}
		})
	}
}
