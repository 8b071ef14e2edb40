package demo_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// TestReadmeStuffingWalkthrough follows the README's "Credential stuffing,
// as a client sees it" step by step: the login limit answers the sixth
// username (429) before the detector can, the 403 comes once the attempts
// have left the 5-minute window, and the block lasts until the IP has been
// silent for an hour: refused attempts restart the hour.
func TestReadmeStuffingWalkthrough(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	for i := 1; i <= 5; i++ {
		if r := login(t, srv, fmt.Sprintf("u%d", i), "wrong"); r.status != 401 {
			t.Fatalf("u%d: %d %s", i, r.status, r.raw)
		}
	}
	r := login(t, srv, "u6", "wrong")
	wantProblem(t, r, 429)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 290 || ra > 300 {
		t.Errorf("Retry-After %q, want about 300", r.header.Get("Retry-After"))
	}
	wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 429)

	advance(300 * time.Second)
	r = login(t, srv, "u6", "wrong")
	wantProblem(t, r, 403)
	if r.body["type"] != "https://bulwark.dev/problems/abuse-detected" {
		t.Errorf("type %v", r.body["type"])
	}
	wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 403)

	// Refused attempts restart the hour (the seed's retention): eleven of
	// them five minutes apart keep the block; an hour of silence lifts it.
	for range 11 {
		advance(5 * time.Minute)
		wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 403)
	}
	advance(59 * time.Minute)
	wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 403)
	advance(time.Hour + time.Second)
	if r := login(t, srv, "alice", "wonderland-2026"); r.status != 200 {
		t.Fatalf("after an hour of silence: %d %s", r.status, r.raw)
	}
}
