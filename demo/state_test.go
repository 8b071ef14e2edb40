package demo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testredis"
)

// TestFullSessionStoreKeepsLogoutWorking: logins from many addresses fill
// the session store (logins then answer 503), and logout still revokes,
// because revocations have a store of their own.
func TestFullSessionStoreKeepsLogoutWorking(t *testing.T) {
	srv := newDemo(t, demo.Config{MaxSessions: 5, TrustedProxies: []string{"127.0.0.0/8"}})
	var access, refresh []string
	for i := 0; ; i++ {
		r := login(t, srv, "bob", "builder-2026", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if r.status == 503 {
			wantProblem(t, r, 503)
			break
		}
		a, f := tokens(t, r)
		access, refresh = append(access, a), append(refresh, f)
		if i > 20 {
			t.Fatal("the session store never filled")
		}
	}
	if len(access) != 5 {
		t.Fatalf("%d sessions fit in a store of 5", len(access))
	}
	// Logout of one session without its refresh token (its family stays
	// in the full store), then of another: both revoked.
	for _, i := range []int{0, 1} {
		if r := do(t, srv, "POST", "/api/logout", "", bearer(access[i])...); r.status != 204 {
			t.Fatalf("logout with a full session store: %d %s", r.status, r.raw)
		}
		wantProblem(t, do(t, srv, "GET", "/api/protected", "", bearer(access[i])...), 401)
		wantProblem(t, do(t, srv, "POST", "/api/refresh", `{"refresh_token":"`+refresh[i]+`"}`, "Content-Type", "application/json"), 401)
	}
	if r := do(t, srv, "GET", "/api/protected", "", bearer(access[2])...); r.status != 200 {
		t.Fatalf("an untouched session: %d %s", r.status, r.raw)
	}
}

// TestDemoRedisEmptyRestart: `bulwark demo --redis` whose Redis restarts
// without persistence. A logged-out token stays refused (as "session
// state was reset"), so does every token from before, /readyz reports the
// reset, and a new login works.
func TestDemoRedisEmptyRestart(t *testing.T) {
	redis := testredis.StartServer(t, "--save", "", "--appendonly", "no")
	now, advance := fakeClock()
	srv := newDemo(t, demo.Config{RedisURL: redis.URL(), RedisTimeout: time.Second, Now: now, TrustedProxies: []string{"127.0.0.0/8"}})
	out, _ := tokens(t, login(t, srv, "alice", "wonderland-2026"))
	live, liveRefresh := tokens(t, login(t, srv, "bob", "builder-2026"))
	if r := do(t, srv, "POST", "/api/logout", "", bearer(out)...); r.status != 204 {
		t.Fatalf("logout %d %s", r.status, r.raw)
	}
	advance(time.Minute)
	redis.Stop()
	redis.Start()
	// The stores' circuit breakers time their back-off on the demo's
	// clock: each try moves it on, so that they probe Redis again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		advance(100 * time.Millisecond)
		r := do(t, srv, "GET", "/readyz", "")
		if r.status == 200 {
			if r.body["state_resets"] != float64(1) {
				t.Fatalf("readyz after an empty restart: %s; want state_resets 1", r.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never recovered: %d %s", r.status, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Connections come back at their own pace: a request may answer 503
	// (never anything else) until they have.
	settled := func(call func() response) response {
		t.Helper()
		r := call()
		for r.status == 503 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			advance(100 * time.Millisecond)
			r = call()
		}
		return r
	}
	for _, tok := range []string{out, live} {
		r := settled(func() response { return do(t, srv, "GET", "/api/protected", "", bearer(tok)...) })
		wantProblem(t, r, 401)
		if r.body["reason"] != nil || r.body["detail"] != "session state was reset; log in again" {
			t.Fatalf("a token from before the reset: %s", r.raw)
		}
	}
	r := settled(func() response {
		return do(t, srv, "POST", "/api/refresh", `{"refresh_token":"`+liveRefresh+`"}`, "Content-Type", "application/json")
	})
	wantProblem(t, r, 401)
	if r.body["detail"] != "session state was reset; log in again" {
		t.Fatalf("a refresh token from before the reset: %s", r.raw)
	}
	// Each try from another address, so the login limit stays out of it.
	i := 0
	r = settled(func() response {
		i++
		return login(t, srv, "bob", "builder-2026", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
	})
	fresh, _ := tokens(t, r)
	if r := do(t, srv, "GET", "/api/protected", "", bearer(fresh)...); r.status != 200 {
		t.Fatalf("a token from after the reset: %d %s", r.status, r.raw)
	}
}
