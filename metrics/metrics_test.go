package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Exposition().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}

// TestRequestsAndDenials: requests are counted by method, route pattern and
// status; denials by guard and reason, from the audit stream.
func TestRequestsAndDenials(t *testing.T) {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := m.Handler(mux)
	for _, p := range []string{"/items/1", "/items/2", "/other"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	sink := m.Sink(nil)
	sink.Record(context.Background(), &audit.Event{Guard: "ratelimit", Decision: audit.Deny, Reason: "rate_limited"})
	sink.Record(context.Background(), &audit.Event{Guard: "csp", Decision: audit.Flag, Reason: "csp_violation"})
	// A store's outage and recovery: one event each, one count each.
	sink.Record(context.Background(), &audit.Event{Guard: "redisstore", Decision: audit.Flag, Reason: "store_unavailable"})
	sink.Record(context.Background(), &audit.Event{Guard: "redisstore", Decision: audit.Allow, Reason: "store_recovered"})
	out := scrape(t, m)
	for _, want := range []string{
		`bulwark_http_requests_total{code="204",method="GET",route="GET /items/{id}"} 2`,
		`bulwark_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`bulwark_denials_total{guard="ratelimit",reason="rate_limited"} 1`,
		`bulwark_security_events_total{decision="flag",guard="csp",reason="csp_violation"} 1`,
		`bulwark_security_events_total{decision="flag",guard="redisstore",reason="store_unavailable"} 1`,
		`bulwark_security_events_total{decision="allow",guard="redisstore",reason="store_recovered"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, `bulwark_denials_total{guard="csp"`) || strings.Contains(out, `bulwark_security_events_total{decision="deny"`) {
		t.Error("a flag counted as a denial, or a denial as another event")
	}
}

// TestOwnRegistry: Bulwark's collectors join an application's registry;
// a second Metrics on the same registry is an error, not a panic.
func TestOwnRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(metrics.Options{Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(metrics.Options{Registry: reg}); err == nil || !strings.Contains(err.Error(), "one Metrics per registry") {
		t.Fatalf("second Metrics on one registry: %v", err)
	}
}

// TestMethodLabelIsClosed: a client cannot add series through the method
// (net/http passes any token up to a megabyte long to the handler): every
// unknown method, lower-case spellings included, counts as "_OTHER".
func TestMethodLabelIsClosed(t *testing.T) {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.NotFoundHandler())
	for i := range 500 {
		method := strings.Repeat("X", 10<<10) + strconv.Itoa(i)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/api/public", nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("get", "/", nil))
	for _, method := range metrics.DefaultKnownMethods() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/", nil))
	}
	if n := series(t, m, "bulwark_http_requests_total"); n != 1+len(metrics.DefaultKnownMethods()) {
		t.Fatalf("%d request series, want one per known method and one for the rest", n)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`bulwark_http_requests_total{code="404",method="_OTHER",route="unmatched"} 501`,
		`bulwark_http_requests_total{code="404",method="QUERY",route="unmatched"} 1`,
		`bulwark_http_requests_total{code="404",method="PATCH",route="unmatched"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if len(out) > 64<<10 {
		t.Fatalf("exposition is %d bytes", len(out))
	}
}

// TestKnownMethods: the list replaces the default, and New refuses what
// is not a method.
func TestKnownMethods(t *testing.T) {
	m, err := metrics.New(metrics.Options{KnownMethods: append(metrics.DefaultKnownMethods(), "PROPFIND")})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.NotFoundHandler())
	for _, method := range []string{"PROPFIND", "MKCOL", "GET"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/", nil))
	}
	out := scrape(t, m)
	for _, want := range []string{`method="PROPFIND"`, `method="_OTHER"`, `method="GET"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, bad := range [][]string{{"GET", "BAD METHOD"}, {""}, {"_OTHER"}, make([]string, 65)} {
		if _, err := metrics.New(metrics.Options{KnownMethods: bad}); err == nil || !strings.Contains(err.Error(), "KnownMethods") {
			t.Errorf("KnownMethods %q: %v", bad, err)
		}
	}
}

func series(t *testing.T, m *metrics.Metrics, name string) int {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}
