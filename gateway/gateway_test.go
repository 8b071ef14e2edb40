package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDemoPolicyExample(t *testing.T) {
	up, _ := startEcho(t, "app")
	g := startGateway(t, exampleConfig(t, "demo-policy.yaml", "http://127.0.0.1:8000", up.URL))

	// Public route: proxied, the gateway's API profile replaces the
	// upstream's CSP and Server headers; a spoofed principal is stripped.
	resp, b := g.do("GET", "/api/public", map[string]string{"X-Auth-Subject": "admin", "x-auth-roles": "admin"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("public: %d %s", resp.StatusCode, b)
	}
	e := decodeEcho(t, b)
	if e.Header.Get("X-Auth-Subject") != "" || e.Header.Get("X-Auth-Roles") != "" {
		t.Errorf("spoofed principal headers reached the upstream: %v", e.Header)
	}
	if got := resp.Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("CSP = %q", got)
	}
	if resp.Header.Get("Server") != "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: %v", resp.Header)
	}
	if e.Header.Get("X-Request-Id") == "" || e.Header.Get("X-Request-Id") != resp.Header.Get("X-Request-Id") {
		t.Errorf("request ID upstream %q, client %q", e.Header.Get("X-Request-Id"), resp.Header.Get("X-Request-Id"))
	}
	if !validTraceparent(e.Header.Get("Traceparent")) || e.Header.Get("X-Forwarded-For") != "127.0.0.1" ||
		e.Header.Get("Forwarded") != `for=127.0.0.1;host="`+strings.TrimPrefix(g.url, "http://")+`";proto=http` {
		t.Errorf("forwarding headers: %v", e.Header)
	}

	// Hop-by-hop headers stay on this hop.
	_, b = g.do("GET", "/api/public", map[string]string{"Connection": "X-Hop", "X-Hop": "1", "Proxy-Authorization": "Basic eDp5"}, "")
	if e := decodeEcho(t, b); e.Header.Get("X-Hop") != "" || e.Header.Get("Proxy-Authorization") != "" {
		t.Errorf("hop-by-hop headers forwarded: %v", e.Header)
	}
	// The header size cap of the public listener (32 KiB in the example).
	if resp, _ := g.do("GET", "/api/public", map[string]string{"X-Big": strings.Repeat("a", 40<<10)}, ""); resp.StatusCode != 431 {
		t.Errorf("oversized headers: %d", resp.StatusCode)
	}

	// Authentication: 401 with a challenge; a token passes, and the
	// principal travels upstream, replacing spoofed copies.
	resp, b = g.do("GET", "/api/protected", nil, "")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("no token: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	bob := hsToken(t, "bob", []string{"user"}, []string{"read"})
	resp, b = g.do("GET", "/api/protected", map[string]string{"Authorization": "Bearer " + bob, "X-Auth-Subject": "alice", "X-Auth-Roles": "admin"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("bob: %d %s", resp.StatusCode, b)
	}
	e = decodeEcho(t, b)
	if got := e.Header.Values("X-Auth-Subject"); len(got) != 1 || got[0] != "bob" || e.Header.Get("X-Auth-Roles") != "user" || e.Header.Get("X-Auth-Method") != "jwt" {
		t.Errorf("principal headers upstream: %v", e.Header)
	}
	// Authorization.
	if resp, _ := g.do("GET", "/api/admin/users", map[string]string{"Authorization": "Bearer " + bob}, ""); resp.StatusCode != 403 {
		t.Errorf("bob on admin: %d", resp.StatusCode)
	}
	alice := hsToken(t, "alice", []string{"admin"}, []string{"read", "write"})
	if resp, _ := g.do("GET", "/api/admin/users", map[string]string{"Authorization": "Bearer " + alice}, ""); resp.StatusCode != 200 {
		t.Errorf("alice on admin: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/items", map[string]string{"Authorization": "Bearer " + bob}, `{"name":"x"}`); resp.StatusCode != 403 {
		t.Errorf("bob writes: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/items", map[string]string{"Authorization": "Bearer " + alice}, `{"name":"x"}`); resp.StatusCode != 200 {
		t.Errorf("alice writes: %d", resp.StatusCode)
	}
	// Optional authentication: anonymous passes, a bad token does not.
	if resp, _ := g.do("GET", "/api/posts", nil, ""); resp.StatusCode != 200 {
		t.Errorf("anonymous posts: %d", resp.StatusCode)
	}
	if resp, _ := g.do("GET", "/api/posts", map[string]string{"Authorization": "Bearer x.y.z"}, ""); resp.StatusCode != 401 {
		t.Errorf("bad token on posts: %d", resp.StatusCode)
	}
	// CORS preflight, routed by the method it asks about.
	resp, _ = g.do("OPTIONS", "/api/items", map[string]string{"Origin": "https://example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}, "")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://example.com" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = g.do("OPTIONS", "/api/items", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, "")
	if resp.StatusCode != 403 {
		t.Errorf("preflight from another origin: %d", resp.StatusCode)
	}
	// Body limit.
	if resp, _ := g.do("POST", "/api/login", nil, strings.Repeat("x", 5000)); resp.StatusCode != 413 {
		t.Errorf("big login body: %d", resp.StatusCode)
	}
	// Login limit: 5 per IP (the 413 above counted no attempt? it ran
	// before the limit), then 429 with Retry-After.
	var codes []int
	for range 6 {
		resp, _ := g.do("POST", "/api/login", nil, `{}`)
		codes = append(codes, resp.StatusCode)
	}
	if codes[4] != 200 || codes[5] != 429 {
		t.Errorf("login codes %v", codes)
	}
	// No route: 404 problem; wrong method: 405 with Allow.
	resp, b = g.do("GET", "/nope", nil, "")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no route: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.do("PATCH", "/api/public", nil, ""); resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Errorf("wrong method: %d %v", resp.StatusCode, resp.Header)
	}
	// Metrics only on the admin listener.
	if resp, _ := g.do("GET", "/metrics", nil, ""); resp.StatusCode != 404 {
		t.Errorf("public /metrics: %d", resp.StatusCode)
	}
	mresp, err := http.Get(g.admin + "/metrics")
	if err != nil || mresp.StatusCode != 200 {
		t.Fatalf("admin /metrics: %v %v", err, mresp)
	}
	mresp.Body.Close()
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(g.admin + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("admin %s: %v %v", p, err, r)
		} else {
			r.Body.Close()
		}
	}
	// The security panel: on the admin listener only, showing the
	// denials above (the login limit's 429 among them).
	if resp, _ := g.do("GET", "/security", nil, ""); resp.StatusCode != 404 {
		t.Errorf("public /security: %d", resp.StatusCode)
	}
	page, err := http.Get(g.admin + "/security")
	if err != nil || page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.Header.Get("Content-Security-Policy"), "'nonce-") {
		t.Fatalf("admin /security: %v %v", err, page)
	}
	page.Body.Close()
	data, err := http.Get(g.admin + "/security?format=json")
	if err != nil || data.StatusCode != 200 {
		t.Fatalf("admin /security?format=json: %v %v", err, data)
	}
	figures, _ := io.ReadAll(data.Body)
	data.Body.Close()
	if !bytes.Contains(figures, []byte(`"rate_limited"`)) {
		t.Errorf("the login limit's 429 is not on the panel: %s", figures)
	}
}
