package demo_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

// Go issue #78563: http.CrossOriginProtection, the demo's previous check,
// let "Origin: http://evil@127.0.0.1:PORT" through as same-origin, so a
// cookie-authenticated POST /api/logout was executed. The csrf guard
// refuses an Origin with user information as malformed, and nothing is
// revoked.
func TestOriginWithUserinfoRefusedOnAPI(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	access, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	cookie := []string{"Cookie", "auth_token=" + access}
	host := strings.TrimPrefix(srv.URL, "http://")
	r := do(t, srv, "POST", "/api/logout", "", append(cookie, "Origin", "http://evil@"+host)...)
	wantProblem(t, r, 403)
	if r.body["type"] != "https://bulwark.dev/problems/csrf" || r.body["reason"] != "csrf_origin_malformed" {
		t.Fatalf("userinfo Origin: %s", r.raw)
	}
	if r := do(t, srv, "GET", "/api/protected", "", cookie...); r.status != 200 {
		t.Fatalf("the refused logout revoked the token: %d", r.status)
	}
	// The real origin still logs out.
	if r := do(t, srv, "POST", "/api/logout", "", append(cookie, "Origin", srv.URL)...); r.status != 204 {
		t.Fatalf("same-origin logout: %d %s", r.status, r.raw)
	}
}
