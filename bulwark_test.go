package bulwark_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/metrics"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/recovery"
)

// tag returns a guard that appends name to the X-Order request header.
func tag(name string) bulwark.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Add("X-Order", name)
			next.ServeHTTP(w, r)
		})
	}
}

func TestPolicyOrder(t *testing.T) {
	p := bulwark.Policy{
		Authz: tag("authz"), CSRF: tag("csrf"), PostAuthLimits: tag("postlimit"), Authn: tag("authn"),
		Abuse: tag("abuse"), PreAuthLimits: tag("prelimit"), CORS: tag("cors"), BodyLimit: tag("body"), Headers: tag("headers"),
		Metrics: tag("metrics"), AccessLog: tag("log"), Recovery: tag("recovery"), Identity: tag("identity"),
	}
	var got string
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = strings.Join(r.Header.Values("X-Order"), ",")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := "identity,log,metrics,recovery,headers,cors,body,prelimit,abuse,authn,postlimit,csrf,authz"
	if got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
}

// A panic answered by recovery is logged as the 500 the client got, with
// the request ID; the access log sits outside recovery in the Policy.
func TestPolicyLogsRecoveredPanicAs500(t *testing.T) {
	var logs bytes.Buffer
	id, _ := clientip.New(clientip.Options{AcceptRequestIDFromAnyClient: true}) // the test chooses the ID
	rec, _ := recovery.New(recovery.Options{Logger: slog.New(slog.DiscardHandler)})
	p := bulwark.Policy{
		Identity:  id.Handler,
		AccessLog: mustLog(t, slog.New(slog.NewJSONHandler(&logs, nil))).Handler,
		Recovery:  rec.Handler,
	}
	h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-Request-ID", "rid-500")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var line struct {
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, logs.String())
	}
	if w.Code != 500 || line.Status != 500 || line.RequestID != "rid-500" {
		t.Fatalf("client %d, log %+v", w.Code, line)
	}
}

// Without recovery inside it, the access log still records a panic (as a
// 500, aborted) and lets it go on.
func TestAccessLogRecordsUnrecoveredPanic(t *testing.T) {
	var logs bytes.Buffer
	h := mustLog(t, slog.New(slog.NewJSONHandler(&logs, nil))).
		Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	got := func() (v any) {
		defer func() { v = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		return nil
	}()
	if got != "boom" || !strings.Contains(logs.String(), `"status":500`) || !strings.Contains(logs.String(), `"aborted":true`) {
		t.Fatalf("recovered %v, log %s", got, logs.String())
	}
}

func TestChainSkipsNil(t *testing.T) {
	var nilFunc bulwark.Middleware
	h := bulwark.Chain(nil, nilFunc, tag("a"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Order") != "a" {
			t.Fatal("guard a did not run")
		}
		w.WriteHeader(204)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 204 {
		t.Fatal(w.Code)
	}
}

// TestRouteReachesLogAndMetrics: a library user's plain ServeMux behind a
// Policy gets the matched pattern in the access log and the metrics, not
// "unmatched" or the raw path — with no router of Bulwark's.
func TestRouteReachesLogAndMetrics(t *testing.T) {
	var logs bytes.Buffer
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := clientip.New(clientip.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	p := bulwark.Policy{
		Identity:  id.Handler,
		AccessLog: mustLog(t, slog.New(slog.NewJSONHandler(&logs, nil))).Handler,
		Metrics:   m.Handler,
		// a guard that replaces the request, as most do, before the mux
		Authn: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, 1)))
			})
		},
	}
	h := p.Handler(mux)
	for _, path := range []string{"/items/42", "/items/7", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	if n := strings.Count(logs.String(), `"route":"GET /items/{id}"`); n != 2 || strings.Contains(logs.String(), `"route":"/items/42"`) {
		t.Fatalf("access log routes: %s", logs.String())
	}
	w := httptest.NewRecorder()
	m.Exposition().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`bulwark_http_requests_total{code="204",method="GET",route="GET /items/{id}"} 2`,
		`bulwark_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(w.Body.String(), `route="/items/42"`) {
		t.Error("a raw path became a label")
	}
}

type ctxKey struct{}

// TestSetRouteForOtherRouters: a router that does not set r.Pattern says
// its route with SetRoute; the log and metrics outside see it, even with no
// identity guard (they attach the request state themselves).
func TestSetRouteForOtherRouters(t *testing.T) {
	var logs bytes.Buffer
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bulwark.SetRoute(r, "GET /orders/:id") // what a third-party router knows
		if got := bulwark.Route(r); got != "GET /orders/:id" {
			t.Errorf("Route = %q", got)
		}
		w.WriteHeader(200)
	})
	h := mustLog(t, slog.New(slog.NewJSONHandler(&logs, nil))).Handler(m.Handler(router))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/9", nil))
	if !strings.Contains(logs.String(), `"route":"GET /orders/:id"`) {
		t.Fatalf("log: %s", logs.String())
	}
	w := httptest.NewRecorder()
	m.Exposition().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), `route="GET /orders/:id"`) {
		t.Fatal("metrics lack the route")
	}
}

// TestGuardsAreCheckers: every guard that can deny offers the one
// decision signature.
func TestGuardsAreCheckers(t *testing.T) {
	var _ = []bulwark.Checker{
		(*clientip.Identity)(nil),
		(*cors.CORS)(nil),
		(*bodylimit.Cap)(nil),
		(*ratelimit.Limiter)(nil),
		(*authn.Guard)(nil),
		(*authz.Requirement)(nil),
	}
}

func mustLog(t *testing.T, l *slog.Logger) *accesslog.Log {
	t.Helper()
	log, err := accesslog.New(accesslog.Options{Logger: l})
	if err != nil {
		t.Fatal(err)
	}
	return log
}
