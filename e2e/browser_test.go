//go:build unix

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// TestBrowserCORS loads a page from one loopback origin in headless
// Chromium; the page's script calls the demo API on another origin with a
// simple GET, a credentialed GET and a preflighted PUT carrying a custom
// header. From the allowed origin the script can read all three (and the
// exposed X-Request-ID, but not an unexposed header); from a disallowed
// origin it can read none, and the PUT never reaches the server.
func TestBrowserCORS(t *testing.T) {
	chromium, node := browserPrereqs(t)

	allowedLn, deniedLn := browserListen(t), browserListen(t)
	allowed := "http://" + allowedLn.Addr().String()
	denied := "http://" + deniedLn.Addr().String()

	rec := &browserRecorder{}
	api := httptest.NewServer(rec.wrap(browserAPI(t, []string{allowed})))
	t.Cleanup(api.Close)
	for _, ln := range []net.Listener{allowedLn, deniedLn} {
		srv := &http.Server{Handler: browserPage(api.URL), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}

	out := runBrowser(t, chromium, node, []string{allowed + "/", denied + "/"})

	// What the page's script could read.
	for origin, wantReadable := range map[string]bool{allowed: true, denied: false} {
		page, ok := out[origin+"/"]
		if !ok {
			t.Fatalf("no result for the page on %s: %v", origin, out)
		}
		if len(page.Probes) != 3 {
			t.Fatalf("%s: %d probes, want 3 (console: %q)", origin, len(page.Probes), page.Console)
		}
		for _, p := range page.Probes {
			t.Logf("%s %-16s readable=%v status=%d error=%q", origin, p.Name, p.Readable, p.Status, p.Error)
			if p.Readable != wantReadable {
				t.Errorf("%s %s: readable = %v, want %v (%+v; console: %q)", origin, p.Name, p.Readable, wantReadable, p, page.Console)
				continue
			}
			if !wantReadable {
				if p.Status != 0 || p.Body != "" || !strings.Contains(p.Error, "TypeError") {
					t.Errorf("%s %s: the script learned something: %+v", origin, p.Name, p)
				}
				continue
			}
			if p.Status < 200 || p.Status > 499 || p.Body == "" {
				t.Errorf("%s %s: status %d body %q", origin, p.Name, p.Status, p.Body)
			}
			if want := rec.requestID(origin, p.Path); p.RequestID != want || want == "" {
				t.Errorf("%s %s: script read X-Request-ID %q, server sent %q (exposed header)", origin, p.Name, p.RequestID, want)
			}
			if p.Hidden != "" {
				t.Errorf("%s %s: script read the unexposed X-E2E-Hidden header %q", origin, p.Name, p.Hidden)
			}
		}
		if wantReadable {
			if get := page.Probes[0]; get.Status != http.StatusOK || !strings.Contains(get.Body, "public") {
				t.Errorf("simple GET: status %d body %q", get.Status, get.Body)
			}
		}
	}

	// What reached the server.
	for _, tc := range []struct {
		origin, method string
		want           int
	}{
		{allowed, http.MethodOptions, 1}, // the PUT's preflight (fresh profile: nothing cached)
		{allowed, http.MethodPut, 1},
		{allowed, http.MethodGet, 2},
		{denied, http.MethodOptions, 1},
		{denied, http.MethodPut, 0}, // refused preflight: the browser never sends it
		{denied, http.MethodGet, 2}, // simple requests are sent; only reading is refused
	} {
		if got := rec.count(tc.origin, tc.method); got != tc.want {
			t.Errorf("%s %s requests reaching the server: %d, want %d", tc.origin, tc.method, got, tc.want)
		}
	}
	if rec.deniedPreflightStatus(denied) != http.StatusForbidden {
		t.Errorf("disallowed preflight answered %d, want 403", rec.deniedPreflightStatus(denied))
	}
	// credentials: 'include' really sent the page's cookie; the default did not.
	if rec.cookie(allowed, "/api/public?probe=simple") || !rec.cookie(allowed, "/api/public?probe=credentialed") {
		t.Errorf("the credentialed GET must carry the page's cookie, the simple GET must not")
	}
}

// browserAPI returns the API under test: the demo app with its CORS
// origins set to the allowed page's origin.
//
// The demo is used exactly as `bulwark demo --cors-origin` builds it, so a
// regression in its CORS wiring fails this test.
func browserAPI(t *testing.T, origins []string) http.Handler {
	t.Helper()
	app, err := demo.New(demo.Config{CORSOrigins: origins})
	if err != nil {
		t.Fatalf("demo.New: %v", err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app.Handler()
}

// browserPrereqs finds Chromium, node and playwright-core: a missing one
// skips the test locally and fails it in CI.
func browserPrereqs(t *testing.T) (chromium, node string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test prerequisite missing in CI: "+format, args...)
		}
		t.Skipf("skipping the browser test: "+format, args...)
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no Chromium at %s (apt-get install chromium, or set CHROMIUM)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		missing("e2e/node_modules/playwright-core not installed (cd e2e && npm ci --ignore-scripts)")
	}
	return chromium, node
}

func browserListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type browserProbe struct {
	Name      string `json:"name"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Readable  bool   `json:"readable"`
	Status    int    `json:"status"`
	Body      string `json:"body"`
	RequestID string `json:"requestId"`
	Hidden    string `json:"hidden"`
	Error     string `json:"error"`
}

type browserPageResult struct {
	Probes  []browserProbe `json:"probes"`
	Console []string       `json:"console"`
}

// runBrowser runs cors_browser.mjs over the pages with a fresh profile.
func runBrowser(t *testing.T, chromium, node string, pages []string) map[string]browserPageResult {
	t.Helper()
	var out map[string]browserPageResult
	runDriver(t, chromium, node, "cors_browser.mjs", map[string]any{"pages": pages}, 40*time.Second, &out)
	return out
}

// runDriver runs a node browser driver (script) with cfg, completed with
// the Chromium binary, a fresh profile and a 15 s page timeout, as one JSON
// argument, and decodes what it prints into out. The driver, and the
// Chromium it starts, are killed after timeout.
func runDriver(t *testing.T, chromium, node, script string, cfg map[string]any, timeout time.Duration, out any) {
	t.Helper()
	cfg["chromium"], cfg["userDataDir"], cfg["timeoutMs"] = chromium, t.TempDir(), 15000
	arg, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, string(arg))
	// Chromium runs in node's process group, killed with it on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser driver: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	t.Logf("browser run took %v", time.Since(start).Round(time.Millisecond))
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("browser driver output %q: %v (stderr %s)", stdout.String(), err, stderr.String())
	}
}

// browserPage serves the probing page. Its script calls the API in order
// and publishes what it could read as window.__corsResults. The page also
// sets a cookie, which (cookies ignore ports) the browser attaches to the
// credentialed request to the API.
func browserPage(api string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "e2e_probe", Value: "1", Path: "/", SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = browserPageTmpl.Execute(w, api)
	})
}

var browserPageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CORS probe</title></head>
<body><script>
const api = {{.}};
async function probe(name, method, path, init) {
  const res = {name, method, path, readable: false, status: 0, body: "", requestId: "", hidden: "", error: ""};
  try {
    const r = await fetch(api + path, Object.assign({method}, init));
    res.status = r.status;
    res.requestId = r.headers.get("X-Request-ID") || "";
    res.hidden = r.headers.get("X-E2E-Hidden") || "";
    res.body = await r.text();
    res.readable = true;
  } catch (e) {
    res.error = String(e);
  }
  return res;
}
(async () => {
  const results = [];
  results.push(await probe("simple GET", "GET", "/api/public?probe=simple", {}));
  results.push(await probe("credentialed GET", "GET", "/api/public?probe=credentialed", {credentials: "include"}));
  results.push(await probe("preflighted PUT", "PUT", "/api/posts/1?probe=put", {
    credentials: "include",
    headers: {"X-Custom-Header": "probe", "Content-Type": "application/json"},
    body: JSON.stringify({title: "from the browser"}),
  }));
  window.__corsResults = results;
})();
</script></body></html>
`))

// browserRecorder wraps the API, outside every guard: it records each
// request that reaches the server and gives every response an unexposed
// X-E2E-Hidden header, so the test can compare what the script read with
// what the server sent.
type browserRecorder struct {
	mu   sync.Mutex
	seen []browserSeen
}

type browserSeen struct {
	origin, method, uri string
	cookie              bool
	status              int
	requestID           string
}

func (rec *browserRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-E2E-Hidden", "not exposed")
		sw := &browserStatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		_, cookieErr := r.Cookie("e2e_probe")
		rec.mu.Lock()
		rec.seen = append(rec.seen, browserSeen{
			origin: r.Header.Get("Origin"), method: r.Method, uri: r.URL.RequestURI(),
			cookie: cookieErr == nil, status: sw.status, requestID: sw.requestID,
		})
		rec.mu.Unlock()
	})
}

func (rec *browserRecorder) count(origin, method string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, s := range rec.seen {
		if s.origin == origin && s.method == method {
			n++
		}
	}
	return n
}

// find returns the last non-preflight request from origin for uri.
func (rec *browserRecorder) find(origin, uri string) browserSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var found browserSeen
	for _, s := range rec.seen {
		if s.origin == origin && s.method != http.MethodOptions && s.uri == uri {
			found = s
		}
	}
	return found
}

// requestID returns the X-Request-ID the server sent for origin's request.
func (rec *browserRecorder) requestID(origin, uri string) string {
	return rec.find(origin, uri).requestID
}

// cookie reports whether origin's request carried the page's cookie.
func (rec *browserRecorder) cookie(origin, uri string) bool { return rec.find(origin, uri).cookie }

func (rec *browserRecorder) deniedPreflightStatus(origin string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.seen {
		if s.origin == origin && s.method == http.MethodOptions {
			return s.status
		}
	}
	return 0
}

type browserStatusWriter struct {
	http.ResponseWriter
	status    int
	requestID string
}

func (w *browserStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.requestID = w.Header().Get("X-Request-ID")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *browserStatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *browserStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
