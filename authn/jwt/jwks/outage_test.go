package jwks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/metrics"
	"github.com/bulwark-go/bulwark/problem"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signTTL signs a token valid for ttl from now.
func signTTL(t testing.TB, k *jwt.Key, now time.Time, ttl time.Duration) string {
	t.Helper()
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, TTL: ttl, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(jwt.Claims{Subject: "user-" + k.ID()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func verifier(t testing.TB, ks jwt.KeySet, c *testclock.Clock) *jwt.Verifier {
	t.Helper()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{KeySet: ks, Algorithms: []string{jwt.ES256}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// status returns the HTTP status a verification error answers, and its
// audit reason.
func status(err error) (int, string) {
	if err == nil {
		return http.StatusOK, ""
	}
	p, ok := problem.As(err)
	if !ok {
		return -1, err.Error()
	}
	return p.Status, p.Reason
}

// reasons lists the reasons of the recorded events.
func reasons(m *audit.Memory) []string {
	var out []string
	for _, e := range m.Events() {
		out = append(out, e.Reason)
	}
	return out
}

// TestRemoteNoForcedBlindWindow: a key published seconds after a fetch
// (here one forced by a token with a random kid, which anyone can send)
// verifies once MinRefreshInterval (5 s by default) has passed since that
// fetch, not a minute later; a token naming an unknown kid within the
// interval is refused at once as an unknown key, without a fetch.
func TestRemoteNoForcedBlindWindow(t *testing.T) {
	c := testclock.New(t0)
	k1, k2, k3 := genKey(t, "k1"), genKey(t, "k2"), genKey(t, "k3")
	p := &idp{keys: []*jwt.Key{k1}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet}) // defaults
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := verifier(t, r, c)

	// An attacker's random kid forces a fetch.
	c.Advance(10 * time.Second)
	if _, err := v.Verify(context.Background(), sign(t, genKey(t, "random"), c.Now())); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Fatalf("random kid: %v", err)
	}
	if h := p.hits.Load(); h != 2 {
		t.Fatalf("%d fetches, want 2 (initial + the random kid's)", h)
	}
	// The provider publishes k2 a second later.
	p.set(func(p *idp) { p.keys = []*jwt.Key{k1, k2} })
	c.Advance(time.Second)
	// Within the interval: refused at once as unknown, no fetch.
	if _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Fatalf("k2 within the interval: %v, want an unknown key", err)
	}
	if code, _ := status(func() error { _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); return err }()); code != http.StatusUnauthorized {
		t.Fatalf("k2 within the interval answered %d, want 401", code)
	}
	if h := p.hits.Load(); h != 2 {
		t.Fatalf("%d fetches within MinRefreshInterval, want 2", h)
	}
	// 5 s after the forced fetch, k2 verifies.
	c.Advance(4 * time.Second)
	if _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); err != nil {
		t.Fatalf("k2 %v after the forced fetch: %v", 5*time.Second, err)
	}
	// k3 was never published: one fetch shows it, then it is refused
	// without fetching until the interval passes again.
	c.Advance(5 * time.Second)
	for range 3 {
		if _, err := v.Verify(context.Background(), sign(t, k3, c.Now())); !errors.Is(err, jwt.ErrUnknownKey) {
			t.Fatalf("k3: %v", err)
		}
	}
	if h := p.hits.Load(); h != 4 {
		t.Fatalf("%d fetches, want 4", h)
	}
}

// TestRemoteUnknownKidFlood measures the fetches a flood of 1,000 tokens a
// second with random kids causes, over a minute of a virtual clock against
// a real JWKS server, and that a key the provider publishes during the
// flood still verifies within MinRefreshInterval.
func TestRemoteUnknownKidFlood(t *testing.T) {
	c := testclock.New(t0)
	k1, k2 := genKey(t, "k1"), genKey(t, "k2")
	p := &idp{keys: []*jwt.Key{k1}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet}) // defaults
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := verifier(t, r, c)
	// One token per random kid costs an ECDSA signature; the kid is what
	// matters to the set, so the flood looks its kids up directly, as the
	// Verifier does before any signature check.
	const perSecond, seconds = 1000, 60
	publishedAt := 20*time.Second + 500*time.Millisecond
	start, before := c.Now(), p.hits.Load()
	var accepted time.Duration
	for i := range perSecond * seconds {
		c.Advance(time.Second / perSecond)
		elapsed := c.Now().Sub(start)
		if elapsed == publishedAt {
			p.set(func(p *idp) { p.keys = []*jwt.Key{k1, k2} })
		}
		if ks, err := r.Lookup(context.Background(), fmt.Sprintf("random-%d", i), jwt.ES256); len(ks) != 0 || err != nil {
			t.Fatalf("random kid: %v %v", ks, err)
		}
		// The legitimate client presents a k2 token every 100 ms.
		if elapsed > publishedAt && accepted == 0 && i%100 == 0 {
			if _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); err == nil {
				accepted = elapsed - publishedAt
			}
		}
	}
	fetches := p.hits.Load() - before
	t.Logf("%d random kids/s for %ds: %d fetches (%.1f a minute); a key published during the flood verified after %v",
		perSecond, seconds, fetches, float64(fetches)*60/seconds, accepted)
	if limit := int64(seconds*time.Second/jwks.DefaultMinRefreshInterval) + 1; fetches > limit {
		t.Errorf("%d fetches in %ds, want at most %d", fetches, seconds, limit)
	}
	if accepted == 0 {
		t.Errorf("the key published during the flood never verified in the minute, want within %v", jwks.DefaultMinRefreshInterval)
	} else if accepted > jwks.DefaultMinRefreshInterval {
		t.Errorf("the key published during the flood verified after %v, want within %v", accepted, jwks.DefaultMinRefreshInterval)
	}
}

// TestRemoteMaxStaleness: while the JWKS fails the last good keys verify,
// a cached token included, until MaxStaleness after the last successful
// fetch; then they are dropped and every token is refused with 503 and
// Retry-After until the JWKS answers again, without the key it revoked
// in the meantime. Each change of health is one audit event.
func TestRemoteMaxStaleness(t *testing.T) {
	c := testclock.New(t0)
	k1, k2 := genKey(t, "k1"), genKey(t, "k2")
	p := &idp{keys: []*jwt.Key{k1}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	events := audit.NewMemory()
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet, Audit: m.Sink(events), MinRefreshInterval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := verifier(t, r, c)
	cached := signTTL(t, k1, c.Now(), 48*time.Hour)
	if _, err := v.Verify(context.Background(), cached); err != nil {
		t.Fatal(err)
	}
	lastSuccess := c.Now()

	// The JWKS fails; the provider revokes k1 meanwhile.
	p.set(func(p *idp) { p.status = http.StatusBadGateway; p.keys = []*jwt.Key{k2} })
	c.Advance(time.Hour)
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("refresh succeeded")
	}
	st := r.Status()
	if st.State != jwks.StateStale || st.Keys != 1 || !st.StaleSince.Equal(c.Now()) || !st.LastSuccess.Equal(lastSuccess) ||
		!st.DropsAt.Equal(lastSuccess.Add(24*time.Hour)) || !strings.Contains(st.LastError, "502") {
		t.Errorf("status while stale: %+v", st)
	}
	for _, d := range []time.Duration{time.Hour, 21*time.Hour - time.Second} {
		c.Advance(d)
		_ = r.Refresh(context.Background())
		if _, err := v.Verify(context.Background(), cached); err != nil {
			t.Fatalf("stale key at %v: %v", c.Now().Sub(lastSuccess), err)
		}
		if _, err := v.Verify(context.Background(), sign(t, k1, c.Now())); err != nil {
			t.Fatalf("stale key at %v: %v", c.Now().Sub(lastSuccess), err)
		}
	}
	// An unknown kid while failing: the set cannot tell, so 503.
	if code, reason := status(func() error { _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); return err }()); code != 503 || reason != "jwks_unavailable" {
		t.Errorf("unknown kid while failing: %d %s", code, reason)
	}

	// Past MaxStaleness, with no refresh in between: dropped.
	c.Set(lastSuccess.Add(24*time.Hour + time.Second))
	for _, tok := range []string{cached, sign(t, k1, c.Now())} {
		_, err := v.Verify(context.Background(), tok)
		code, reason := status(err)
		p, _ := problem.As(err)
		if code != http.StatusServiceUnavailable || reason != "jwks_unavailable" || p.Header("Retry-After") == "" || !errors.Is(err, jwks.ErrUnavailable) {
			t.Fatalf("a dropped key answered %d %s (%v), want 503 jwks_unavailable with Retry-After", code, reason, err)
		}
	}
	if st := r.Status(); st.State != jwks.StateUnavailable || st.Keys != 0 || !st.UnavailableSince.Equal(c.Now()) {
		t.Errorf("status after the drop: %+v", st)
	}

	// The JWKS answers again, without k1.
	p.set(func(p *idp) { p.status = 0 })
	c.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if code, _ := status(func() error { _, err := v.Verify(context.Background(), cached); return err }()); code != http.StatusUnauthorized {
		t.Fatalf("the revoked key answered %d after recovery, want 401", code)
	}
	if got, want := reasons(events), []string{"jwks_stale", "jwks_unavailable", "jwks_recovered"}; !equal(got, want) {
		t.Fatalf("events %v, want %v (one per change)", got, want)
	}
	for _, e := range events.Events() {
		if e.Guard != "jwks" || e.Decision != audit.Flag || e.Time.IsZero() {
			t.Errorf("event %+v", e)
		}
	}
	if st := r.Status(); st.State != jwks.StateFresh || st.Keys != 1 || st.LastError != "" || !st.StaleSince.IsZero() {
		t.Fatalf("status after recovery: %+v", st)
	}
	w := httptest.NewRecorder()
	m.Exposition().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, reason := range []string{"jwks_stale", "jwks_unavailable", "jwks_recovered"} {
		if want := `bulwark_security_events_total{decision="flag",guard="jwks",reason="` + reason + `"} 1`; !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

// TestRemoteUnavailableAtStart: a JWKS that fails from the start answers
// 503 (not 401: the set cannot tell) and says so once; the first fetch
// that succeeds, triggered by a token, recovers it.
func TestRemoteUnavailableAtStart(t *testing.T) {
	c := testclock.New(t0)
	k1 := genKey(t, "k1")
	p := &idp{keys: []*jwt.Key{k1}, status: http.StatusInternalServerError}
	srv := httptest.NewServer(p)
	defer srv.Close()
	events := audit.NewMemory()
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet, Audit: events})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := verifier(t, r, c)
	for range 3 {
		_, err := v.Verify(context.Background(), sign(t, k1, c.Now()))
		if code, reason := status(err); code != http.StatusServiceUnavailable || reason != "jwks_unavailable" {
			t.Fatalf("no keys: %d %s", code, reason)
		}
		p, _ := problem.As(err)
		if p.Header("Retry-After") != "5" {
			t.Fatalf("Retry-After %q, want 5 (MinRefreshInterval)", p.Header("Retry-After"))
		}
	}
	if h := p.hits.Load(); h != 1 {
		t.Fatalf("%d fetches, want 1 (the others within MinRefreshInterval)", h)
	}
	p.set(func(p *idp) { p.status = 0 })
	c.Advance(5 * time.Second)
	if _, err := v.Verify(context.Background(), sign(t, k1, c.Now())); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if got, want := reasons(events), []string{"jwks_unavailable", "jwks_recovered"}; !equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestRemoteHealthLogLines: with nothing configured but a logger, each
// change of health is one log line (however many fetches fail), carrying
// the reason, and Status is JSON for a status page.
func TestRemoteHealthLogLines(t *testing.T) {
	c := testclock.New(t0)
	p := &idp{keys: []*jwt.Key{genKey(t, "k1")}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	r, err := jwks.New(jwks.Options{URL: srv.URL + "/jwks?tenant=secret", Now: c.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p.set(func(p *idp) { p.status = http.StatusServiceUnavailable })
	for range 5 {
		c.Advance(time.Minute)
		_ = r.Refresh(context.Background())
		_, _ = r.Lookup(context.Background(), "other", jwt.ES256)
	}
	c.Advance(24 * time.Hour)
	_, _ = r.Lookup(context.Background(), "k1", jwt.ES256)
	_, _ = r.Lookup(context.Background(), "k1", jwt.ES256)
	p.set(func(p *idp) { p.status = 0 })
	_ = r.Refresh(context.Background())
	_ = r.Refresh(context.Background())

	mu.Lock()
	out := strings.TrimSpace(buf.String())
	mu.Unlock()
	var got []string
	for l := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["guard"] != "jwks" || m["level"] != "WARN" || !strings.Contains(l, `"url":"http://127.0.0.1`) || strings.Contains(l, "secret") {
			t.Errorf("line %s", l)
		}
		got = append(got, fmt.Sprint(m["reason"]))
	}
	if want := []string{"jwks_stale", "jwks_unavailable", "jwks_recovered"}; !equal(got, want) {
		t.Fatalf("log lines %v, want %v:\n%s", got, want, buf.String())
	}
	b, err := json.Marshal(r.Status())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"state":"fresh"`, `"keys":1`, `"max_staleness_seconds":86400`, `"min_refresh_seconds":5`, `"outage_policy":"`, `"last_success":"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("status JSON lacks %s: %s", want, b)
		}
	}
	if bytes.Contains(b, []byte("stale_since")) || bytes.Contains(b, []byte("secret")) {
		t.Errorf("status JSON: %s", b)
	}
}

// TestRemoteBackgroundRetriesAndDrops: with no lookups at all, the
// background retries a failing JWKS after MinRefreshInterval, doubling up
// to a minute, and drops the keys at MaxStaleness on time.
func TestRemoteBackgroundRetriesAndDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &idp{keys: []*jwt.Key{genKey(t, "k1")}, cc: []string{}}
		events := audit.NewMemory()
		r, err := jwks.New(jwks.Options{
			URL: "https://idp.test/jwks.json", Logger: quiet, Audit: events, RefreshInterval: 10 * time.Minute,
			MaxStaleness: time.Hour, Client: &http.Client{Transport: roundTripper{p}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		start := time.Now()
		p.set(func(p *idp) { p.status = http.StatusInternalServerError })
		time.Sleep(10 * time.Minute) // the scheduled fetch fails
		synctest.Wait()
		var at []time.Duration
		for p.hits.Load() < 8 {
			h := p.hits.Load()
			time.Sleep(time.Second)
			synctest.Wait()
			if p.hits.Load() != h {
				at = append(at, time.Since(start)-10*time.Minute)
			}
		}
		want := []time.Duration{5, 15, 35, 75, 135, 195} // 5, 10, 20, 40, 60, 60 s apart
		for i := range want {
			want[i] *= time.Second
		}
		if fmt.Sprint(at) != fmt.Sprint(want) {
			t.Fatalf("retries at %v after the first failure, want %v", at, want)
		}
		time.Sleep(time.Hour - time.Since(start) - time.Second)
		synctest.Wait()
		if got := reasons(events); !equal(got, []string{"jwks_stale"}) {
			t.Fatalf("events before MaxStaleness: %v", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := reasons(events); !equal(got, []string{"jwks_stale", "jwks_unavailable"}) || len(r.Keys()) != 0 {
			t.Fatalf("events at MaxStaleness: %v, keys %v", got, r.Keys())
		}
		if e := events.Events()[1]; !e.Time.Equal(start.Add(time.Hour)) {
			t.Fatalf("dropped at %v, want %v", e.Time.Sub(start), time.Hour)
		}
		p.set(func(p *idp) { p.status = 0 })
		time.Sleep(time.Minute)
		synctest.Wait()
		if len(r.Keys()) != 1 || r.Status().State != jwks.StateFresh {
			t.Fatalf("not recovered in the background: %+v", r.Status())
		}
	})
}

func TestRemoteStalenessOptions(t *testing.T) {
	for _, o := range []jwks.Options{
		{MaxStaleness: 10 * time.Minute}, // below RefreshInterval
		{MinRefreshInterval: time.Hour},  // above RefreshInterval
	} {
		o.URL, o.Logger = "https://idp.invalid/jwks.json", quiet
		o.Client = &http.Client{Transport: roundTripper{&idp{status: 500}}}
		if r, err := jwks.New(o); err == nil {
			r.Close()
			t.Errorf("%+v accepted", o)
		}
	}
	// Negative: never dropped.
	c := testclock.New(t0)
	p := &idp{keys: []*jwt.Key{genKey(t, "k1")}}
	r, err := jwks.New(jwks.Options{URL: "https://idp.test/jwks.json", Now: c.Now, Logger: quiet, MaxStaleness: -1,
		Client: &http.Client{Transport: roundTripper{p}}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p.set(func(p *idp) { p.status = 500 })
	_ = r.Refresh(context.Background())
	c.Advance(365 * 24 * time.Hour)
	if ks, err := r.Lookup(context.Background(), "k1", jwt.ES256); len(ks) != 1 || err != nil {
		t.Fatalf("MaxStaleness negative: %v %v", ks, err)
	}
	if st := r.Status(); !st.DropsAt.IsZero() || !strings.Contains(st.OutagePolicy, "no time limit") {
		t.Fatalf("%+v", st)
	}
}

// BenchmarkLookupUnknownKid: what refusing a random kid costs within
// MinRefreshInterval, the path a flood of random kids takes.
func BenchmarkLookupUnknownKid(b *testing.B) {
	p := &idp{keys: []*jwt.Key{genKey(b, "k1")}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r, err := jwks.New(jwks.Options{URL: srv.URL, Logger: quiet, MinRefreshInterval: time.Hour, RefreshInterval: 2 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	kids := make([]string, 1024)
	for i := range kids {
		kids[i] = fmt.Sprintf("random-%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if ks, err := r.Lookup(context.Background(), kids[i%len(kids)], jwt.ES256); len(ks) != 0 || err != nil {
				b.Error(ks, err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	if h := p.hits.Load(); h != 1 {
		b.Fatalf("%d fetches", h)
	}
}

// TestRemoteMaxAgeOverHTTP: the refresh period a real server's
// Cache-Control sets, within the bounds, as Status reports it.
func TestRemoteMaxAgeOverHTTP(t *testing.T) {
	c := testclock.New(t0)
	p := &idp{keys: []*jwt.Key{genKey(t, "k1")}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		cc   []string
		want time.Duration
	}{
		{nil, 300 * time.Second}, // jwt.JWKSHandler's own max-age
		{[]string{"public, max-age=42"}, 42 * time.Second},
		{[]string{"max-age=2"}, jwks.DefaultMinRefreshInterval},
		{[]string{"max-age=604800"}, jwks.DefaultRefreshInterval},
		{[]string{"no-cache"}, jwks.DefaultRefreshInterval},
	} {
		p.set(func(p *idp) { p.cc = tc.cc })
		c.Advance(time.Second)
		if err := r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := r.Status()
		if got := time.Duration(st.RefreshSeconds * float64(time.Second)); got != tc.want || !st.NextRefresh.Equal(c.Now().Add(tc.want)) {
			t.Errorf("Cache-Control %q: period %v, next refresh in %v; want %v", tc.cc, got, st.NextRefresh.Sub(c.Now()), tc.want)
		}
	}
}
