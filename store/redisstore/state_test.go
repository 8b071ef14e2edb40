package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// TestStateResetAfterEmptyRestart kills a Redis without persistence and
// starts it again, empty: the Store notices at its next command, starts a
// new state, and reports it.
func TestStateResetAfterEmptyRestart(t *testing.T) {
	srv := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	var resets []time.Time
	s, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "state-test:", Timeout: time.Second, Now: clock.Now,
		OnReset: func(since time.Time) { resets = append(resets, since) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if !s.StateSince().IsZero() {
		t.Fatalf("StateSince before any command = %v; want zero", s.StateSince())
	}
	if err := s.Set(ctx, "revoked", []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	first := s.StateSince()
	if !first.Equal(clock.Now()) {
		t.Fatalf("StateSince after the first command = %v; want %v (the first command writes the marker)", first, clock.Now())
	}
	// A second Store on the same prefix (another replica) reads the same
	// marker, whatever its clock says.
	other, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "state-test:", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	if _, _, err := other.Get(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	if got := other.StateSince(); !got.Equal(first) {
		t.Fatalf("a second Store's StateSince = %v; want the marker's %v", got, first)
	}

	clock.Advance(time.Hour)
	srv.Stop()
	srv.Start()
	// Every command of either Store works again, and the first one to
	// answer sees the state reset.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, found, err := s.Get(ctx, "revoked")
		if err == nil {
			if found {
				t.Fatal("the revocation survived a restart without persistence; the test needs an empty Redis")
			}
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Get after the restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.StateSince(); !got.Equal(clock.Now()) {
		t.Fatalf("StateSince after the restart = %v; want %v", got, clock.Now())
	}
	if s.Resets() != 1 || len(resets) != 1 || !resets[0].Equal(clock.Now()) {
		t.Fatalf("Resets() = %d, OnReset calls %v; want one, at %v", s.Resets(), resets, clock.Now())
	}
	for time.Now().Before(deadline) {
		if _, _, err := other.Get(ctx, "revoked"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := other.StateSince(); !got.Equal(clock.Now()) || other.Resets() != 1 {
		t.Fatalf("the second Store: StateSince %v, Resets %d; want %v, 1 (it reads the marker the first one wrote)", got, other.Resets(), clock.Now())
	}
}

// TestStateMarkerCorrupt: a marker that is not a Unix time fails commands
// with a message that says what to do, rather than being trusted.
func TestStateMarkerCorrupt(t *testing.T) {
	prefix := testredis.Prefix(t)
	s := open(t, testredis.URL(t), prefix)
	ctx := context.Background()
	c := testredis.Client(t)
	if err := c.Do(ctx, c.B().Set().Key(s.Key(redisstore.StateKey)).Value("yesterday").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Get(ctx, "k")
	if err == nil || !strings.Contains(err.Error(), "state marker") || !strings.Contains(err.Error(), "DEL") || strings.Count(err.Error(), "redisstore:") != 1 {
		t.Fatalf("Get with a corrupt marker: err = %v; want an error naming the marker and the fix", err)
	}
}
