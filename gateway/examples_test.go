package gateway

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testsync"
)

// exampleResolver holds the secrets the examples reference; APIKEY_SECRET
// is the one internal-service.yaml's records were hashed under.
func exampleResolver(name string) (string, bool) {
	if name == "APIKEY_SECRET" {
		return "example-only-apikey-secret-0123456789abcdef", true
	}
	return strings.Repeat("k", 40), true
}

// Every example starts as serve starts it — lint, build, the listeners'
// TLS material loaded — from its own file, relative paths and all.
func TestEveryExampleStarts(t *testing.T) {
	files, _ := filepath.Glob("../examples/gateway/*.yaml")
	jsons, _ := filepath.Glob("../examples/gateway/*.json")
	files = append(files, jsons...)
	if len(files) < 4 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var logs testsync.Buffer
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			aln, _ := net.Listen("tcp", "127.0.0.1:0")
			srv, err := NewServer(ServerOptions{ConfigPath: f, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Resolve: exampleResolver, WatchInterval: -1, Listener: ln, AdminListener: aln})
			if err != nil {
				ln.Close()
				aln.Close()
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			for !strings.Contains(logs.String(), "gateway: serving") {
				select {
				case err := <-done:
					t.Fatalf("Run: %v\n%s", err, logs.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if strings.Contains(f, "internal-service") && !strings.Contains(logs.String(), CodeExampleMaterial) {
				t.Errorf("no example-material warning logged:\n%s", logs.String())
			}
		})
	}
}

// serve lints as check does: an error finding refuses the configuration,
// at start and on reload (the old one keeps serving).
func TestServeLints(t *testing.T) {
	dir := t.TempDir()
	inline := `
listen: {addr: 127.0.0.1:0}
upstreams: {app: {urls: ["http://127.0.0.1:1"]}}
authenticators: {jwt: {jwt: {algorithms: [HS256], keys: [{kid: demo, alg: HS256, secret: "an-inline-secret-of-more-than-32-bytes"}]}}}
policies: {p: {authn: [jwt]}}
routes: [{match: "/", upstream: app, policy: p}]
`
	path := filepath.Join(dir, "gw.yaml")
	writeFile(t, path, inline)
	_, err := NewServer(ServerOptions{ConfigPath: path, Logger: slog.New(slog.DiscardHandler), Resolve: testResolver})
	if err == nil || !strings.Contains(err.Error(), CodeInlineSecret) {
		t.Fatalf("inline secret: %v", err)
	}
	up, _ := startEcho(t, "a")
	good := strings.Replace(strings.Replace(inline, `"an-inline-secret-of-more-than-32-bytes"`, `"${JWT_SECRET}"`, 1), "http://127.0.0.1:1", up.URL, 1)
	g := startGateway(t, good)
	g.rewrite(inline)
	if err := g.srv.Reload(); err == nil || !strings.Contains(err.Error(), CodeInlineSecret) {
		t.Errorf("reload with an inline secret: %v", err)
	}
	if resp, _ := g.do("GET", "/", map[string]string{"Authorization": "Bearer " + hsToken(t, "bob", nil, nil)}, ""); resp.StatusCode != 200 {
		t.Errorf("the old configuration stopped serving: %d", resp.StatusCode)
	}
}

// Everything is checked before any listener is bound: a bad admin
// section never lets the public listener serve.
func TestValidateBeforeBinding(t *testing.T) {
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := free.Addr().String()
	free.Close()
	path := filepath.Join(t.TempDir(), "gw.yaml")
	writeFile(t, path, `
listen: {addr: "`+addr+`"}
admin: {addr: 127.0.0.1:0, tls: {cert_file: missing.pem, key_file: missing.key}}
upstreams: {app: {urls: ["http://127.0.0.1:1"]}}
policies: {p: {}}
routes: [{match: "/", upstream: app, policy: p}]
`)
	var logs testsync.Buffer
	srv, err := NewServer(ServerOptions{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Resolve: testResolver, WatchInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "admin.tls") {
		t.Errorf("Run: %v", err)
	}
	if strings.Contains(logs.String(), "gateway: serving") {
		t.Errorf("the public listener served before the admin section was checked:\n%s", logs.String())
	}
	// The address was never bound (or is free again).
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("public address still bound: %v", err)
	} else {
		ln.Close()
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
