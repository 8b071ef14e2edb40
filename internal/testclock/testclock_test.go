package testclock_test

import (
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := testclock.New(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v", c.Now())
	}
	c.Advance(90 * time.Second)
	if got := c.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(start.Add(-time.Hour))
	if got := c.Now().Sub(start); got != -time.Hour {
		t.Fatalf("after Set: %v", got)
	}
	var zero testclock.Clock
	if zero.Now().UnixNano() != 0 {
		t.Fatal("the zero Clock does not read the epoch")
	}
}
