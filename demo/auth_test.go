package demo_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testclock"
)

func login(t *testing.T, srv *httptest.Server, user, pw string, hdr ...string) response {
	t.Helper()
	return do(t, srv, "POST", "/api/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw),
		append([]string{"Content-Type", "application/json"}, hdr...)...)
}

func tokens(t *testing.T, r response) (access, refresh string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("login/refresh %d: %s", r.status, r.raw)
	}
	a, _ := r.body["access_token"].(string)
	f, _ := r.body["refresh_token"].(string)
	if a == "" || f == "" || r.body["token_type"] != "Bearer" || r.body["expires_in"] == nil {
		t.Fatalf("token response %s", r.raw)
	}
	return a, f
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// DESIGN.md's flow: login → protected → refresh → reuse → logout.
func TestJWTFlow(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	access, refresh := tokens(t, login(t, srv, "alice", "wonderland-2026"))

	r := do(t, srv, "GET", "/api/protected", "", bearer(access)...)
	if r.status != 200 || r.body["authenticated"] != true {
		t.Fatalf("protected %d %s", r.status, r.raw)
	}
	if r := do(t, srv, "GET", "/api/protected", "", "Cookie", "auth_token="+access); r.status != 200 {
		t.Fatalf("cookie token refused: %d", r.status)
	}
	// No token: 401 with a bare Bearer challenge.
	r = do(t, srv, "GET", "/api/protected", "")
	wantProblem(t, r, 401)
	if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") || strings.Contains(ch, "error=") {
		t.Fatalf("challenge %q", ch)
	}
	// Garbage token: invalid_token.
	r = do(t, srv, "GET", "/api/protected", "", bearer("not.a.jwt")...)
	wantProblem(t, r, 401)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("challenge %q", r.header.Get("WWW-Authenticate"))
	}
	// A refresh token is never an access token.
	wantProblem(t, do(t, srv, "GET", "/api/protected", "", bearer(refresh)...), 401)

	body := `{"refresh_token":"` + refresh + `"}`
	access2, refresh2 := tokens(t, do(t, srv, "POST", "/api/refresh", body, "Content-Type", "application/json"))
	// Reuse of the old refresh token: 401, and the whole family is revoked.
	r = do(t, srv, "POST", "/api/refresh", body, "Content-Type", "application/json")
	wantProblem(t, r, 401)
	if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Bearer realm="bulwark-demo"`) || !strings.Contains(ch, `error="invalid_token"`) {
		t.Fatalf("refresh challenge %q", ch)
	}
	wantProblem(t, do(t, srv, "POST", "/api/refresh", `{"refresh_token":"`+refresh2+`"}`, "Content-Type", "application/json"), 401)
	wantProblem(t, do(t, srv, "GET", "/api/protected", "", bearer(access2)...), 401)

	// Logout revokes the access and refresh token at once.
	access3, refresh3 := tokens(t, login(t, srv, "bob", "builder-2026"))
	r = do(t, srv, "POST", "/api/logout", `{"refresh_token":"`+refresh3+`"}`, append(bearer(access3), "Content-Type", "application/json")...)
	if r.status != 204 {
		t.Fatalf("logout %d %s", r.status, r.raw)
	}
	wantProblem(t, do(t, srv, "GET", "/api/protected", "", bearer(access3)...), 401)
	wantProblem(t, do(t, srv, "POST", "/api/refresh", `{"refresh_token":"`+refresh3+`"}`, "Content-Type", "application/json"), 401)
}

func TestLoginInput(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	wantProblem(t, do(t, srv, "POST", "/api/login", `{"username":`, "Content-Type", "application/json"), 400)
	wantProblem(t, do(t, srv, "POST", "/api/login", `{"username":"alice"}`, "Content-Type", "application/json"), 422)
	wantProblem(t, do(t, srv, "POST", "/api/login", `username=alice`, "Content-Type", "application/x-www-form-urlencoded"), 415)
	r := login(t, srv, "alice", "wrong-password")
	wantProblem(t, r, 401)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without a challenge (RFC 9110 §15.5.2)")
	}
	if strings.Contains(r.raw, "wrong-password") {
		t.Fatal("password echoed")
	}
}

// Sliding window: 5 attempts of any outcome per IP per 5 minutes.
func TestLoginRateLimit(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	for i := 0; i < 5; i++ {
		r := login(t, srv, "alice", "wrong")
		if r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.raw)
		}
		if r.header.Get("RateLimit") == "" || r.header.Get("RateLimit-Policy") == "" {
			t.Fatalf("attempt %d: no RateLimit headers", i+1)
		}
	}
	r := login(t, srv, "alice", "wonderland-2026") // even the right password
	wantProblem(t, r, 429)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	if r.header.Get("RateLimit") == "" {
		t.Fatal("429 without RateLimit header")
	}
}

// fakeClock returns a settable clock for demo.Config.Now. The stores'
// janitor goroutines read it too, so it is atomic.
func fakeClock() (now func() time.Time, advance func(time.Duration)) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	return c.Now, c.Advance
}

// More than 5 distinct usernames failing from one IP within an hour → 403.
func TestCredentialStuffing(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	for i := 0; i < 5; i++ {
		if r := login(t, srv, fmt.Sprintf("victim%d", i), "guess"); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
		advance(61 * time.Second) // stay under the login rate limit
	}
	advance(5 * time.Minute)
	wantProblem(t, login(t, srv, "victim5", "guess"), 403)
	// Now every login from this address is refused, even a correct one.
	advance(5 * time.Minute)
	wantProblem(t, login(t, srv, "alice", "wonderland-2026"), 403)
}

func TestAuthorization(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	alice, _ := tokens(t, login(t, srv, "alice", "wonderland-2026"))
	bob, _ := tokens(t, login(t, srv, "bob", "builder-2026"))

	if r := do(t, srv, "GET", "/api/admin/users", "", bearer(alice)...); r.status != 200 {
		t.Fatalf("admin users for alice: %d", r.status)
	}
	wantProblem(t, do(t, srv, "GET", "/api/admin/users", "", bearer(bob)...), 403)
	wantProblem(t, do(t, srv, "GET", "/api/admin/users", ""), 401)
	wantProblem(t, do(t, srv, "DELETE", "/api/users/alice", "", bearer(bob)...), 403)

	// Posts: anonymous list shows published ids and titles only.
	r := do(t, srv, "GET", "/api/posts", "")
	if r.status != 200 || strings.Contains(r.raw, "Draft") || strings.Contains(r.raw, "owner") {
		t.Fatalf("anonymous posts %s", r.raw)
	}
	if r := do(t, srv, "GET", "/api/posts", "", bearer(bob)...); !strings.Contains(r.raw, "Draft") || !strings.Contains(r.raw, "owner") {
		t.Fatalf("logged-in posts %s", r.raw)
	}
	wantProblem(t, do(t, srv, "GET", "/api/posts/1", ""), 401)
	if r := do(t, srv, "GET", "/api/posts/2", "", bearer(alice)...); r.status != 200 {
		t.Fatalf("read post %d", r.status)
	}
	// bob may not change alice's post; unknown ids are 404 before 403.
	upd := []string{"Content-Type", "application/json"}
	wantProblem(t, do(t, srv, "PUT", "/api/posts/1", `{"title":"mine now"}`, append(bearer(bob), upd...)...), 403)
	wantProblem(t, do(t, srv, "PUT", "/api/posts/999", `{"title":"x"}`, append(bearer(bob), upd...)...), 404)
	wantProblem(t, do(t, srv, "DELETE", "/api/posts/1", "", bearer(bob)...), 403)
	if r := do(t, srv, "PUT", "/api/posts/2", `{"title":"bob's own"}`, append(bearer(bob), upd...)...); r.status != 200 || r.body["title"] != "bob's own" {
		t.Fatalf("owner update %d %s", r.status, r.raw)
	}
	if r := do(t, srv, "DELETE", "/api/posts/2", "", bearer(alice)...); r.status != 204 {
		t.Fatalf("admin delete %d", r.status)
	}
	wantProblem(t, do(t, srv, "GET", "/api/posts/2", "", bearer(alice)...), 404)
}

func TestAPITokenBucketHeaders(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	r := do(t, srv, "GET", "/api/public", "")
	pol := strings.Join(r.header.Values("RateLimit-Policy"), ", ")
	if !strings.Contains(pol, `"ip";q=200;w=10`) || !strings.Contains(pol, `"api";q=100;w=10`) {
		t.Fatalf("RateLimit-Policy %q", pol)
	}
}

// A flood of bogus tokens is throttled by the per-IP limit that runs
// before authentication: refused authentications count too.
func TestBogusTokensAreRateLimited(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	for i := 0; i < 200; i++ {
		if r := do(t, srv, "GET", "/api/protected", "", bearer("bogus")...); r.status != 401 {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := do(t, srv, "GET", "/api/protected", "", bearer("bogus")...)
	wantProblem(t, r, 429)
	if !strings.Contains(strings.Join(r.header.Values("RateLimit"), ","), `"ip";r=0`) {
		t.Fatalf("429 from another limit: %v", r.header)
	}
	// The per-IP bucket refills at 20 per second.
	advance(time.Second)
	for i := 0; i < 20; i++ {
		if r := do(t, srv, "GET", "/api/public", ""); r.status != 200 {
			t.Fatalf("after refill, request %d: %d", i+1, r.status)
		}
	}
	wantProblem(t, do(t, srv, "GET", "/api/public", ""), 429)
}

// The demo's signing key is secret even though its accounts are public: a
// token minted with the key an earlier version derived from a public seed
// (or with any key but this process's) is refused, and separate demo
// processes without a shared Redis do not accept each other's tokens.
func TestForgedAdminTokenRefused(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	seed := sha256.Sum256([]byte("bulwark demo signing key: public, for the demo only"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	for _, kid := range []string{"bulwark-demo-ed25519-1", ""} {
		key, err := jwt.NewKey(kid, jwt.EdDSA, priv)
		if err != nil {
			t.Fatal(err)
		}
		iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "bulwark-demo", Audience: []string{"bulwark-demo"}, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		forged, err := iss.Issue(jwt.Claims{Subject: "mallory", Roles: []string{"admin"}, Scopes: []string{"read", "write"}})
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, do(t, srv, "GET", "/api/admin/users", "", bearer(forged)...), 401)
	}
	other := newDemo(t, demo.Config{})
	access, _ := tokens(t, login(t, other, "alice", "wonderland-2026"))
	wantProblem(t, do(t, srv, "GET", "/api/protected", "", bearer(access)...), 401)
}

// The auth_token cookie makes /api/* CSRF-prone: a cross-origin unsafe
// request that carries cookies is refused (a bodiless POST /api/logout
// needs no preflight), unless its origin is a trusted CORS origin; bearer
// requests and same-origin ones pass.
func TestCookieCSRFOnAPI(t *testing.T) {
	srv := newDemo(t, demo.Config{CORSOrigins: []string{"https://app.example", "https://*.partner.example"}})
	access, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	cookie := []string{"Cookie", "auth_token=" + access}
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"fetch metadata cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"fetch metadata same-site", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.example.net"}},
		{"foreign Origin", []string{"Origin", "https://evil.example"}},
		{"Origin null", []string{"Origin", "null"}},
	} {
		r := do(t, srv, "POST", "/api/logout", "", append(cookie, tc.hdr...)...)
		wantProblem(t, r, 403)
		if r.body["type"] != "https://bulwark.dev/problems/csrf" {
			t.Fatalf("%s: %s", tc.name, r.raw)
		}
	}
	// Still logged in: nothing was revoked.
	if r := do(t, srv, "GET", "/api/protected", "", cookie...); r.status != 200 {
		t.Fatalf("refused logout changed state: %d", r.status)
	}
	// A cross-site GET (safe) and a bearer POST without cookies pass.
	if r := do(t, srv, "GET", "/api/protected", "", append(cookie, "Sec-Fetch-Site", "cross-site")...); r.status != 200 {
		t.Fatalf("cross-site GET: %d", r.status)
	}
	// The trusted CORS origin may make credentialed unsafe calls.
	if r := do(t, srv, "POST", "/api/logout", "", append(cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example")...); r.status != 204 {
		t.Fatalf("trusted origin logout: %d %s", r.status, r.raw)
	}
	// So may an origin a CORS pattern allows.
	access4, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	if r := do(t, srv, "POST", "/api/logout", "", "Cookie", "auth_token="+access4, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.partner.example"); r.status != 204 {
		t.Fatalf("pattern-allowed origin logout: %d %s", r.status, r.raw)
	}
	access2, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	if r := do(t, srv, "POST", "/api/logout", "", append(bearer(access2), "Sec-Fetch-Site", "cross-site")...); r.status != 204 {
		t.Fatalf("bearer logout without cookies: %d %s", r.status, r.raw)
	}
}

// The cross-origin check is step 7: it runs after authentication, so a
// cross-site request carrying a bad cookie token is a 401 (who are you?)
// before it can be a 403 (not from there), and a refused cross-origin
// request still counted against the client's limits.
func TestCrossOriginCheckAfterAuthentication(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	cross := []string{"Sec-Fetch-Site", "cross-site", "Cookie", "auth_token=not.a.jwt"}
	r := do(t, srv, "POST", "/api/logout", "", cross...)
	wantProblem(t, r, 401)
	if r.body["type"] != "https://bulwark.dev/problems/invalid-token" {
		t.Fatalf("bad cookie token, cross-site: %s", r.raw)
	}
	access, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	r = do(t, srv, "POST", "/api/logout", "", "Sec-Fetch-Site", "cross-site", "Cookie", "auth_token="+access)
	wantProblem(t, r, 403)
	if pol := strings.Join(r.header.Values("RateLimit-Policy"), ", "); !strings.Contains(pol, `"api"`) || !strings.Contains(pol, `"ip"`) {
		t.Fatalf("the 403 skipped the limits before it: %q", pol)
	}
}
