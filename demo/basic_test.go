package demo_test

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

const basicChallenge = `Basic realm="bulwark-demo", charset="UTF-8"`

func basicAuth(user, pw string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
}

// GET /api/basic: alice's password → 200 naming her; wrong, unknown,
// malformed or missing credentials → 401 with the Basic challenge.
func TestBasicRoute(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	r := do(t, srv, "GET", "/api/basic", "", basicAuth("alice", "wonderland-2026")...)
	if r.status != 200 || !strings.Contains(r.raw, `"subject":"alice"`) || !strings.Contains(r.raw, `"method":"basic"`) {
		t.Fatalf("alice: %d %s", r.status, r.raw)
	}
	for name, hdr := range map[string][]string{
		"wrong password": basicAuth("alice", "wonderland-2025"),
		"unknown user":   basicAuth("mallory", "wonderland-2026"),
		"no colon":       {"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))},
		"bad base64":     {"Authorization", "Basic %%%"},
		"no scheme":      {"Authorization", ":::"},
		"64 KB":          {"Authorization", "Basic " + strings.Repeat("QUFB", 16<<10)},
		"control bytes":  basicAuth("alice", "wonder\x00land"),
		"bearer":         {"Authorization", "Bearer abc"},
		"none":           nil,
	} {
		advance(61 * time.Second) // stay under the login limit: this test is about the answers
		r := do(t, srv, "GET", "/api/basic", "", hdr...)
		wantProblem(t, r, 401)
		if got := r.header.Get("WWW-Authenticate"); got != basicChallenge {
			t.Errorf("%s: challenge %q; want %q", name, got, basicChallenge)
		}
	}
}

// The login limit is one budget for both routes: 5 wrong Basic attempts,
// then even a correct JSON login from that address is 429 — and the other
// way round.
func TestBasicSharesLoginLimit(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	for i := range 5 {
		if r := do(t, srv, "GET", "/api/basic", "", basicAuth("alice", fmt.Sprintf("guess%d", i))...); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.raw)
		}
	}
	wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 429)
	wantProblem(t, do(t, srv, "GET", "/api/basic", "", basicAuth("alice", "wonderland-2026")...), 429)

	srv = newDemo(t, demo.Config{})
	for i := range 5 {
		if r := login(t, srv, "alice", fmt.Sprintf("guess%d", i)); r.status != 401 {
			t.Fatalf("login %d: %d", i+1, r.status)
		}
	}
	wantProblem(t, do(t, srv, "GET", "/api/basic", "", basicAuth("alice", "wonderland-2026")...), 429)
}

// The credential-stuffing detector counts failures on both routes
// together: 3 usernames failing on the JSON login and 2 on Basic, and the
// 6th username — on either route — is refused with 403.
func TestBasicSharesStuffingDetector(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	for i := range 5 {
		var r response
		if i%2 == 0 {
			r = login(t, srv, fmt.Sprintf("victim%d", i), "guess")
		} else {
			r = do(t, srv, "GET", "/api/basic", "", basicAuth(fmt.Sprintf("victim%d", i), "guess")...)
		}
		if r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.raw)
		}
		advance(61 * time.Second)
	}
	advance(5 * time.Minute)
	wantProblem(t, do(t, srv, "GET", "/api/basic", "", basicAuth("victim5", "guess")...), 403)
	advance(5 * time.Minute)
	wantProblem(t, do(t, srv, "GET", "/api/basic", "", basicAuth("alice", "wonderland-2026")...), 403)
}

// Basic goes through the demo's one password budget.
func TestBasicUsesPasswordBudget(t *testing.T) {
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); _ = app.Close() })
	before := demo.PasswordVerifier(app).Stats().Verified
	do(t, srv, "GET", "/api/basic", "", basicAuth("bob", "builder-2026")...)
	do(t, srv, "GET", "/api/basic", "", basicAuth("nobody", "x")...)
	if got := demo.PasswordVerifier(app).Stats().Verified - before; got != 2 {
		t.Fatalf("%d checks went through the budget; want 2 (unknown users too)", got)
	}
}
