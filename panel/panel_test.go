package panel

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/ratelimit"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)

func newPanel(t testing.TB, opts Options) (*Panel, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(t0)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, clock
}

func deny(guard, reason, ip string) *audit.Event {
	return &audit.Event{Guard: guard, Decision: audit.Deny, Reason: reason, ClientIP: ip, Status: 403, Method: "GET", Route: "/api/x"}
}

func TestCounts(t *testing.T) {
	mem := audit.NewMemory()
	p, clock := newPanel(t, Options{})
	s := p.Sink(mem)
	ctx := context.Background()
	for range 3 {
		s.Record(ctx, deny("authz", "missing_role", "192.0.2.1"))
	}
	s.Record(ctx, deny("cors", "origin_not_allowed", "192.0.2.2"))
	e := deny("authz", "missing_role", "192.0.2.1")
	e.Principal = "jwt:bob"
	s.Record(ctx, e)
	s.Record(ctx, &audit.Event{Guard: "abuse", Decision: audit.Flag, Reason: "account-targeted"})
	clock.Advance(10 * time.Minute)
	s.Record(ctx, deny("cors", "origin_not_allowed", "192.0.2.2"))

	if n := len(mem.Events()); n != 7 {
		t.Fatalf("next sink got %d events, want 7: the panel must pass every event on", n)
	}
	snap := p.Snapshot(ctx)
	if snap.DeniedHour != 6 || snap.Denied5Min != 1 || snap.FlaggedHour != 1 || snap.EventsSeen != 7 {
		t.Errorf("totals = hour %d, 5min %d, flagged %d, seen %d; want 6, 1, 1, 7", snap.DeniedHour, snap.Denied5Min, snap.FlaggedHour, snap.EventsSeen)
	}
	want := []DenialRow{{Guard: "authz", Reason: "missing_role", Hour: 4}, {Guard: "cors", Reason: "origin_not_allowed", Hour: 2, Min5: 1}}
	if fmt.Sprint(snap.Denials) != fmt.Sprint(want) {
		t.Errorf("denials = %v, want %v", snap.Denials, want)
	}
	wantClients := []ClientRow{{Client: "192.0.2.1", Count: 3}, {Client: "192.0.2.2", Count: 2}, {Client: "jwt:bob", Count: 1}}
	if fmt.Sprint(snap.Clients) != fmt.Sprint(wantClients) {
		t.Errorf("clients = %v, want %v", snap.Clients, wantClients)
	}
	var sum int
	for i, b := range snap.Bars {
		if b.Height > 0 {
			sum++
			if i != 49 && i != 59 {
				t.Errorf("bar %d is %d high: the denials were 10 minutes ago (49) and now (59)", i, b.Height)
			}
		}
	}
	if sum != 2 || snap.Bars[49].Height != 100 || snap.Bars[59].Height != 20 {
		t.Errorf("bars: %d non-empty, [49]=%d, [59]=%d; want 2, 100, 20", sum, snap.Bars[49].Height, snap.Bars[59].Height)
	}
	if len(snap.Events) != 7 || snap.Events[0].Reason != "origin_not_allowed" || snap.Events[6].Reason != "missing_role" {
		t.Errorf("recent events not newest first: %+v", snap.Events)
	}
}

// A real limiter's 429s are counted under the binding limit's name.
func TestRateLimitPolicies(t *testing.T) {
	p, _ := newPanel(t, Options{})
	l, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Minute).Named("login").By(ratelimit.ByIP())},
		Audit:  p.Sink(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.NotFoundHandler())
	for range 4 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/login", nil))
	}
	snap := p.Snapshot(context.Background())
	if len(snap.Policies) != 1 {
		t.Fatalf("policies = %+v, want one", snap.Policies)
	}
	got := snap.Policies[0]
	if got.Policy != "login" || got.Hour != 3 || got.Min1 != 3 || !strings.HasPrefix(got.Limit, "1 per 1m0s") {
		t.Errorf("policy row = %+v, want login, 3 refusals, limit 1 per 1m0s …", got)
	}
}

// Under a million distinct refused clients the counters stay at
// MaxClients, and a client refused often stays on top.
func TestBoundedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("a million events")
	}
	p, _ := newPanel(t, Options{MaxClients: 100, RecentEvents: 10})
	ctx := context.Background()
	e := &audit.Event{Guard: "ratelimit", Decision: audit.Deny, Reason: "rate_limited"}
	for i := range 1_000_000 {
		e.ClientIP = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if i%50 == 0 {
			e.ClientIP = "203.0.113.66"
		}
		p.record(e)
	}
	p.mu.Lock()
	held, index := p.st.top.len(), len(p.st.top.index)
	p.mu.Unlock()
	if held != 100 || index != 100 {
		t.Fatalf("held %d counters (index %d), want 100", held, index)
	}
	snap := p.Snapshot(ctx)
	if snap.Clients[0].Client != "203.0.113.66" || snap.Clients[0].Count-snap.Clients[0].Over > 20_000 || snap.Clients[0].Count < 20_000 {
		t.Errorf("top client = %+v, want 203.0.113.66 with 20,000 (within its overcount)", snap.Clients[0])
	}
	if len(snap.Clients) != shownClients || len(snap.Events) != 10 {
		t.Errorf("shown %d clients, %d events; want %d, 10", len(snap.Clients), len(snap.Events), shownClients)
	}
}

// Counts leave the window an hour after their minute, bucket by bucket.
func TestHourRolls(t *testing.T) {
	p, clock := newPanel(t, Options{})
	ctx := context.Background()
	p.record(deny("csrf", "csrf_cross_site", "192.0.2.9"))
	clock.Advance(30 * time.Minute)
	p.record(deny("csrf", "csrf_cross_site", "192.0.2.9"))
	p.record(deny("csrf", "csrf_cross_site", "192.0.2.9"))
	if got := p.Snapshot(ctx).DeniedHour; got != 3 {
		t.Fatalf("after 30 min: %d denied in the hour, want 3", got)
	}
	clock.Advance(30 * time.Minute) // the first minute is now 60 minutes old
	snap := p.Snapshot(ctx)
	if snap.DeniedHour != 2 || snap.Denials[0].Hour != 2 {
		t.Errorf("after 60 min: %d denied (%+v), want 2", snap.DeniedHour, snap.Denials)
	}
	if snap.Bars[29].Height != 100 {
		t.Errorf("the 30-minute-old denials are not at bar 29: %+v", snap.Bars[25:32])
	}
	clock.Advance(30 * time.Minute)
	p.record(deny("cors", "origin_not_allowed", "192.0.2.9")) // reuses a stale bucket
	snap = p.Snapshot(ctx)
	if snap.DeniedHour != 1 || len(snap.Denials) != 1 || snap.Denials[0].Guard != "cors" {
		t.Errorf("after 90 min: %d denied (%+v), want the one cors denial", snap.DeniedHour, snap.Denials)
	}
	// The client counts run in epochs of an hour, the last one kept.
	if len(snap.Clients) != 1 || snap.Clients[0].Count != 4 {
		t.Errorf("clients after 90 min = %+v, want 192.0.2.9 with 4 (this epoch and the last)", snap.Clients)
	}
	clock.Advance(3 * time.Hour)
	if snap := p.Snapshot(ctx); snap.DeniedHour != 0 || len(snap.Clients) != 0 {
		t.Errorf("after 4.5 h: %d denied, clients %+v; want nothing", snap.DeniedHour, snap.Clients)
	}
}

func TestSecretsRedacted(t *testing.T) {
	p, _ := newPanel(t, Options{Status: func(context.Context) any {
		return map[string]any{"redis": map[string]any{"password": "hunter2", "up": true}}
	}})
	const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	p.record(&audit.Event{Guard: "authn", Decision: audit.Deny, Reason: "token_malformed", Attrs: []slog.Attr{
		slog.String("token", "tok-secret-1"),
		slog.String("refresh_token", "tok-secret-2"),
		slog.String("X-API-Key", "tok-secret-3"),
		slog.String("Authorization", "Basic dG9rLXNlY3JldC00"),
		slog.Group("upstream", slog.String("cookie", "sid=tok-secret-5")),
		slog.String("error", "verifying "+jwt+": bad"),
		slog.String("detail", "header was Bearer tok-secret-6"),
		slog.Int("keys", 3),
	}})
	b, _ := json.Marshal(p.Snapshot(context.Background()))
	for _, secret := range []string{"tok-secret", "dG9rLXNlY3JldC00", jwt[:20], "hunter2"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("snapshot shows %q: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), "keys=3") || !strings.Contains(string(b), "error=verifying [redacted]: bad") {
		t.Errorf("harmless attributes lost: %s", b)
	}
}

// Event text is escaped in the page, and the page carries the HTML
// profile with a nonce that its style and script use.
func TestPageEscapes(t *testing.T) {
	p, _ := newPanel(t, Options{})
	e := deny("router", "denied", "192.0.2.1")
	e.Route = `/x<script>alert(1)</script>`
	e.Principal = `"><img src=x onerror=alert(2)>`
	p.record(e)
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("GET", "/admin/security", nil))
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Errorf("event text rendered unescaped:\n%s", body)
	}
	if !strings.Contains(body, "/x&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("escaped route missing from the page")
	}
	policy := w.Header().Get("Content-Security-Policy")
	i := strings.Index(policy, "'nonce-")
	if i < 0 || !strings.Contains(policy, "script-src") || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("not the HTML profile with a nonce: CSP %q, Cache-Control %q", policy, w.Header().Get("Cache-Control"))
	}
	nonce := policy[i+len("'nonce-"):]
	nonce = nonce[:strings.IndexByte(nonce, '\'')]
	if strings.Count(html.UnescapeString(body), `nonce="`+nonce+`"`) != 2 {
		t.Errorf("the style and the script do not both carry the nonce %q", nonce)
	}
	if m := regexp.MustCompile(`<(script|link|img|iframe)[^>]*(src|href)="[^d]`).FindString(body); m != "" {
		t.Errorf("the page loads an external asset: %s", m)
	}
}

func TestJSON(t *testing.T) {
	p, _ := newPanel(t, Options{})
	p.record(deny("authz", "missing_role", "192.0.2.1"))
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("GET", "/admin/security?format=json", nil))
	var s Snapshot
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("not JSON (%v): %s", err, w.Body)
	}
	if s.DeniedHour != 1 || s.Events[0].Reason != "missing_role" {
		t.Errorf("snapshot = %+v", s)
	}
	// JSON and problems carry the API profile, not the page's (DESIGN:
	// "JSON responses (errors included) carry the API profile").
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("JSON figures: CSP %q, want the API profile's", csp)
	}
	w = httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("POST", "/admin/security", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("405 problem: CSP %q, want the API profile's", csp)
	}
}

func TestHealth(t *testing.T) {
	p, clock := newPanel(t, Options{})
	ctx := context.Background()
	p.record(&audit.Event{Guard: "ratelimit", Decision: audit.Flag, Reason: "ratelimit_fallback_local", Attrs: []slog.Attr{slog.String("limits", "api")}})
	p.record(&audit.Event{Guard: "redisstore", Decision: audit.Flag, Reason: "store_unavailable"})
	clock.Advance(time.Minute)
	p.record(&audit.Event{Guard: "redisstore", Decision: audit.Allow, Reason: "store_recovered"})
	got := p.Snapshot(ctx).Components
	want := []ComponentRow{
		{Component: "ratelimit (api)", State: "degraded", Decision: "ratelimit_fallback_local", Since: "12:00:30", Last: "12:00:30", Events: 1},
		{Component: "redisstore", State: "ok", Decision: "store_recovered", Since: "12:01:30", Last: "12:01:30", Events: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("components = %+v\nwant %+v", got, want)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, o := range []Options{{MaxClients: -1}, {MaxClients: 1 << 20}, {RecentEvents: -1}, {Refresh: time.Millisecond}} {
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), "use") {
			t.Errorf("New(%+v) = %v, want an error saying what to use", o, err)
		}
	}
}
