package demo_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

// GET /admin/security: 401 without credentials, 403 for role user, the
// page for role admin, and the denials so far in its figures.
func TestSecurityPanel(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	wantProblem(t, do(t, srv, "GET", "/admin/security", ""), 401)
	bob, _ := tokens(t, login(t, srv, demo.BobUser, demo.BobPassword))
	wantProblem(t, do(t, srv, "GET", "/admin/security", "", bearer(bob)...), 403)
	wantProblem(t, do(t, srv, "GET", "/admin/security?format=json", "", bearer(bob)...), 403)

	alice, _ := tokens(t, login(t, srv, demo.AliceUser, demo.AlicePassword))
	page := do(t, srv, "GET", "/admin/security", "", bearer(alice)...)
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("admin: %d %q", page.status, page.header.Get("Content-Type"))
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "'nonce-") || !strings.Contains(csp, "'strict-dynamic'") {
		t.Errorf("the panel is not served under the HTML profile: CSP %q", csp)
	}
	if !strings.Contains(page.raw, "missing_role") {
		t.Errorf("bob's 403 is not on the page")
	}

	data := do(t, srv, "GET", "/admin/security?format=json", "", bearer(alice)...)
	if data.status != 200 || data.body["denied_hour"].(float64) < 3 {
		t.Fatalf("figures: %d %s", data.status, data.raw)
	}
	var reasons []string
	for _, d := range data.body["denials"].([]any) {
		reasons = append(reasons, d.(map[string]any)["guard"].(string)+"/"+d.(map[string]any)["reason"].(string))
	}
	got := strings.Join(reasons, " ")
	for _, want := range []string{"authn/token_missing", "authz/missing_role"} {
		if !strings.Contains(got, want) {
			t.Errorf("denials %q lack %s", got, want)
		}
	}
	if !strings.Contains(data.raw, `"key":"rate_limits.login.outage"`) {
		t.Errorf("the outage description is not in the panel's status: %s", data.raw)
	}
}

// An admin logged in through the HTML app sees the panel with the session
// alone (DESIGN: "by session or bearer token"); a user's session gets 403.
func TestSecurityPanelBySession(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	admin := newBrowser(t, srv)
	if r := admin.login(demo.AliceUser, demo.AlicePassword); r.status != 303 {
		t.Fatalf("alice's form login: %d", r.status)
	}
	if r := admin.do("GET", "/admin/security", nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("alice's session: %d %q", r.status, r.header.Get("Content-Type"))
	}
	user := newBrowser(t, srv)
	if r := user.login(demo.BobUser, demo.BobPassword); r.status != 303 {
		t.Fatalf("bob's form login: %d", r.status)
	}
	if r := user.do("GET", "/admin/security", nil); r.status != 403 {
		t.Fatalf("bob's session: %d, want 403", r.status)
	}
}
