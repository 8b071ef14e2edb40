package csp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
)

const csp2Report = `{"csp-report":{"document-uri":"https://app.example.com/page?secret=1","referrer":"",
"violated-directive":"script-src-elem","effective-directive":"script-src-elem",
"original-policy":"script-src 'nonce-x' 'strict-dynamic'; report-uri /csp","disposition":"enforce",
"blocked-uri":"https://evil.example/x.js","line-number":3,"source-file":"https://app.example.com/page","status-code":200,"script-sample":""}}`

const reportingBatch = `[{"type":"csp-violation","age":12,"url":"https://app.example.com/a","user_agent":"UA",
"body":{"documentURL":"https://app.example.com/a","blockedURL":"inline","effectiveDirective":"style-src-elem",
"originalPolicy":"style-src 'self'","disposition":"report","sample":"body{}","statusCode":200}},
{"type":"deprecation","age":1,"url":"https://app.example.com/a","body":{"id":"x","message":"m"}},
{"type":"csp-violation","age":3,"url":"https://app.example.com/b",
"body":{"documentURL":"https://app.example.com/b","blockedURL":"eval","effectiveDirective":"script-src","disposition":"enforce"}}]`

func attrs(e audit.Event) map[string]string {
	m := map[string]string{}
	for _, a := range e.Attrs {
		m[a.Key] = a.Value.String()
	}
	return m
}

func post(h http.Handler, ct, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/csp-reports", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestCollectorAccepts(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           []map[string]string
	}{
		{"csp2", "application/csp-report", csp2Report, []map[string]string{
			{"directive": "script-src-elem", "blocked_uri": "https://evil.example/x.js", "document_host": "app.example.com", "disposition": "enforce"}}},
		{"csp2 with charset", "Application/CSP-Report; charset=utf-8", csp2Report, []map[string]string{
			{"directive": "script-src-elem", "blocked_uri": "https://evil.example/x.js", "document_host": "app.example.com", "disposition": "enforce"}}},
		{"csp1 violated-directive", "application/csp-report",
			`{"csp-report":{"document-uri":"http://a.example/","violated-directive":"img-src 'self'","blocked-uri":"data"}}`,
			[]map[string]string{{"directive": "img-src", "blocked_uri": "data", "document_host": "a.example", "disposition": ""}}},
		{"reporting api", "application/reports+json", reportingBatch, []map[string]string{
			{"directive": "style-src-elem", "blocked_uri": "inline", "document_host": "app.example.com", "disposition": "report"},
			{"directive": "script-src", "blocked_uri": "eval", "document_host": "app.example.com", "disposition": "enforce"}}},
		{"reporting api without csp reports", "application/reports+json", `[{"type":"deprecation","body":{}}]`, nil},
		{"empty batch", "application/reports+json", `[]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mem := unthrottled(t, 0)
			rec := post(c, tc.ct, tc.body)
			if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
				t.Fatalf("status %d body %q", rec.Code, rec.Body)
			}
			ev := mem.Events()
			if len(ev) != len(tc.want) {
				t.Fatalf("%d events, want %d", len(ev), len(tc.want))
			}
			for i, e := range ev {
				if e.Guard != "csp" || e.Decision != audit.Flag || e.Reason != "csp_violation" || e.Status != 204 {
					t.Fatalf("event %+v", e)
				}
				if got := attrs(e); fmt.Sprint(got) != fmt.Sprint(tc.want[i]) {
					t.Fatalf("attrs %v, want %v", got, tc.want[i])
				}
			}
		})
	}
}

func TestCollectorRefuses(t *testing.T) {
	big := `{"csp-report":{"effective-directive":"img-src","blocked-uri":"` + strings.Repeat("a", 70<<10) + `"}}`
	tests := []struct {
		name, method, ct, body string
		chunked                bool
		status                 int
		reason                 string
	}{
		{"get", "GET", "", "", false, 405, "method_not_allowed"},
		{"json", "POST", "application/json", csp2Report, false, 415, "unsupported_media_type"},
		{"no type", "POST", "", csp2Report, false, 415, "unsupported_media_type"},
		{"form", "POST", "application/x-www-form-urlencoded", "a=b", false, 415, "unsupported_media_type"},
		{"too large by length", "POST", "application/csp-report", big, false, 413, "body_too_large"},
		{"too large streamed", "POST", "application/csp-report", big, true, 413, "body_too_large"},
		{"not json", "POST", "application/csp-report", "<script>alert(1)</script>", false, 400, "malformed_report"},
		{"wrong shape", "POST", "application/csp-report", `{"report":{}}`, false, 400, "malformed_report"},
		{"array as csp2", "POST", "application/csp-report", reportingBatch, false, 400, "malformed_report"},
		{"object as batch", "POST", "application/reports+json", csp2Report, false, 400, "malformed_report"},
		{"no directive", "POST", "application/csp-report", `{"csp-report":{"blocked-uri":"x"}}`, false, 400, "malformed_report"},
		{"bad directive", "POST", "application/csp-report", `{"csp-report":{"effective-directive":"<img src=x>"}}`, false, 400, "malformed_report"},
		{"csp-violation without body", "POST", "application/reports+json", `[{"type":"csp-violation"}]`, false, 400, "malformed_report"},
		{"trailing garbage", "POST", "application/csp-report", csp2Report + "x", false, 400, "malformed_report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mem := unthrottled(t, 0)
			r := httptest.NewRequest(tc.method, "/csp-reports", strings.NewReader(tc.body))
			if tc.chunked {
				r.ContentLength = -1
			}
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Fatalf("content type %q", ct)
			}
			if strings.Contains(rec.Body.String(), "alert") || strings.Contains(rec.Body.String(), "img src") {
				t.Fatalf("report content reflected: %s", rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["status"] != float64(tc.status) {
				t.Fatalf("body %s (%v)", rec.Body, err)
			}
			ev := mem.Events()
			if len(ev) != 1 || ev[0].Decision != audit.Deny || ev[0].Reason != tc.reason || ev[0].Guard != "csp" {
				t.Fatalf("events %+v, want one deny %s", ev, tc.reason)
			}
		})
	}
}

// TestCollectorGlobalLimit: the global limit bounds everyone's reports
// together, and a run of refusals is audited once.
func TestCollectorGlobalLimit(t *testing.T) {
	// One client, with a per-client limit large enough to leave the global
	// one in charge: 2/s, burst 3.
	c, mem, clock := throttled(t, 100, 100, 3, 2)
	for i := 0; i < 3; i++ {
		if rec := post(c, csp.MediaTypeCSPReport, csp2Report); rec.Code != 204 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := post(c, csp.MediaTypeCSPReport, csp2Report)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	clock.Advance(500 * time.Millisecond) // one token at 2/s
	if rec := post(c, csp.MediaTypeCSPReport, csp2Report); rec.Code != 204 {
		t.Fatalf("after refill: %d", rec.Code)
	}
	if rec := post(c, csp.MediaTypeCSPReport, csp2Report); rec.Code != 429 {
		t.Fatalf("second after refill: %d", rec.Code)
	}
	clock.Advance(time.Hour) // the bucket caps at its burst
	for i := 0; i < 3; i++ {
		if rec := post(c, csp.MediaTypeCSPReport, csp2Report); rec.Code != 204 {
			t.Fatalf("after an hour, request %d: %d", i, rec.Code)
		}
	}
	for i := 0; i < 10; i++ {
		if rec := post(c, csp.MediaTypeCSPReport, csp2Report); rec.Code != 429 {
			t.Fatalf("burst not capped: %d", rec.Code)
		}
	}
	var flags, denies int
	for _, e := range mem.Events() {
		switch e.Decision {
		case audit.Flag:
			flags++
		case audit.Deny:
			denies++
			if e.Reason != "rate_limited" || !strings.Contains(attrs(e)["error"], `"csp"`) {
				t.Errorf("deny event %+v, want rate_limited by policy csp", e)
			}
		}
	}
	if flags != 7 || denies != 3 {
		t.Fatalf("%d flags, %d denies; want 7 flags and one deny per run of refusals", flags, denies)
	}
}

func TestCollectorBatchCapAndSanitizing(t *testing.T) {
	var entries []string
	for i := 0; i < 30; i++ {
		entries = append(entries, `{"type":"csp-violation","body":{"documentURL":"https://a.example/","effectiveDirective":"img-src","blockedURL":"https://x.example/\u0000\u001b[31m`+strings.Repeat("é", 300)+`"}}`)
	}
	c, mem := unthrottled(t, 5)
	if rec := post(c, csp.MediaTypeReports, "["+strings.Join(entries, ",")+"]"); rec.Code != 204 {
		t.Fatalf("status %d", rec.Code)
	}
	ev := mem.Events()
	if len(ev) != 5 {
		t.Fatalf("%d events, want 5", len(ev))
	}
	last := attrs(ev[4])
	if last["dropped"] != "25" {
		t.Fatalf("dropped = %q", last["dropped"])
	}
	b := last["blocked_uri"]
	if len(b) > 256 || strings.ContainsAny(b, "\x00\x1b") || !strings.HasPrefix(b, "https://x.example/[31mé") || strings.ContainsRune(b, '\uFFFD') {
		t.Fatalf("blocked_uri not sanitized: %q (%d bytes)", b, len(b))
	}
}

func TestNewCollectorRefuses(t *testing.T) {
	for _, o := range []csp.CollectorOptions{{MaxBodyBytes: -1, Limiter: admitAll{}}, {MaxReports: -1, Limiter: admitAll{}}} {
		if _, err := csp.NewCollector(o); err == nil {
			t.Errorf("NewCollector(%+v) succeeded", o)
		}
	}
	// Secure by default: no limiter, no collector, and the error says how
	// to build one.
	_, err := csp.NewCollector(csp.CollectorOptions{Audit: audit.NewMemory()})
	if err == nil || !strings.Contains(err.Error(), "Limiter is required") ||
		!strings.Contains(err.Error(), `ratelimit.TokenBucket(5, 1).Named("csp-client").By(ratelimit.ByIP())`) {
		t.Fatalf("without a Limiter: %v", err)
	}
}

// The limiter decides before the body is read, and its problem is the
// answer, whatever it is.
func TestCollectorAsksLimiterFirst(t *testing.T) {
	refuse := limiterFunc(func(r *http.Request) (*http.Request, *problem.Problem) {
		return r, problem.Unavailable(3*time.Second, "busy").WithReason("ratelimit_unavailable")
	})
	c, err := csp.NewCollector(csp.CollectorOptions{Limiter: refuse})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/csp-reports", failReader{t})
	r.Header.Set("Content-Type", csp.MediaTypeCSPReport)
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, r)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("the body was read before the limiter decided")
	return 0, io.EOF
}

func TestCollectorErrorHandler(t *testing.T) {
	var got *problem.Problem
	c, err := csp.NewCollector(csp.CollectorOptions{Limiter: admitAll{}, ErrorHandler: func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
		got = p
		w.WriteHeader(p.Status)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := post(c, "text/plain", "x"); rec.Code != 415 || got == nil || got.Reason != "unsupported_media_type" {
		t.Fatalf("status %d, problem %+v", rec.Code, got)
	}
}

// FuzzReports checks that the collector's parser never panics and that
// every field it keeps is bounded and clean, whatever the body.
func FuzzReports(f *testing.F) {
	f.Add(true, csp2Report)
	f.Add(false, reportingBatch)
	f.Add(true, `{"csp-report":{"violated-directive":"script-src 'self'","blocked-uri":"inline"}}`)
	f.Add(false, `[{"type":"csp-violation","body":null}]`)
	f.Add(false, `[{"type":"csp-violation","url":"http://[::1]:x/","body":{"effectiveDirective":"IMG-SRC","blockedURL":"\u202e\ud800"}}]`)
	f.Add(true, `{"csp-report":null}`)
	f.Add(false, `[1,2,3]`)
	f.Fuzz(func(t *testing.T, csp2 bool, body string) {
		ct := csp.MediaTypeReports
		if csp2 {
			ct = csp.MediaTypeCSPReport
		}
		reps, dropped, err := csp.ParseReports(ct, []byte(body), 3)
		if err != nil {
			if len(reps) != 0 {
				t.Fatal("reports with an error")
			}
			return
		}
		if len(reps) > 3 || dropped < 0 || (csp2 && len(reps) != 1) {
			t.Fatalf("%d reports, %d dropped", len(reps), dropped)
		}
		for _, r := range reps {
			if r.Directive == "" || strings.Trim(r.Directive, "abcdefghijklmnopqrstuvwxyz-") != "" {
				t.Fatalf("directive %q", r.Directive)
			}
			if len(r.BlockedURI) > 256 || len(r.DocumentHost) > 253 {
				t.Fatalf("unbounded field: %q %q", r.BlockedURI, r.DocumentHost)
			}
			for _, s := range []string{r.BlockedURI, r.DocumentHost} {
				if strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
					t.Fatalf("control character in %q", s)
				}
			}
			if r.Disposition != "" && r.Disposition != "enforce" && r.Disposition != "report" {
				t.Fatalf("disposition %q", r.Disposition)
			}
		}
	})
}

// postFrom posts a CSP2 report from the client at addr: through the
// identity guard's request state when viaState, else as the connection's
// peer address.
func postFrom(h http.Handler, addr string, viaState bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/csp-reports", strings.NewReader(csp2Report))
	r.Header.Set("Content-Type", csp.MediaTypeCSPReport)
	if viaState {
		ctx, st := reqctx.New(r.Context())
		st.ClientIP = netip.MustParseAddr(addr)
		r = r.WithContext(ctx)
	} else {
		r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(addr), 4711).String()
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestCollectorPerClientLimit: one client flooding the collector is
// limited on its own, does not crowd out other clients' reports, and
// spends none of the global quota with its refused requests.
func TestCollectorPerClientLimit(t *testing.T) {
	// The figures of the package documentation (and the demo): 1/s burst 5
	// per client, 10/s burst 20 overall.
	c, mem, clock := throttled(t, 5, 1, 20, 10)
	const flooder = "198.51.100.7"
	accepted := 0
	for i := 0; i < 100; i++ {
		if rec := postFrom(c, flooder, false); rec.Code == 204 {
			accepted++
		} else if rec.Code != 429 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if accepted != 5 {
		t.Fatalf("the flooder got %d reports in, want its burst of 5", accepted)
	}
	rec := postFrom(c, flooder, false)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("flooder: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Other clients still get their reports in: by peer address, by the
	// identity guard's client IP (the flooder's peer address is ignored
	// then), and over IPv6.
	for _, tc := range []struct {
		addr     string
		viaState bool
	}{{"198.51.100.8", false}, {"203.0.113.9", true}, {"2001:db8:1:2::1", false}} {
		if rec := postFrom(c, tc.addr, tc.viaState); rec.Code != 204 {
			t.Errorf("client %s (state %v) crowded out: %d", tc.addr, tc.viaState, rec.Code)
		}
	}
	// An IPv6 client's /64 is one client.
	for i := 0; i < 4; i++ {
		postFrom(c, fmt.Sprintf("2001:db8:1:2::%x", i+2), false)
	}
	if rec := postFrom(c, "2001:db8:1:2:ffff::1", false); rec.Code != 429 {
		t.Errorf("sixth report from one /64: %d, want 429", rec.Code)
	}
	// One audit event per run of refusals, not one per refused request.
	var denies []audit.Event
	for _, e := range mem.Events() {
		if e.Decision == audit.Deny {
			denies = append(denies, e)
		}
	}
	if len(denies) != 2 || denies[0].Reason != "rate_limited" || !strings.Contains(attrs(denies[0])["error"], `"csp-client"`) {
		t.Fatalf("deny events %+v, want one per run of per-client refusals", denies)
	}
	// So far 5 + 3 + 4 reports got in: the 96 refusals spent none of the
	// global burst of 20, whose last 8 go to new clients.
	for i := 0; i < 8; i++ {
		if rec := postFrom(c, fmt.Sprintf("192.0.2.%d", i+1), false); rec.Code != 204 {
			t.Fatalf("new client %d: %d", i, rec.Code)
		}
	}
	if rec := postFrom(c, "192.0.2.100", false); rec.Code != 429 {
		t.Fatalf("past the global burst: %d", rec.Code)
	}
	if e := mem.Events(); !strings.Contains(attrs(e[len(e)-1])["error"], `policy "csp"`) {
		t.Fatalf("last event %+v, want a refusal by the global policy", e[len(e)-1])
	}
	// The flooder's quota refills at its own rate.
	clock.Advance(time.Second)
	if rec := postFrom(c, flooder, false); rec.Code != 204 {
		t.Fatalf("after a second: %d", rec.Code)
	}
	if rec := postFrom(c, flooder, false); rec.Code != 429 {
		t.Fatalf("second after a second: %d", rec.Code)
	}
}

// unthrottled is a collector whose limiter admits everything, for the
// tests that are not about throttling, with MaxReports maxReports; its
// audit events go to the returned Memory.
func unthrottled(t *testing.T, maxReports int) (*csp.Collector, *audit.Memory) {
	t.Helper()
	mem := audit.NewMemory()
	c, err := csp.NewCollector(csp.CollectorOptions{Audit: mem, MaxReports: maxReports, Limiter: admitAll{}})
	if err != nil {
		t.Fatal(err)
	}
	return c, mem
}

// admitAll is a Limiter that admits every request.
type admitAll struct{}

func (admitAll) Check(r *http.Request) (*http.Request, *problem.Problem) { return r, nil }

type limiterFunc func(*http.Request) (*http.Request, *problem.Problem)

func (f limiterFunc) Check(r *http.Request) (*http.Request, *problem.Problem) { return f(r) }

// throttled is a collector behind the limiter the package documentation
// recommends, with the given burst and rate per client (by IP) and
// overall, on a fake clock; its audit events go to the returned Memory.
func throttled(t *testing.T, clientBurst int, clientRate float64, burst int, rate float64) (*csp.Collector, *audit.Memory, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(time.Unix(1_700_000_000, 0))
	l, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.TokenBucket(clientBurst, clientRate).Named("csp-client").By(ratelimit.ByIP()),
			ratelimit.TokenBucket(burst, rate).Named("csp").By(ratelimit.Global()),
		},
		Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mem := audit.NewMemory()
	c, err := csp.NewCollector(csp.CollectorOptions{Audit: mem, Limiter: l})
	if err != nil {
		t.Fatal(err)
	}
	return c, mem, clock
}

// TestCollectorThrottlesMalformedFloods: the limiter counts every request,
// malformed ones included, so a flood of GETs (405) or of other media
// types (415) is throttled and its refusals are audited once per run, not
// once per request.
func TestCollectorThrottlesMalformedFloods(t *testing.T) {
	c, mem, _ := throttled(t, 5, 1, 20, 10)
	codes := map[int]int{}
	for range 50 {
		r := httptest.NewRequest("GET", "/csp-reports", nil)
		r.RemoteAddr = "198.51.100.7:1234"
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		codes[w.Code]++
	}
	if codes[405] != 5 || codes[429] != 45 {
		t.Fatalf("answers %v, want the client's burst of 5 as 405s, then 429s", codes)
	}
	if n := len(mem.Events()); n != 6 {
		t.Fatalf("%d audit events for 5 refused GETs and a run of 45 throttled ones, want 6", n)
	}
}

// TestCollectorAuditsEachLimitOnce: a run of refusals is audited once per
// limit: the global limit starting to refuse is news even while one
// client's run of refusals goes on.
func TestCollectorAuditsEachLimitOnce(t *testing.T) {
	c, mem, _ := throttled(t, 1, 1, 3, 1)
	policies := func() (out []string) {
		for _, e := range mem.Events() {
			if e.Decision == audit.Deny {
				out = append(out, attrs(e)["error"])
			}
		}
		return out
	}
	postFrom(c, "198.51.100.7", false) // admitted: the flooder's burst of 1
	for range 3 {
		postFrom(c, "198.51.100.7", false) // refused by its own limit: audited once
	}
	postFrom(c, "203.0.113.1", false) // admitted (global: 2 of 3); clears the run
	postFrom(c, "203.0.113.2", false) // admitted (global: 3 of 3)
	for _, ip := range []string{"203.0.113.3", "203.0.113.4"} {
		if rec := postFrom(c, ip, false); rec.Code != 429 {
			t.Fatalf("past the global burst: %d", rec.Code)
		}
	}
	postFrom(c, "198.51.100.7", false) // the flooder again: its own limit, a new run
	got := policies()
	if len(got) != 3 || !strings.Contains(got[0], `"csp-client"`) || !strings.Contains(got[1], `"csp"`) || !strings.Contains(got[2], `"csp-client"`) {
		t.Fatalf("deny events %q, want csp-client, csp, csp-client", got)
	}
}
