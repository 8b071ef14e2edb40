package demo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

func newDemo(t *testing.T, cfg demo.Config) *httptest.Server {
	t.Helper()
	app, err := demo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); _ = app.Close() })
	return srv
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func wantProblem(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.raw)
	}
	if r.body["status"] != float64(status) {
		t.Fatalf("problem status %v, want %d", r.body["status"], status)
	}
	if id := r.header.Get("X-Request-ID"); id == "" || r.body["request_id"] != id {
		t.Fatalf("request id header %q, body %v", id, r.body["request_id"])
	}
}

func TestPublicAndRequestID(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	r := do(t, srv, "GET", "/api/public", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || r.body["authenticated"] != false {
		t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Fatal("no X-Request-ID")
	}
	// A client's own ID is replaced: only a trusted proxy may choose it.
	r = do(t, srv, "GET", "/api/public", "", "X-Request-ID", "trace-abc.123")
	if got := r.header.Get("X-Request-ID"); got == "trace-abc.123" || got == "" {
		t.Fatalf("a client chose its request ID: %q", got)
	}
	proxied := newDemo(t, demo.Config{TrustedProxies: []string{"127.0.0.1"}})
	r = do(t, proxied, "GET", "/api/public", "", "X-Request-ID", "trace-abc.123")
	if got := r.header.Get("X-Request-ID"); got != "trace-abc.123" {
		t.Fatalf("safe request ID from a trusted proxy not echoed: %q", got)
	}
	r = do(t, proxied, "GET", "/api/public", "", "X-Request-ID", "<script>alert(1)</script>")
	if got := r.header.Get("X-Request-ID"); strings.ContainsAny(got, "<>()") || got == "" {
		t.Fatalf("unsafe incoming request ID echoed: %q", got)
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	wantProblem(t, do(t, srv, "GET", "/no-such-path", ""), 404)
	r := do(t, srv, "DELETE", "/api/public", "")
	wantProblem(t, r, 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Fatalf("Allow %q", allow)
	}
}

func TestHealthMetricsConfig(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	if r := do(t, srv, "GET", "/healthz", ""); r.status != 200 || r.body["status"] != "ok" {
		t.Fatalf("healthz %d %s", r.status, r.raw)
	}
	do(t, srv, "GET", "/nowhere", "")
	r := do(t, srv, "GET", "/metrics", "")
	if r.status != 200 || !strings.Contains(r.raw, `bulwark_denials_total{guard="router",reason="not_found"} 1`) ||
		!strings.Contains(r.raw, `bulwark_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`) {
		t.Fatalf("metrics missing counters:\n%s", r.raw)
	}
	r = do(t, srv, "GET", "/config/security", "")
	if r.status != 200 || r.body["cors_origins"] == nil {
		t.Fatalf("config %d %s", r.status, r.raw)
	}
	cors, _ := r.body["cors"].(map[string]any)
	hdrs, _ := r.body["headers"].(map[string]any)
	if cors["allow_credentials"] != true || fmt.Sprint(cors["allowed_methods"]) != "[GET HEAD POST PUT PATCH DELETE]" ||
		!strings.Contains(fmt.Sprint(hdrs["removed"]), "Server") || !strings.Contains(fmt.Sprint(hdrs["https_only"]), "Strict-Transport-Security") {
		t.Fatalf("effective policy incomplete: %s", r.raw)
	}
	// No secret material, in any form the demo holds it.
	for _, leak := range []string{"seed", "\"d\":", "\"k\":", "PRIVATE"} {
		if strings.Contains(r.raw, leak) {
			t.Fatalf("/config/security shows %q: %s", leak, r.raw)
		}
	}
}

func TestCORSPreflightBeforeRouting(t *testing.T) {
	srv := newDemo(t, demo.Config{CORSOrigins: []string{"https://app.example.org"}})
	r := do(t, srv, "OPTIONS", "/any/path/at/all", "", "Origin", "https://app.example.org",
		"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-custom-header, authorization")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight %d %v", r.status, r.header)
	}
	r = do(t, srv, "GET", "/api/public", "", "Origin", "https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("disallowed origin got CORS headers")
	}
}

// DESIGN.md's API profile, on success and error responses alike.
func TestSecurityHeadersEverywhere(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-store",
		"X-Xss-Protection":             "0",
	}
	for _, path := range []string{"/api/public", "/no-such-path", "/secure-headers"} {
		r := do(t, srv, "GET", path, "")
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		if r.header.Get("Permissions-Policy") == "" {
			t.Errorf("%s: no Permissions-Policy", path)
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
		// Spoofed X-Forwarded-Proto from an untrusted client earns no HSTS.
		if r := do(t, srv, "GET", path, "", "X-Forwarded-Proto", "https"); r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS from an untrusted X-Forwarded-Proto", path)
		}
	}
}

func TestHSTSOverTLS(t *testing.T) {
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	srv := httptest.NewTLSServer(app.Handler())
	defer srv.Close()
	r := do(t, srv, "GET", "/api/public", "")
	if hsts := r.header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Fatalf("no HSTS over TLS: %q", hsts)
	}
}
