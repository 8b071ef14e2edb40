package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every example config passes `bulwark check`, with its secrets resolved.
func TestCheckExamples(t *testing.T) {
	for _, env := range []string{"BULWARK_JWT_SECRET", "SESSION_CSRF_KEY", "ABUSE_SECRET"} {
		t.Setenv(env, strings.Repeat("k", 40))
	}
	t.Setenv("APIKEY_SECRET", "example-only-apikey-secret-0123456789abcdef") // internal-service.yaml's
	files, _ := filepath.Glob("../../examples/gateway/*.yaml")
	jsons, _ := filepath.Glob("../../examples/gateway/*.json")
	files = append(files, jsons...)
	if len(files) < 4 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		code, out, errs := runCLI(t, "", "check", "--config", f, "--resolve")
		if code != 0 || !strings.Contains(out, ": ok (") {
			t.Errorf("check %s: %d\n%s%s", f, code, out, errs)
		}
	}
}

func TestCheckFindings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	bad := write("bad.yaml", `
listen: {addr: "0.0.0.0:8080"}
admin: {addr: "0.0.0.0:8080"}
upstreams: {app: {urls: ["http://10.0.0.5:8000"]}}
authenticators:
  jwt: {jwt: {required_claims: [sub], keys: [{kid: a, alg: HS256, secret: "short-inline-secret"}]}}
policies: {p: {authn: [jwt]}, open: {}}
routes:
  - {match: "POST /api/login", upstream: app, policy: open}
  - {match: "/", upstream: app, policy: p}
`)
	code, out, _ := runCLI(t, "", "check", "--config", bad)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{"error inline-secret authenticators.jwt.jwt.keys[0].secret", "error jwt-exp-not-required",
		"warning jwt-no-alg-allowlist", "error metrics-on-public-listener", "error admin-unauthenticated",
		"warning login-no-rate-limit routes[0]", "info upstream-plaintext"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	unknown := write("unknown.yaml", "listen: {addr: ':1'}\nroutes:\n  - {match: /, upstream: a, polcy: p}\n")
	if code, _, errs := runCLI(t, "", "check", "--config", unknown); code != 1 || !strings.Contains(errs, "unknown.yaml:3:") || !strings.Contains(errs, "polcy") {
		t.Errorf("unknown key: %d %q", code, errs)
	}
	t.Setenv("SHORT", "tooshort")
	short := write("short.yaml", `
listen: {addr: "127.0.0.1:8080"}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
authenticators: {jwt: {jwt: {algorithms: [HS256], keys: [{kid: a, alg: HS256, secret: "${SHORT}"}]}}}
policies: {p: {authn: [jwt]}}
routes: [{match: "/", upstream: app, policy: p}]
`)
	if code, out, _ := runCLI(t, "", "check", "--config", short); code != 0 {
		t.Errorf("by form only: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "check", "--config", short, "--resolve"); code != 1 || !strings.Contains(out, "short-secret") {
		t.Errorf("--resolve: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "", "check", "--config", short, "--explain", "GET http://x/anything")
	if code != 0 || !strings.Contains(out, "authn: jwt (required)") || !strings.Contains(out, "upstream: app http://127.0.0.1:8000") {
		t.Errorf("explain: %d %s", code, out)
	}
}

// bulwark serve runs an example in front of a real upstream.
func TestServeExample(t *testing.T) {
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("upstream")) })}
	uln, _ := net.Listen("tcp", "127.0.0.1:0")
	go up.Serve(uln)
	defer up.Close()
	pl, _ := net.Listen("tcp", "127.0.0.1:0")
	al, _ := net.Listen("tcp", "127.0.0.1:0")
	paddr, aaddr := pl.Addr().String(), al.Addr().String()
	pl.Close()
	al.Close()
	b, _ := os.ReadFile("../../examples/gateway/demo-policy.yaml")
	cfg := strings.NewReplacer("http://127.0.0.1:8000", "http://"+uln.Addr().String(),
		"127.0.0.1:8080", paddr, "127.0.0.1:9090", aaddr).Replace(string(b))
	path := filepath.Join(t.TempDir(), "gw.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	t.Setenv("BULWARK_JWT_SECRET", strings.Repeat("k", 40))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		code, _, errs := runCLIctx(ctx, "serve", "--config", path)
		if code != 0 {
			t.Errorf("serve: %d %s", code, errs)
		}
		close(done)
	}()
	var resp *http.Response
	var err error
	for range 100 {
		if resp, err = http.Get("http://" + paddr + "/api/public"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("serve: %v %v", err, resp)
	}
	resp.Body.Close()
	cancel()
	<-done
}

func runCLIctx(ctx context.Context, args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// The README's gateway example passes `bulwark check`.
func TestReadmeGatewayExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## The gateway\n")
	if !ok {
		t.Fatal("README: no gateway section")
	}
	_, block, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatal("README: no yaml block in the gateway section")
	}
	block, _, _ = strings.Cut(block, "```")
	p := filepath.Join(t.TempDir(), "readme.yaml")
	if err := os.WriteFile(p, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JWT_SECRET", strings.Repeat("k", 40))
	if code, out, errs := runCLI(t, "", "check", "--config", p, "--resolve"); code != 0 || !strings.Contains(out, ": ok (") {
		t.Errorf("check README example: %d\n%s%s", code, out, errs)
	}
}

// check --resolve loads what serve loads; an unreadable secret is one
// finding naming its path once; --explain prints the explanation first,
// routes a preflight and shows strip_prefix.
func TestCheckResolveAndOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	tlsMissing := write("tls.yaml", `
listen: {addr: "127.0.0.1:8443", tls: {cert_file: nope.pem, key_file: nope.key}}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
policies: {p: {}}
routes: [{match: "/", upstream: app, policy: p}]
`)
	if code, out, _ := runCLI(t, "", "check", "--config", tlsMissing, "--resolve"); code != 1 || !strings.Contains(out, "listen.tls") {
		t.Errorf("--resolve with missing TLS files: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "check", "--config", tlsMissing); code != 0 {
		t.Errorf("by form only: %d %s", code, out)
	}
	unset := write("unset.yaml", `
listen: {addr: "127.0.0.1:8080"}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
authenticators: {jwt: {jwt: {algorithms: [HS256], keys: [{kid: a, alg: HS256, secret: "${BULWARK_TEST_UNSET_15}"}]}}}
cors: {site: {allowed_origins: ["https://example.com"], allowed_methods: [GET, POST]}}
policies: {p: {authn: [jwt], cors: site}}
routes: [{match: "/api/", upstream: app, policy: p, strip_prefix: /api}]
`)
	code, out, _ := runCLI(t, "", "check", "--config", unset, "--resolve")
	if code != 1 || strings.Count(out, "BULWARK_TEST_UNSET_15") != 1 || strings.Contains(out, "error invalid") ||
		strings.Count(out, "keys[0].secret") != 1 {
		t.Errorf("unset variable: want one finding, its path once:\n%s", out)
	}
	t.Setenv("BULWARK_TEST_UNSET_15", strings.Repeat("k", 40))
	code, out, _ = runCLI(t, "", "check", "--config", unset, "--explain", "GET http://x/api/items")
	if code != 0 || !strings.HasPrefix(out, "GET http://x/api/items") || !strings.Contains(out, `strip_prefix "/api": the upstream sees the path /items`) {
		t.Errorf("explain: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "check", "--config", unset, "--explain", "OPTIONS http://x/api/items",
		"--explain-header", "Origin: https://example.com", "--explain-header", "Access-Control-Request-Method: POST")
	if code != 0 || !strings.Contains(out, "a CORS preflight for POST") || !strings.Contains(out, "answered here") || strings.Contains(out, "authn:") {
		t.Errorf("explain a preflight: %d\n%s", code, out)
	}
}
