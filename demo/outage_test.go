package demo_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testredis"
)

// lockedBuffer is a log destination safe to read while the demo writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count returns the number of log lines that contain every one of subs.
func (b *lockedBuffer) count(subs ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for line := range strings.Lines(b.buf.String()) {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// A demo on a Redis that the test freezes: each outage decision is one log
// line, one audit event and one metric — the token store's breaker
// opening, the per-IP limiter falling back to local counting — however
// many requests meet the outage; /config/security shows every guard's
// outage policy and the breakers' state; and when Redis answers again,
// one more line each says so.
func TestRedisOutageVisible(t *testing.T) {
	srv := testredis.StartServer(t)
	var logs lockedBuffer
	d := newDemo(t, demo.Config{
		RedisURL: srv.URL(),
		// Long enough that a loaded machine does not time out before the
		// freeze; every request meets it at most once per store.
		RedisTimeout: 500 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	access, _ := tokens(t, login(t, d, "alice", "wonderland-2026"))
	outage := func() map[string]any {
		t.Helper()
		r := do(t, d, "GET", "/config/security", "")
		o, _ := r.body["outage"].(map[string]any)
		if r.status != 200 || o == nil {
			t.Fatalf("/config/security: %d %s", r.status, r.raw)
		}
		return o
	}
	o := outage()
	breakers, _ := o["redis_breakers"].(map[string]any)
	ip, _ := o["rate_limits"].(map[string]any)["ip"].(map[string]any)
	if o["jwt_revocation"] != "fail_closed" || o["credential_stuffing"] != "fail_closed" || o["account_targeted"] != "fail_closed" ||
		ip["outage"] != "fallback_local" || ip["degraded"] != false ||
		breakers["tokens"] != "closed" || breakers["state"] != "closed" || breakers["rate_limits"] != "closed" {
		t.Fatalf("outage before the freeze: %v", o)
	}

	srv.Signal(syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			srv.Signal(syscall.SIGCONT)
		}
	}()
	for range 20 {
		wantProblem(t, do(t, d, "GET", "/api/protected", "", bearer(access)...), 503)
	}
	o = outage()
	breakers, _ = o["redis_breakers"].(map[string]any)
	ip, _ = o["rate_limits"].(map[string]any)["ip"].(map[string]any)
	if breakers["tokens"] != "open" || breakers["rate_limits"] != "open" || ip["degraded"] != true || ip["errors"].(float64) < 20 {
		t.Fatalf("outage during the freeze: %v", o)
	}
	for _, line := range [][]string{
		{"guard=redisstore", "reason=store_unavailable", "prefix=bulwark-demo:"},
		{"guard=redislimit", "reason=store_unavailable"},
		{"guard=ratelimit", "reason=ratelimit_fallback_local", "limits=ip"},
	} {
		if n := logs.count(line...); n != 1 {
			t.Errorf("%d log lines with %v during the outage, want 1", n, line)
		}
	}
	m := do(t, d, "GET", "/metrics", "").raw
	for _, want := range []string{
		`bulwark_security_events_total{decision="flag",guard="redisstore",reason="store_unavailable"} 1`,
		`bulwark_security_events_total{decision="flag",guard="ratelimit",reason="ratelimit_fallback_local"} 1`,
		`bulwark_redis_breaker_open{store="tokens"} 1`,
		`bulwark_redis_breaker_open{store="state"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(m, `bulwark_ratelimit_store_errors_total{limiter="ip"}`) {
		t.Error("/metrics lacks the limiters' store errors")
	}

	srv.Signal(syscall.SIGCONT)
	resumed = true
	deadline := time.Now().Add(20 * time.Second)
	for logs.count("reason=store_recovered", "prefix=bulwark-demo:") == 0 || logs.count("reason=ratelimit_recovered", "limits=ip") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no recovery recorded after Redis resumed")
		}
		do(t, d, "GET", "/api/protected", "", bearer(access)...)
		time.Sleep(50 * time.Millisecond)
	}
	if r := do(t, d, "GET", "/api/protected", "", bearer(access)...); r.status != 200 {
		t.Fatalf("after the outage: %d %s", r.status, r.raw)
	}
	if n := logs.count("guard=redisstore", "reason=store_unavailable"); n != 1 {
		t.Errorf("%d store_unavailable lines in all, want 1", n)
	}
}

// /config/security shows each guard's outage policy in memory mode too (a
// full in-memory store counts as an outage); there are no breakers.
func TestOutagePoliciesShown(t *testing.T) {
	d := newDemo(t, demo.Config{})
	r := do(t, d, "GET", "/config/security", "")
	o, _ := r.body["outage"].(map[string]any)
	limits, _ := o["rate_limits"].(map[string]any)
	if len(limits) != 3 || o["jwt_revocation"] != "fail_closed" || o["refresh"] != "fail_closed" || o["logout"] != "fail_closed" ||
		o["credential_stuffing"] != "fail_closed" || o["account_targeted"] != "fail_closed" || o["redis_breakers"] != nil {
		t.Fatalf("outage in memory mode: %s", r.raw)
	}
	// The abuse policies are read from the guards: account-targeted is a
	// view of the credential-stuffing guard, which fails closed, as does
	// card testing; /config/security lists each guard's views with their
	// thresholds, actions and windows, and the same policy.
	if o["card_testing"] != "fail_closed" {
		t.Fatalf("card testing outage: %v", o["card_testing"])
	}
	ab, _ := r.body["abuse"].(map[string]any)
	guards, _ := ab["guards"].([]any)
	if len(guards) != 2 {
		t.Fatalf("abuse guards: %s", r.raw)
	}
	views := map[string]map[string]any{}
	for _, g := range guards {
		g, _ := g.(map[string]any)
		vs, _ := g["views"].([]any)
		for _, v := range vs {
			v, _ := v.(map[string]any)
			v["outage"], v["count"] = g["outage"], g["count"]
			views[v["name"].(string)] = v
		}
	}
	for name, want := range map[string]string{
		"credential-stuffing":                  "failures block 5 1h0m0s fail_closed",
		"credential-stuffing:account-targeted": "failures flag 5 1h0m0s fail_closed",
		"card-testing":                         "attempts block 3 1h0m0s fail_closed",
		"card-testing:card-networks":           "attempts flag 3 1h0m0s fail_closed",
		"card-testing:email-cards":             "attempts flag 3 1h0m0s fail_closed",
		"card-testing:route-cards":             "attempts alert 100 1m0s fail_closed",
	} {
		v := views[name]
		if got := fmt.Sprint(v["count"], " ", v["action"], " ", v["threshold"], " ", v["window"], " ", v["outage"]); got != want {
			t.Errorf("view %s: %s, want %s", name, got, want)
		}
	}
	if len(views) != 6 {
		t.Fatalf("abuse guards: %s", r.raw)
	}
	for name, l := range limits {
		want := "fallback_local"
		if name == "login" { // it guards passwords: fail closed
			want = "fail_closed"
		}
		if h, _ := l.(map[string]any); h["outage"] != want || h["degraded"] != false || h["errors"] != float64(0) {
			t.Fatalf("limiter %s: %v", name, l)
		}
	}
}
