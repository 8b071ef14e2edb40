package demo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

// TestAsteriskTarget: a request for "*" that a server passes on (with
// DisableGeneralOptionsHandler, as `bulwark demo` sets it) gets a clear
// answer from the router, counted under its own route: OPTIONS * a 200
// with Allow, any other method a 400 problem.
func TestAsteriskTarget(t *testing.T) {
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	w := httptest.NewRecorder()
	app.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodOptions, "*", nil))
	if w.Code != 200 || w.Header().Get("Allow") != "GET, HEAD, POST, PUT, DELETE, OPTIONS" || w.Body.Len() != 0 ||
		w.Header().Get("X-Request-ID") == "" || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("OPTIONS *: %d %v %q", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	app.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "*", nil))
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("GET *: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	app.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(w.Body.String(), `bulwark_http_requests_total{code="200",method="OPTIONS",route="OPTIONS *"} 1`) {
		t.Fatalf("OPTIONS * not counted under its route:\n%s", w.Body)
	}
}
