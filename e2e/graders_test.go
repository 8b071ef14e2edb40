package e2e_test

// Graders: Google's CSP Evaluator and the MDN HTTP Observatory, run from
// their npm packages in this folder (npm ci --ignore-scripts) by node.
// They skip when node or the packages are missing, except under CI, where
// they fail.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
)

// graderNode returns the node binary, or skips (fails under CI) when node
// or the grader packages are not installed.
func graderNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...) + " (install: cd e2e && npm ci --ignore-scripts)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
		return ""
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return missing("node not found")
	}
	for _, pkg := range []string{"csp_evaluator", "@mdn/mdn-http-observatory"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
			return missing("npm package %s not installed", pkg)
		}
	}
	return node
}

// graderRun runs a node script of this folder and decodes its JSON output.
func graderRun(t *testing.T, node string, env []string, stdin []byte, out any, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %v: %v\nstderr: %s", script, args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s: output is not JSON: %v\n%s\nstderr: %s", script, err, stdout.String(), stderr.String())
	}
}

// graderHeaderOf serves one request through p and returns the header
// value, so that nonce policies are graded with a real per-request nonce.
func graderHeaderOf(t *testing.T, o headers.Options, name string) string {
	t.Helper()
	p, err := headers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "https://app.example/", nil))
	v := rec.Header().Get(name)
	if v == "" {
		t.Fatalf("no %s header", name)
	}
	return v
}

type cspFinding struct {
	Severity     int    `json:"severity"`
	SeverityName string `json:"severityName"`
	Directive    string `json:"directive"`
	Value        string `json:"value"`
	Description  string `json:"description"`
}

// TestGraderCSPEvaluator: Google's CSP Evaluator finds nothing of high
// severity in the profiles' policies (a sample nonce for HTML), and does
// find the weaknesses of a known-bad control policy, so that a broken
// evaluator run cannot pass.
func TestGraderCSPEvaluator(t *testing.T) {
	node := graderNode(t)
	policies := map[string]string{
		"strict": graderHeaderOf(t, headers.Strict(), headers.HeaderCSP),
		"api":    graderHeaderOf(t, headers.API(), headers.HeaderCSP),
		"html":   graderHeaderOf(t, headers.HTML(), headers.HeaderCSP),
		"control (seed-style allowlist with 'unsafe-inline')": "script-src 'self' 'unsafe-inline' https:; style-src 'self' 'unsafe-inline'",
	}
	if !strings.Contains(policies["html"], "'nonce-") {
		t.Fatalf("HTML profile CSP has no nonce: %s", policies["html"])
	}
	in, _ := json.Marshal(policies)
	var out map[string][]cspFinding
	graderRun(t, node, nil, in, &out, "csp-evaluator.mjs")

	for name, policy := range policies {
		findings, ok := out[name]
		if !ok {
			t.Fatalf("no result for %s", name)
		}
		var high []cspFinding
		for _, f := range findings {
			t.Logf("%s: %s %s %s: %s", name, f.SeverityName, f.Directive, f.Value, f.Description)
			// HIGH is 10; HIGH_MAYBE (40) is "possibly high".
			if f.Severity == 10 || f.Severity == 40 {
				high = append(high, f)
			}
		}
		if strings.HasPrefix(name, "control") {
			if len(high) == 0 {
				t.Errorf("the evaluator found no high-severity issue in the control policy %q; is it running?", policy)
			}
			continue
		}
		if len(high) > 0 {
			t.Errorf("%s profile CSP %q: high-severity findings %+v", name, policy, high)
		}
		if name == "strict" && len(findings) != 0 {
			t.Errorf("strict profile CSP %q: findings %+v, want none", policy, findings)
		}
	}
}

// graderTLS returns a server certificate for 127.0.0.1 and localhost,
// issued by a fresh test CA, and the CA's PEM file for
// NODE_EXTRA_CA_CERTS.
func graderTLS(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Bulwark e2e test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}, caFile
}

// graderServe starts h over TLS on 127.0.0.1, plus a plain-HTTP listener
// that redirects to it (as a production site would), and returns both
// ports.
func graderServe(t *testing.T, h http.Handler, cert tls.Certificate) (httpsPort, httpPort int) {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.StartTLS()
	t.Cleanup(s.Close)
	httpsPort = s.Listener.Addr().(*net.TCPAddr).Port
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("https://127.0.0.1:%d%s", httpsPort, r.URL.RequestURI()), http.StatusMovedPermanently)
	}))
	t.Cleanup(redirect.Close)
	return httpsPort, redirect.Listener.Addr().(*net.TCPAddr).Port
}

type observatoryTarget struct {
	Host      string `json:"host"`
	HTTPSPort int    `json:"httpsPort"`
	HTTPPort  int    `json:"httpPort"`
	Path      string `json:"path"`
}

type observatoryResult struct {
	Error      string `json:"error"`
	Grade      string `json:"grade"`
	Score      int    `json:"score"`
	StatusCode int    `json:"statusCode"`
	Verified   bool   `json:"verified"`
	Tests      map[string]struct {
		Pass          bool   `json:"pass"`
		Result        string `json:"result"`
		ScoreModifier int    `json:"scoreModifier"`
	} `json:"tests"`
	Headers map[string]any `json:"headers"`
}

// graderSmallApp is a JSON API with one HTML page, each under its profile:
// outer wraps every response, /app additionally gets the HTML profile.
func graderSmallApp(t *testing.T, outer headers.Options) http.Handler {
	t.Helper()
	op, err := headers.New(outer)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := headers.New(headers.HTML())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"service":"bulwark grader app","endpoints":["/","/api/public","/app"]}`)
	})
	mux.HandleFunc("GET /api/public", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"message":"public"}`)
	})
	mux.Handle("GET /app", hp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		n := csp.Nonce(r.Context())
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>app</title>
<style nonce="%s">body{font-family:sans-serif}</style></head>
<body><form method="post" action="/session/login"><input name="username"><input name="password" type="password"><button>Log in</button></form>
<script nonce="%s">document.querySelector("input").focus()</script></body></html>`, n, n)
	})))
	return op.Handler(mux)
}

// graderDemoApp returns the demo application's handler (package demo,
// as `bulwark demo` serves it), with its state released at cleanup.
func graderDemoApp(t *testing.T) http.Handler {
	t.Helper()
	app, err := demo.New(demo.Config{CORSOrigins: []string{"https://example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app.Handler()
}

// TestGraderObservatory: the MDN HTTP Observatory grades our headers A+
// over TLS, with its own retriever, tests and grader; a control server
// without security headers must not get an A, so that a broken grader run
// cannot pass.
func TestGraderObservatory(t *testing.T) {
	node := graderNode(t)
	cert, caFile := graderTLS(t)
	env := []string{"NODE_EXTRA_CA_CERTS=" + caFile}

	type site struct {
		name  string
		h     http.Handler
		paths []string
	}
	sites := []site{
		{"API profile", graderSmallApp(t, headers.API()), []string{"/", "/api/public", "/app"}},
		{"Strict profile", graderSmallApp(t, headers.Strict()), []string{"/", "/api/public", "/app"}},
		{"control", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{}`)
		}), []string{"/"}},
	}
	sites = append(sites, site{"demo", graderDemoApp(t), []string{"/", "/api/public"}})
	var targets []observatoryTarget
	var names []string
	for _, s := range sites {
		httpsPort, httpPort := graderServe(t, s.h, cert)
		for _, path := range s.paths {
			targets = append(targets, observatoryTarget{"127.0.0.1", httpsPort, httpPort, path})
			names = append(names, s.name+" "+path)
		}
	}
	in, _ := json.Marshal(targets)
	var results []observatoryResult
	graderRun(t, node, env, in, &results, "observatory.mjs")
	if len(results) != len(targets) {
		t.Fatalf("%d results for %d targets", len(results), len(targets))
	}
	for i, res := range results {
		t.Run(names[i], func(t *testing.T) {
			if res.Error != "" {
				t.Fatalf("observatory: %s", res.Error)
			}
			t.Logf("grade %s, score %d", res.Grade, res.Score)
			for name, tr := range res.Tests {
				t.Logf("%-32s pass=%-5v %+3d %s", name, tr.Pass, tr.ScoreModifier, tr.Result)
			}
			if !res.Verified {
				t.Errorf("the Observatory did not trust the test certificate (NODE_EXTRA_CA_CERTS)")
			}
			if res.StatusCode != http.StatusOK {
				t.Errorf("status %d", res.StatusCode)
			}
			if strings.HasPrefix(names[i], "control") {
				if strings.HasPrefix(res.Grade, "A") {
					t.Errorf("the control server without security headers got %s; is the grader running?", res.Grade)
				}
				return
			}
			if res.Grade != "A+" {
				t.Errorf("grade %s (score %d), want A+; headers: %v", res.Grade, res.Score, res.Headers)
				if _, ok := res.Headers["content-security-policy"]; !ok {
					t.Errorf("no security headers at all: is a headers.Profile wired in (bulwark.Policy.Headers)?")
				}
			}
			for name, tr := range res.Tests {
				if !tr.Pass {
					t.Errorf("test %s failed: %s", name, tr.Result)
				}
			}
		})
	}
}
