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
// have left the 5-minute window, and the block lasts an hour from the last
// failed login, whatever the IP tries meanwhile.
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

	// An hour from the sixth failed login, refused attempts in between.
	for range 11 {
		advance(5 * time.Minute)
		wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 403)
	}
	advance(5*time.Minute + time.Second)
	if r := login(t, srv, "alice", "wonderland-2026"); r.status != 200 {
		t.Fatalf("an hour after the last failed login: %d %s", r.status, r.raw)
	}
}
