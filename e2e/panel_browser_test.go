//go:build unix

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// TestBrowserSecurityPanel opens the demo's security panel in headless
// Chromium: role user gets 403, role admin the page, with no CSP
// violation; a denial forced while the page is open appears on it within
// seconds, by its request ID. The screenshot lands in
// e2e/artifacts/panel.png (git-ignored; CI keeps it as an artifact).
func TestBrowserSecurityPanel(t *testing.T) {
	chromium, node := browserPrereqs(t)
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)

	if err := os.MkdirAll("artifacts", 0o755); err != nil {
		t.Fatal(err)
	}
	const shot = "artifacts/panel.png"
	_ = os.Remove(shot)
	cfg, _ := json.Marshal(map[string]any{
		"chromium":    chromium,
		"userDataDir": t.TempDir(),
		"base":        srv.URL,
		"admin":       panelLogin(t, srv.URL, demo.AliceUser, demo.AlicePassword),
		"user":        panelLogin(t, srv.URL, demo.BobUser, demo.BobPassword),
		"screenshot":  shot,
		"timeoutMs":   10000,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "panel_browser.mjs", string(cfg))
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
	var out struct {
		UserStatus, AdminStatus, ForcedStatus int
		CSP, Heading, ForcedRequestID, Live   string
		SeenAfterMs                           int
		ForcedRow, Console                    []string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("driver output %q: %v", stdout.String(), err)
	}
	t.Logf("forced denial %s seen on the panel after %d ms: %q", out.ForcedRequestID, out.SeenAfterMs, out.ForcedRow)
	if out.UserStatus != http.StatusForbidden {
		t.Errorf("role user: %d, want 403", out.UserStatus)
	}
	if out.AdminStatus != http.StatusOK || !strings.Contains(out.Heading, "security") || !strings.Contains(out.CSP, "'nonce-") {
		t.Errorf("role admin: %d, heading %q, CSP %q", out.AdminStatus, out.Heading, out.CSP)
	}
	if out.ForcedStatus != http.StatusUnauthorized || out.SeenAfterMs > 8000 {
		t.Errorf("forced denial: status %d, seen after %d ms; want 401 within seconds", out.ForcedStatus, out.SeenAfterMs)
	}
	if row := strings.Join(out.ForcedRow, "|"); !strings.Contains(row, "|deny|authn|") || !strings.Contains(row, "|401|GET|GET /api/protected|") {
		t.Errorf("forced denial's row = %q, want deny by authn, 401, GET /api/protected", out.ForcedRow)
	}
	if strings.Contains(out.Live, "stale") {
		t.Errorf("the page's last poll failed")
	}
	for _, line := range out.Console {
		if strings.HasPrefix(line, "error") || strings.HasPrefix(line, "pageerror") {
			t.Errorf("console: %s (the page must run under its CSP without errors)", line)
		} else {
			t.Logf("console: %s", line)
		}
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
}

func panelLogin(t *testing.T, base, user, pw string) string {
	t.Helper()
	res, err := http.Post(base+"/api/login", "application/json", strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("login %s: %d %v", user, res.StatusCode, err)
	}
	return body.AccessToken
}
