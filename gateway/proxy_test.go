package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// basicConfig is a small config: one upstream, a limit, JWT, a shadow
// policy, IP lists.
func basicConfig(upstreams string, extra string) string {
	return `
listen: {addr: 127.0.0.1:0}
admin: {addr: 127.0.0.1:0}
upstreams:
  app: {urls: [` + quoteURLs(upstreams) + `], response_header_timeout: 10s, unhealthy_for: 1m}
limits:
  three: {limits: [{algorithm: fixed_window, limit: 3, window: 1h, key: ip}]}
authenticators:
  jwt: {jwt: {algorithms: [HS256], keys: [{kid: demo, alg: HS256, secret: "${JWT_SECRET}"}]}}
policies:
  open: {}
  limited: {rate_limits: [three]}
  shadow_authn: {authn: [jwt], shadow: [authn], principal_headers: {subject: X-Sub}}
routes:
  - {match: "/open/", upstream: app, policy: open}
  - {match: "/limited", upstream: app, policy: limited}
  - {match: "/shadow", upstream: app, policy: shadow_authn}
  - {match: "/intranet", upstream: app, policy: open, allow_ips: [10.0.0.0/8]}
  - {match: "/blocked", upstream: app, policy: open, deny_ips: [127.0.0.1]}
` + extra
}

func TestReloadUnderLoadLosesNothing(t *testing.T) {
	up, hits := startEcho(t, "a")
	g := startGateway(t, basicConfig(up.URL, ""))
	// Use the limit: 3 of 3.
	for range 3 {
		if resp, _ := g.do("GET", "/limited", nil, ""); resp.StatusCode != 200 {
			t.Fatalf("limited: %d", resp.StatusCode)
		}
	}
	var sent, ok, bad atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Get(g.url + "/open/x")
				if err != nil {
					if bad.Add(1) < 3 {
						t.Log(err)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else if bad.Add(1) < 3 {
					t.Log(resp.StatusCode)
				}
			}
		}()
	}
	// Valid reloads (a new route each time), and invalid ones.
	start := time.Now()
	defer func() { t.Logf("total %v", time.Since(start)) }()
	for i := range 10 {
		time.Sleep(20 * time.Millisecond)
		g.rewrite(basicConfig(up.URL, fmt.Sprintf("  - {match: \"/new%d\", upstream: app, policy: open}\n", i)))
		if err := g.srv.Reload(); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		g.rewrite(basicConfig(up.URL, "  - {match: \"/broken\", upstream: nowhere, policy: open}\n"))
		if err := g.srv.Reload(); err == nil || !strings.Contains(err.Error(), `upstream "nowhere" is not defined`) {
			t.Fatalf("invalid reload accepted: %v", err)
		}
	}
	t0 := time.Now()
	close(stop)
	wg.Wait()
	t.Logf("drain %v", time.Since(t0))
	if bad.Load() != 0 || ok.Load() != sent.Load() || sent.Load() < 50 {
		t.Fatalf("sent %d, ok %d, failed %d", sent.Load(), ok.Load(), bad.Load())
	}
	if g.srv.Reloads() != 10 {
		t.Errorf("reloads = %d", g.srv.Reloads())
	}
	t.Logf("%d requests through 10 reloads and 10 refused reloads; upstream saw %d", sent.Load(), hits.Load())
	// The old (last valid) config keeps serving: /new9 exists, /broken not.
	if resp, _ := g.do("GET", "/new9", nil, ""); resp.StatusCode != 200 {
		t.Errorf("/new9 after refused reload: %d", resp.StatusCode)
	}
	// The limiter's state survived the reloads: its definition did not change.
	if resp, _ := g.do("GET", "/limited", nil, ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("limit after reloads: %d (state lost?)", resp.StatusCode)
	}
	// A changed definition starts afresh.
	g.rewrite(strings.Replace(basicConfig(up.URL, ""), "limit: 3,", "limit: 4,", 1))
	if err := g.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := g.do("GET", "/limited", nil, ""); resp.StatusCode != 200 {
		t.Errorf("changed limit: %d", resp.StatusCode)
	}
	// A syntax error is refused with its position.
	g.rewrite("listen: {addr: 127.0.0.1:0}\nroutes:\n  - {match: /x, upstreem: app}\n")
	if err := g.srv.Reload(); err == nil || !strings.Contains(err.Error(), "gateway.yaml:3:") {
		t.Errorf("unknown key reload: %v", err)
	}
}

func TestShadowAndIPLists(t *testing.T) {
	up, _ := startEcho(t, "a")
	g := startGateway(t, basicConfig(up.URL, ""))
	resp, b := g.do("GET", "/shadow", map[string]string{"X-Sub": "spoofed"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("shadow authn refused: %d", resp.StatusCode)
	}
	if e := decodeEcho(t, b); e.Header.Get("X-Sub") != "" {
		t.Errorf("spoofed header passed in shadow mode: %v", e.Header)
	}
	if n := testutil.ToFloat64(g.srv.Telemetry().shadow.WithLabelValues("authn", "token_missing")); n != 1 {
		var reasons []string
		for _, e := range g.audit.Events() {
			reasons = append(reasons, e.Guard+"/"+e.Reason)
		}
		t.Errorf("shadow denials = %v; audit %v", n, reasons)
	}
	tok := hsToken(t, "carol", nil, nil)
	resp, b = g.do("GET", "/shadow", map[string]string{"Authorization": "Bearer " + tok}, "")
	if e := decodeEcho(t, b); resp.StatusCode != 200 || e.Header.Get("X-Sub") != "carol" {
		t.Errorf("shadow with a token: %d %v", resp.StatusCode, e.Header)
	}
	if resp, _ := g.do("GET", "/intranet", nil, ""); resp.StatusCode != 403 {
		t.Errorf("allow list: %d", resp.StatusCode)
	}
	if resp, _ := g.do("GET", "/blocked", nil, ""); resp.StatusCode != 403 {
		t.Errorf("deny list: %d", resp.StatusCode)
	}
}

func TestUpstreamFailures(t *testing.T) {
	up, hits := startEcho(t, "a")
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()

	// Round robin over a live and a dead URL: after the first failure the
	// dead one is skipped.
	g := startGateway(t, basicConfig(`"`+up.URL+`", "`+deadURL+`"`, ""))
	var codes []int
	for range 6 {
		resp, b := g.do("GET", "/open/", nil, "")
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 502 && !strings.Contains(string(b), "upstream-unavailable") {
			t.Errorf("502 body %s", b)
		}
	}
	fails := 0
	for _, c := range codes {
		if c == 502 {
			fails++
		}
	}
	// A refused connection is retried on the live URL (the request was
	// never sent), and the dead one leaves the rotation.
	if fails != 0 || hits.Load() != 6 {
		t.Errorf("codes %v, live upstream hit %d times: the dead upstream was not skipped", codes, hits.Load())
	}
	body := strings.NewReader(`{"a":1}`)
	req, _ := http.NewRequest("POST", g.url+"/open/post", body)
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("POST: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	g2 := startGateway(t, strings.Replace(basicConfig(slow.URL, ""), "response_header_timeout: 10s", "response_header_timeout: 300ms", 1))
	resp, b := g2.do("GET", "/open/", nil, "")
	if resp.StatusCode != 504 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("slow upstream: %d %s", resp.StatusCode, b)
	}
	g3 := startGateway(t, basicConfig(deadURL, ""))
	if resp, _ := g3.do("GET", "/open/", nil, ""); resp.StatusCode != 502 {
		t.Errorf("dead upstream: %d", resp.StatusCode)
	}
}

func TestWebSocketAndSSE(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/open/ws":
			if r.Header.Get("Upgrade") != "websocket" {
				http.Error(w, "no upgrade", 400)
				return
			}
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			line, _ := brw.ReadString('\n')
			brw.WriteString("echo:" + line)
			brw.Flush()
		case "/open/sse":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			fmt.Fprint(w, "data: first\n\n")
			http.NewResponseController(w).Flush()
			<-r.Context().Done() // never finishes on its own
		}
	}))
	defer up.Close()
	g := startGateway(t, basicConfig(up.URL, ""))

	conn, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /open/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", err, resp)
	}
	fmt.Fprint(conn, "hello\n")
	if line, _ := br.ReadString('\n'); line != "echo:hello\n" {
		t.Errorf("websocket echo %q", line)
	}

	req, _ := http.NewRequest("GET", g.url+"/open/sse", nil)
	sresp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	got := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(sresp.Body).ReadString('\n')
		got <- l
	}()
	select {
	case l := <-got:
		if l != "data: first\n" {
			t.Errorf("sse line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the event was not flushed through the gateway")
	}
}

// quoteURLs quotes a comma-separated list of URLs for a YAML flow sequence.
func quoteURLs(s string) string {
	if strings.HasPrefix(s, `"`) {
		return s
	}
	return `"` + s + `"`
}

// A change of the file is picked up without a signal.
func TestReloadOnFileChange(t *testing.T) {
	up, _ := startEcho(t, "a")
	g := startGatewayWatch(t, basicConfig(up.URL, ""), 20*time.Millisecond)
	if resp, _ := g.do("GET", "/later", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("/later before: %d", resp.StatusCode)
	}
	g.rewrite(basicConfig(up.URL, "  - {match: \"/later\", upstream: app, policy: open}\n"))
	future := time.Now().Add(time.Second)
	os.Chtimes(g.path, future, future)
	deadline := time.Now().Add(5 * time.Second)
	for g.srv.Reloads() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := g.do("GET", "/later", nil, ""); resp.StatusCode != 200 {
		t.Errorf("/later after the file changed: %d", resp.StatusCode)
	}
}
