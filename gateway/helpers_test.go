package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn/jwt"
)

// testSecret is the HS256 secret the test configs reference.
const testSecret = "0123456789abcdef0123456789abcdef-gateway-test"

func testResolver(name string) (string, bool) {
	switch name {
	case "BULWARK_JWT_SECRET", "JWT_SECRET":
		return testSecret, true
	case "ADMIN_TOKEN":
		return "admin-token-0123456789abcdef", true
	}
	return "", false
}

// echo is an upstream answering with what it received, as JSON.
type echoed struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
	Server string      `json:"server"`
	Query  string      `json:"query"`
}

func startEcho(t *testing.T, name string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Server", "upstream/1.0")
		w.Header().Set("Content-Security-Policy", "default-src *")
		json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.Host, r.Header, string(b), name, r.URL.RawQuery})
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

// gw is a running gateway under test.
type gw struct {
	t      *testing.T
	srv    *Server
	url    string
	admin  string
	path   string
	audit  *audit.Memory
	cancel context.CancelFunc
	done   chan error
}

// startGateway writes config to a file and serves it on loopback.
func startGateway(t *testing.T, config string) *gw {
	t.Helper()
	return startGatewayWatch(t, config, -1)
}

// startGatewayWatch is startGateway polling the file every watch.
func startGatewayWatch(t *testing.T, config string, watch time.Duration) *gw {
	t.Helper()
	return startGatewayFull(t, config, watch, testResolver)
}

// startGatewayResolve is startGateway reading secrets from res.
func startGatewayResolve(t *testing.T, config string, res Resolver) *gw {
	t.Helper()
	return startGatewayFull(t, config, -1, res)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func startGatewayFull(t *testing.T, config string, watch time.Duration, res Resolver) *gw {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mem := audit.NewMemory()
	srv, err := NewServer(ServerOptions{
		ConfigPath: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuditSink: mem,
		Resolve: res, WatchInterval: watch, Listener: ln, AdminListener: aln,
	})
	if err != nil {
		ln.Close()
		aln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gw{t: t, srv: srv, url: "http://" + ln.Addr().String(), admin: "http://" + aln.Addr().String(),
		path: path, audit: mem, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-g.done:
		case <-time.After(10 * time.Second):
			t.Error("gateway did not shut down")
		}
	})
	return g
}

// rewrite replaces the config file (for reload tests).
func (g *gw) rewrite(config string) {
	g.t.Helper()
	if err := os.WriteFile(g.path, []byte(config), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}

func (g *gw) do(method, path string, hdr map[string]string, body string) (*http.Response, []byte) {
	g.t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rb)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func decodeEcho(t *testing.T, b []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not an echo: %s", b)
	}
	return e
}

// hsToken signs an HS256 access token with the test secret.
func hsToken(t testing.TB, sub string, roles, scopes []string) string {
	t.Helper()
	k, err := jwt.NewHMACKey("demo", jwt.HS256, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, Type: "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(jwt.Claims{Subject: sub, Roles: roles, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// exampleConfig reads an example and points its upstream URLs at urls.
func exampleConfig(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "gateway", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(replace...).Replace(string(b))
}
