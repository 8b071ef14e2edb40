package demo_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testredis"
)

// Two demo replicas sharing one real Redis (`bulwark demo --redis`) share
// one view: a token issued by one works on the other, a logout on one is
// honoured by the other at once (even where it had cached the token), a
// refresh token reused across replicas revokes its family, and the login
// limit counts attempts on both.
func TestReplicasShareRedis(t *testing.T) {
	// A generous timeout: a decision past the default 150 ms (a loaded CI
	// machine under -race) would be decided locally, and the shared count
	// would come up short.
	cfg := demo.Config{RedisURL: testredis.URL(t), RedisPrefix: testredis.Prefix(t), RedisTimeout: 5 * time.Second}
	a, b := newDemo(t, cfg), newDemo(t, cfg)

	access, refresh := tokens(t, login(t, a, "alice", "wonderland-2026"))
	if r := do(t, b, "GET", "/api/protected", "", bearer(access)...); r.status != 200 {
		t.Fatalf("replica b refused a's token: %d %s", r.status, r.raw)
	}
	// Refresh on b, then reuse the old refresh token on a: the family dies
	// on both replicas.
	body := `{"refresh_token":"` + refresh + `"}`
	access2, _ := tokens(t, do(t, b, "POST", "/api/refresh", body, "Content-Type", "application/json"))
	wantProblem(t, do(t, a, "POST", "/api/refresh", body, "Content-Type", "application/json"), 401)
	wantProblem(t, do(t, b, "GET", "/api/protected", "", bearer(access2)...), 401)

	// Logout on a; b (which has verified, and cached, the token) refuses it.
	access3, _ := tokens(t, login(t, b, "bob", "builder-2026"))
	if r := do(t, b, "GET", "/api/protected", "", bearer(access3)...); r.status != 200 {
		t.Fatalf("fresh token refused: %d", r.status)
	}
	if r := do(t, a, "POST", "/api/logout", "", bearer(access3)...); r.status != 204 {
		t.Fatalf("logout %d %s", r.status, r.raw)
	}
	wantProblem(t, do(t, b, "GET", "/api/protected", "", bearer(access3)...), 401)

	// The login limit is shared: 2 attempts were made above (plus 0 failed);
	// 3 more across both replicas use up the 5, the next one is refused.
	for i, srv := range []*httptest.Server{a, b, a} {
		if r := login(t, srv, "alice", "wrong"); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+3, r.status)
		}
	}
	wantProblem(t, login(t, b, "alice", "wonderland-2026"), 429)
}

// TestRedisKeyLayout: the demo's keys read <prefix>jwt:revoked:…, not
// <prefix>jwt:jwt:revoked:… (the token store once added "jwt:" to the
// verifier's own "jwt:").
func TestRedisKeyLayout(t *testing.T) {
	prefix := testredis.Prefix(t)
	srv := newDemo(t, demo.Config{RedisURL: testredis.URL(t), RedisPrefix: prefix, RedisTimeout: 5 * time.Second})
	access, refresh := tokens(t, login(t, srv, "alice", "wonderland-2026"))
	if r := do(t, srv, "POST", "/api/logout", `{"refresh_token":"`+refresh+`"}`, append(bearer(access), "Content-Type", "application/json")...); r.status != 204 {
		t.Fatalf("logout %d %s", r.status, r.raw)
	}
	login(t, srv, "nobody", "wrong") // an abuse counter

	c := testredis.Client(t)
	var keys []string
	for cursor := uint64(0); ; {
		e, err := c.Do(context.Background(), c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e.Elements {
			keys = append(keys, strings.TrimPrefix(k, prefix))
		}
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	slices.Sort(keys)
	for _, want := range []string{"jwt:revoked:jti:", "jwt:revoked:sid:", "abuse:credential-stuffing:", "rl:"} {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, want) }) {
			t.Errorf("no %s%s… key; keys %q", prefix, want, keys)
		}
	}
	for _, k := range keys {
		if strings.Contains(k, "jwt:jwt:") {
			t.Errorf("doubled segment: %s%s", prefix, k)
		}
	}
}
