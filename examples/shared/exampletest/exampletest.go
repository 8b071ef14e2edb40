// Package exampletest is the test suite every framework example passes:
// real requests through the whole stack — the site policy, the router,
// the per-route guards — checking what a client and an operator see. An
// example's app_test.go calls Run with its constructor and the route
// labels its router gives the access log and the metrics.
package exampletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/examples/shared"
	"github.com/bulwark-go/bulwark/internal/testsync"
)

// Routes are the route labels a router gives the access log and the
// metrics, in its own pattern syntax.
type Routes struct {
	List   string // GET /api/items: "GET /api/items" on the ServeMux
	Item   string // GET /api/items/{id}: "/api/items/:id" on gin and echo
	Health string // GET /healthz
}

// Run sends real requests to the API newAPI builds and checks the answers
// (200, 204, 401, 403, 429, CORS preflights), the access-log lines and the
// metrics, whose route labels must be routes' — and "unmatched", never a
// path or the nearest pattern, for a request no route matched (404, 405).
func Run(t *testing.T, routes Routes, newAPI func(shared.Config) (http.Handler, error)) {
	t.Helper()
	routeList, routeItem, routeHealth := routes.List, routes.Item, routes.Health
	key, err := jwt.NewHMACKey("test", jwt.HS256, jwt.GenerateSecret(32))
	if err != nil {
		t.Fatal(err)
	}
	logs := new(testsync.Buffer)
	h, err := newAPI(shared.Config{Key: key, Logger: slog.New(slog.NewJSONHandler(logs, nil)), ReadsPerMinute: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: shared.Issuer, Audience: []string{shared.Audience}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	token := func(sub string, roles, scopes []string) string {
		tok, err := iss.Issue(jwt.Claims{Subject: sub, Roles: roles, Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	reader := token("bob", nil, []string{"read"})
	writer := token("carol", nil, []string{"write"})
	admin := token("alice", []string{"admin"}, []string{"read"})
	do := func(method, path, tok string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	t.Run("allowed", func(t *testing.T) {
		resp, body := do("GET", "/api/items/42", reader)
		var got struct{ Caller, ID string }
		if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil || got.Caller != "bob" || got.ID != "42" {
			t.Fatalf("%d %s, want 200 with caller bob and id 42", resp.StatusCode, body)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("the site policy's headers are missing: %v", resp.Header)
		}
		if resp, body := do("DELETE", "/api/items/42", admin); resp.StatusCode != 204 {
			t.Errorf("DELETE as admin: %d %s, want 204", resp.StatusCode, body)
		}
	})

	t.Run("401", func(t *testing.T) {
		resp, body := do("GET", "/api/items", "")
		checkProblem(t, resp, body, 401, "unauthorized")
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="items"`) {
			t.Errorf("WWW-Authenticate = %q", got)
		}
		resp, body = do("GET", "/api/items", reader[:len(reader)-2]+"xx") // a broken signature
		checkProblem(t, resp, body, 401, "")
		if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate = %q, want invalid_token", got)
		}
	})

	t.Run("403", func(t *testing.T) {
		resp, body := do("GET", "/api/items/1", writer)
		checkProblem(t, resp, body, 403, "")
		if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) || !strings.Contains(got, `scope="read"`) {
			t.Errorf("WWW-Authenticate = %q, want insufficient_scope for read", got)
		}
		resp, body = do("DELETE", "/api/items/1", reader) // not an admin
		checkProblem(t, resp, body, 403, "")
	})

	t.Run("429", func(t *testing.T) {
		dave := token("dave", nil, []string{"read"}) // a bucket of its own
		for i := range 3 {
			if resp, body := do("GET", "/api/items", dave); resp.StatusCode != 200 || resp.Header.Get("RateLimit") == "" {
				t.Fatalf("request %d: %d %s (RateLimit %q), want 200 with RateLimit", i+1, resp.StatusCode, body, resp.Header.Get("RateLimit"))
			}
		}
		resp, body := do("GET", "/api/items", dave)
		checkProblem(t, resp, body, 429, "rate-limited")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if resp, _ := do("GET", "/api/items", reader); resp.StatusCode != 200 {
			t.Errorf("another caller got %d: the limit is per caller", resp.StatusCode)
		}
	})

	t.Run("preflight", func(t *testing.T) {
		resp, body := do("OPTIONS", "/api/items/7", "",
			"Origin", "https://app.example.com",
			"Access-Control-Request-Method", "DELETE",
			"Access-Control-Request-Headers", "authorization")
		if resp.StatusCode != 204 && resp.StatusCode != 200 {
			t.Fatalf("preflight: %d %s", resp.StatusCode, body)
		}
		for h, want := range map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Methods":     "DELETE",
			"Access-Control-Allow-Headers":     "authorization",
			"Access-Control-Allow-Credentials": "true",
		} {
			if got := resp.Header.Get(h); !strings.Contains(strings.ToLower(got), strings.ToLower(want)) {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		resp, body = do("OPTIONS", "/api/items", "",
			"Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		checkProblem(t, resp, body, 403, "")
	})

	t.Run("route labels", func(t *testing.T) {
		do("GET", "/healthz", "")
		do("GET", "/nowhere/42", reader)
		do("GET", "/api/items-x/1", reader) // near a route, but not one
		do("DELETE", "/api/items", admin)   // a route, but not for this method
		lines := requests(t, logs)
		for _, want := range []logged{{routeItem, 200}, {routeList, 200}, {routeList, 429}, {routeList, 401}, {routeHealth, 200}, {"/nowhere/42", 404}, {"/api/items-x/1", 404}} {
			if !lines[want] {
				t.Errorf("no access-log line with route %q and status %d in:\n%s", want.route, want.status, logs)
			}
		}
		_, metrics := do("GET", "/metrics", "")
		for _, want := range []string{
			`bulwark_http_requests_total{code="200",method="GET",route="` + routeItem + `"} 1`,
			`bulwark_http_requests_total{code="429",method="GET",route="` + routeList + `"} 1`,
			`bulwark_http_requests_total{code="404",method="GET",route="unmatched"}`,
		} {
			if !bytes.Contains(metrics, []byte(want)) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// Requests no route matched (404, 405) are counted under one label,
		// never under their path or the nearest route's pattern.
		for line := range strings.Lines(string(metrics)) {
			if strings.HasPrefix(line, `bulwark_http_requests_total{code="40`) &&
				(strings.Contains(line, `code="404"`) || strings.Contains(line, `code="405"`)) &&
				!strings.Contains(line, `route="unmatched"`) {
				t.Errorf("/metrics counts an unmatched request under a route: %s", line)
			}
		}
	})
}

// checkProblem checks an RFC 9457 problem response: its status, media type,
// body status, and, when typ is set, that its type URI ends with typ.
func checkProblem(t *testing.T, resp *http.Response, body []byte, status int, typ string) {
	t.Helper()
	var p struct {
		Type   string
		Status int
		Title  string
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d %s, want %d", resp.StatusCode, body, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != status || p.Type == "" || p.Title == "" {
		t.Errorf("problem body %s (%v)", body, err)
	}
	if typ != "" && !strings.HasSuffix(p.Type, "/"+typ) {
		t.Errorf("problem type %q, want …/%s", p.Type, typ)
	}
}

// logged is what the access log said of a request.
type logged struct {
	route  string
	status int
}

// requests returns the routes and statuses of the access-log lines.
func requests(t *testing.T, s *testsync.Buffer) map[logged]bool {
	t.Helper()
	out := map[logged]bool{}
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	for sc.Scan() {
		var line struct {
			Msg    string
			Route  string
			Status int
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %s: %v", sc.Bytes(), err)
		}
		if line.Msg == "request" {
			out[logged{line.Route, line.Status}] = true
		}
	}
	return out
}
