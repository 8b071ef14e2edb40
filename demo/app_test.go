package demo_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/session"
)

// backends runs a test against the demo in memory and against a real
// Redis (which must be there: testredis fails the test in CI without it).
func backends(t *testing.T, test func(t *testing.T, cfg demo.Config)) {
	t.Run("memory", func(t *testing.T) { test(t, demo.Config{}) })
	t.Run("redis", func(t *testing.T) {
		test(t, demo.Config{RedisURL: testredis.URL(t), RedisPrefix: testredis.Prefix(t), RedisTimeout: 5 * time.Second})
	})
}

// browser is a minimal cookie-keeping client that does not follow
// redirects, so a test sees each 303 and each Set-Cookie.
type browser struct {
	t       *testing.T
	srv     *httptest.Server
	client  http.Client
	cookies map[string]*http.Cookie
	last    []*http.Cookie // the last response's Set-Cookie
	hdr     []string       // headers on every request (X-Forwarded-For)
}

func newBrowser(t *testing.T, srv *httptest.Server, hdr ...string) *browser {
	b := &browser{t: t, srv: srv, client: *srv.Client(), cookies: map[string]*http.Cookie{}, hdr: hdr}
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

func (b *browser) do(method, path string, form url.Values, hdr ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.srv.URL) // what a browser sends from the page
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	h := append(append([]string(nil), b.hdr...), hdr...)
	for i := 0; i+1 < len(h); i += 2 {
		if h[i+1] == "" {
			req.Header.Del(h[i])
		} else {
			req.Header.Set(h[i], h[i+1])
		}
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	b.last = res.Cookies()
	for _, c := range b.last {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// token loads /app and returns the token the page carries.
func (b *browser) token() string {
	b.t.Helper()
	r := b.do("GET", "/app", nil)
	tok := r.header.Get("X-CSRF-Token")
	if r.status != 200 || tok == "" || !strings.Contains(r.raw, `name="csrf_token" value="`+tok+`"`) {
		b.t.Fatalf("GET /app: %d, token %q in the header and not in the page?\n%s", r.status, tok, r.raw)
	}
	return tok
}

func (b *browser) login(user, pw string) response {
	b.t.Helper()
	return b.do("POST", "/session/login", url.Values{"username": {user}, "password": {pw}, "csrf_token": {b.token()}})
}

func (b *browser) addNote(text string, hdr ...string) response {
	b.t.Helper()
	return b.do("POST", "/app/notes", url.Values{"text": {text}, "csrf_token": {b.token()}}, hdr...)
}

func (b *browser) setCookie(name string) *http.Cookie {
	for _, c := range b.last {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) me() response { b.t.Helper(); return b.do("GET", "/session/me", nil) }

var noteItem = regexp.MustCompile(`(?s)<li>(.*?)<time`)

// notes lists the notes /app shows the browser's user.
func (b *browser) notes() []string {
	b.t.Helper()
	r := b.do("GET", "/app", nil)
	var out []string
	for _, m := range noteItem.FindAllStringSubmatch(r.raw, -1) {
		out = append(out, m[1])
	}
	return out
}

// The whole HTML app, as a person uses it, in memory and on Redis: the
// page and its headers, a failed then a good form login (cookie
// attributes, a renewed ID), /session/me, notes stored, listed newest
// first and escaped, and a logout that ends the session server-side.
func TestAppFlow(t *testing.T) {
	backends(t, func(t *testing.T, cfg demo.Config) {
		srv := newDemo(t, cfg)
		b := newBrowser(t, srv)

		r := b.do("GET", "/app", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET /app: %d %s", r.status, r.header.Get("Content-Type"))
		}
		for _, field := range []string{`name="username"`, `name="password"`, `name="csrf_token"`, `action="/session/login"`} {
			if !strings.Contains(r.raw, field) {
				t.Errorf("login form lacks %s", field)
			}
		}
		// The HTML profile: a nonce CSP whose nonce is the inline style's.
		cspHeader := r.header.Get("Content-Security-Policy")
		nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(cspHeader)
		styleNonce := regexp.MustCompile(`<style nonce="([^"]+)">`).FindStringSubmatch(r.raw)
		if nonce == nil || styleNonce == nil || html.UnescapeString(styleNonce[1]) != nonce[1] || !strings.Contains(cspHeader, "form-action 'self'") {
			t.Errorf("CSP %q and the page's style nonce disagree", cspHeader)
		}
		if rp := r.header.Get("Referrer-Policy"); rp != "strict-origin-when-cross-origin" {
			t.Errorf("Referrer-Policy %q", rp)
		}
		if strings.Contains(r.raw, "http://") || strings.Contains(r.raw, "https://") || strings.Contains(r.raw, "<script") {
			t.Errorf("the page loads or links something external, or has a script")
		}
		xsrf, pre := b.setCookie("XSRF-TOKEN"), b.setCookie("csrf")
		if xsrf == nil || xsrf.HttpOnly || xsrf.Value == "" {
			t.Fatalf("XSRF-TOKEN cookie on GET /app: %+v", xsrf)
		}
		if pre == nil || !pre.HttpOnly {
			t.Fatalf("pre-session cookie: %+v", pre)
		}
		if r := b.me(); r.status != 401 {
			t.Fatalf("/session/me anonymous: %d", r.status)
		}
		wantProblem(t, b.me(), 401)

		// Wrong password: the form again, with an error, 401.
		r = b.login("alice", "wrong")
		if r.status != 401 || !strings.Contains(r.raw, "Wrong username or password.") || !strings.Contains(r.raw, `value="alice"`) ||
			r.header.Get("WWW-Authenticate") == "" || b.setCookie("session") != nil {
			t.Fatalf("bad credentials: %d %v\n%s", r.status, r.header, r.raw)
		}

		r = b.login("alice", "wonderland-2026")
		c := b.setCookie("session")
		if r.status != 303 || r.header.Get("Location") != "/app" || c == nil {
			t.Fatalf("login: %d %v", r.status, r.header)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.Domain != "" || len(c.Value) != 43 {
			t.Errorf("session cookie attributes: %+v", c)
		}
		if c.Value == pre.Value {
			t.Errorf("the session reused the pre-session's value")
		}
		if x := b.setCookie("XSRF-TOKEN"); x == nil || x.Value == xsrf.Value {
			t.Errorf("no fresh XSRF-TOKEN after login: %+v", x)
		}
		if r := b.me(); r.status != 200 || fmt.Sprint(r.body["user"]) != "map[method:session roles:[admin] scopes:[read write] subject:alice]" {
			t.Fatalf("/session/me: %d %s", r.status, r.raw)
		}

		// A second login renews the ID; the old one is dead server-side.
		first := c.Value
		if r := b.login("alice", "wonderland-2026"); r.status != 303 {
			t.Fatalf("second login: %d %s", r.status, r.raw)
		}
		if c2 := b.setCookie("session"); c2 == nil || c2.Value == first {
			t.Fatalf("the session ID was not renewed at login: %+v", c2)
		}
		if r := do(t, srv, "GET", "/session/me", "", "Cookie", "session="+first); r.status != 401 {
			t.Fatalf("the replaced session ID still works: %d", r.status)
		}

		// Notes: stored, newest first, escaped.
		if r := b.addNote("<script>alert(1)</script>"); r.status != 303 || r.header.Get("Location") != "/app" {
			t.Fatalf("note: %d %s", r.status, r.raw)
		}
		if r := b.addNote("second & last"); r.status != 303 {
			t.Fatalf("note: %d %s", r.status, r.raw)
		}
		page := b.do("GET", "/app", nil)
		if strings.Contains(page.raw, "<script>alert(1)") {
			t.Fatal("a note was written into the page unescaped")
		}
		if got := b.notes(); fmt.Sprint(got) != "[second &amp; last &lt;script&gt;alert(1)&lt;/script&gt;]" {
			t.Fatalf("notes %q", got)
		}
		for _, bad := range []string{"", "   ", strings.Repeat("x", 501), "bell\a"} {
			if r := b.addNote(bad); r.status != 422 || !strings.Contains(r.raw, `class="error"`) {
				t.Errorf("note %q: %d", bad, r.status)
			}
		}
		if n := len(b.notes()); n != 2 {
			t.Fatalf("%d notes after refused ones", n)
		}

		// Logout: 303, the cookie removed, the session gone server-side.
		old := b.cookies["session"].Value
		r = b.do("POST", "/session/logout", url.Values{"csrf_token": {b.token()}})
		if r.status != 303 || r.header.Get("Location") != "/app" {
			t.Fatalf("logout: %d %s", r.status, r.raw)
		}
		if c := b.setCookie("session"); c == nil || c.MaxAge >= 0 {
			t.Errorf("logout did not remove the cookie: %+v", c)
		}
		// The CSRF cookies go with it: XSRF-TOKEN is bound to the ended
		// session, the pre-session to the visit before login.
		oldPre := b.cookies["csrf"]
		for _, name := range []string{"XSRF-TOKEN", "csrf"} {
			if c := b.setCookie(name); c == nil || c.MaxAge >= 0 {
				t.Errorf("logout did not remove the %s cookie: %+v", name, c)
			}
		}
		// The next page hands out fresh ones.
		if r := b.do("GET", "/app", nil); r.status != 200 {
			t.Fatalf("GET /app after logout: %d", r.status)
		}
		if x, p := b.setCookie("XSRF-TOKEN"), b.setCookie("csrf"); x == nil || x.Value == "" || p == nil || p.Value == "" || oldPre != nil && p.Value == oldPre.Value {
			t.Errorf("GET /app after logout: XSRF-TOKEN %+v, pre-session %+v", x, p)
		}
		wantProblem(t, do(t, srv, "GET", "/session/me", "", "Cookie", "session="+old), 401)
		replay := newBrowser(t, srv)
		tok := replay.token()
		replay.cookies["session"] = &http.Cookie{Name: "session", Value: old}
		if r := replay.do("POST", "/app/notes", url.Values{"text": {"replayed"}, "csrf_token": {tok}}); r.status != 401 {
			t.Fatalf("a note with the logged-out cookie: %d %s", r.status, r.raw)
		}
		b.login("alice", "wonderland-2026")
		if n := len(b.notes()); n != 2 {
			t.Fatalf("%d notes after the replay", n)
		}
	})
}

// Over HTTPS the session cookie is Secure and named __Host-session.
func TestAppCookieOverTLS(t *testing.T) {
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(app.Handler())
	t.Cleanup(func() { srv.Close(); _ = app.Close() })
	b := newBrowser(t, srv)
	if r := b.login("bob", "builder-2026"); r.status != 303 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	c := b.setCookie("__Host-session")
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie over TLS: %+v (all: %v)", c, b.last)
	}
	if r := b.me(); r.status != 200 {
		t.Fatalf("/session/me: %d", r.status)
	}
}

// Every CSRF refusal is a 403 problem with its reason, and stores nothing:
// no token, a forged one, another session's, a cross-site Origin or Fetch
// Metadata (even with a valid token), an X-XSRF-Token that is not the
// cookie's; a forged login (login CSRF) logs nobody in; a forged logout
// ends nothing. The double submit from a same-origin script works.
func TestAppCSRFRefusals(t *testing.T) {
	backends(t, func(t *testing.T, cfg demo.Config) {
		srv := newDemo(t, cfg)
		bob, alice := newBrowser(t, srv), newBrowser(t, srv)
		if r := bob.login("bob", "builder-2026"); r.status != 303 {
			t.Fatalf("login: %d", r.status)
		}
		if r := alice.login("alice", "wonderland-2026"); r.status != 303 {
			t.Fatalf("login: %d", r.status)
		}
		tok, aliceTok := bob.token(), alice.token()
		note := func(v url.Values) url.Values { v.Set("text", "forged"); return v }
		for _, tc := range []struct {
			name   string
			form   url.Values
			hdr    []string
			reason string
		}{
			{"no token", note(url.Values{}), nil, "csrf_token_missing"},
			{"forged token", note(url.Values{"csrf_token": {"AAAA" + tok[4:]}}), nil, "csrf_token_invalid"},
			{"garbage token", note(url.Values{"csrf_token": {"<script>"}}), nil, "csrf_token_invalid"},
			{"another session's token", note(url.Values{"csrf_token": {aliceTok}}), nil, "csrf_session_mismatch"},
			{"cross-site Origin, valid token", note(url.Values{"csrf_token": {tok}}), []string{"Origin", "https://evil.example"}, "csrf_origin_mismatch"},
			{"cross-site fetch, valid token", note(url.Values{"csrf_token": {tok}}), []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, "csrf_cross_site"},
			{"same-site sibling, valid token", note(url.Values{"csrf_token": {tok}}), []string{"Sec-Fetch-Site", "same-site", "Origin", "http://sub.127.0.0.1.nip.io"}, "csrf_cross_site"},
			{"Referer from elsewhere", note(url.Values{"csrf_token": {tok}}), []string{"Origin", "", "Referer", "https://evil.example/page"}, "csrf_referer_mismatch"},
			{"userinfo Origin", note(url.Values{"csrf_token": {tok}}), []string{"Origin", "http://evil@" + strings.TrimPrefix(srv.URL, "http://")}, "csrf_origin_malformed"},
			{"X-XSRF-Token not the cookie's", note(url.Values{}), []string{"X-XSRF-Token", aliceTok}, "csrf_xsrf_cookie_mismatch"},
		} {
			r := bob.do("POST", "/app/notes", tc.form, tc.hdr...)
			wantProblem(t, r, 403)
			if r.body["reason"] != tc.reason {
				t.Errorf("%s: reason %v, want %s", tc.name, r.body["reason"], tc.reason)
			}
		}
		if got := bob.notes(); len(got) != 0 {
			t.Fatalf("refused requests stored notes: %q", got)
		}
		// The double submit (Angular, axios): X-XSRF-Token = the cookie.
		xsrf := bob.cookies["XSRF-TOKEN"].Value
		if r := bob.do("POST", "/app/notes", url.Values{"text": {"via X-XSRF-Token"}}, "X-XSRF-Token", xsrf); r.status != 303 {
			t.Fatalf("double submit: %d %s", r.status, r.raw)
		}
		if r := bob.do("POST", "/app/notes", url.Values{"text": {"via X-CSRF-Token"}}, "X-CSRF-Token", bob.token()); r.status != 303 {
			t.Fatalf("header token: %d %s", r.status, r.raw)
		}
		if got := bob.notes(); len(got) != 2 {
			t.Fatalf("notes %q", got)
		}

		// A forged logout ends nothing.
		wantProblem(t, bob.do("POST", "/session/logout", url.Values{}), 403)
		wantProblem(t, bob.do("POST", "/session/logout", url.Values{"csrf_token": {bob.token()}}, "Origin", "https://evil.example"), 403)
		if r := bob.me(); r.status != 200 {
			t.Fatalf("a refused logout ended the session: %d", r.status)
		}

		// Login CSRF: a cross-site form post carries no cookie at all (the
		// pre-session cookie is Lax), and is still checked.
		victim := newBrowser(t, srv)
		for _, hdr := range [][]string{
			{"Origin", "https://evil.example"},
			{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
			{}, // same origin, but no token
		} {
			r := victim.do("POST", "/session/login", url.Values{"username": {"bob"}, "password": {"builder-2026"}}, hdr...)
			wantProblem(t, r, 403)
			if victim.setCookie("session") != nil {
				t.Fatalf("a forged login set a session cookie (%v)", hdr)
			}
		}
		if r := victim.me(); r.status != 401 {
			t.Fatalf("the forged login logged the victim in: %d", r.status)
		}
	})
}

// POST /session/login has its own limit: the 6th attempt from one address
// within 5 minutes is refused (429), whatever the outcome of the first
// five, while /api/login keeps its own window.
func TestAppLoginLimit(t *testing.T) {
	backends(t, func(t *testing.T, cfg demo.Config) {
		srv := newDemo(t, cfg)
		b := newBrowser(t, srv)
		for i := range 5 {
			if r := b.login("alice", "wrong"); r.status != 401 {
				t.Fatalf("attempt %d: %d", i+1, r.status)
			}
		}
		r := b.login("alice", "wonderland-2026")
		wantProblem(t, r, 429)
		if r.header.Get("Retry-After") == "" || b.setCookie("session") != nil {
			t.Fatalf("6th attempt: %v", r.header)
		}
		tokens(t, login(t, srv, "alice", "wonderland-2026")) // another route, another window
	})
}

// One credential-stuffing detector for both login routes: failures with
// distinct usernames on /api/login and on the form add up, so the 6th
// distinct username failing from one address is refused on either.
func TestAppCredentialStuffingShared(t *testing.T) {
	backends(t, func(t *testing.T, cfg demo.Config) {
		srv := newDemo(t, cfg)
		b := newBrowser(t, srv)
		for i := range 3 {
			if r := login(t, srv, fmt.Sprintf("victim%d", i), "guess"); r.status != 401 {
				t.Fatalf("API attempt %d: %d %s", i, r.status, r.raw)
			}
		}
		for i := 3; i < 5; i++ {
			if r := b.login(fmt.Sprintf("victim%d", i), "guess"); r.status != 401 {
				t.Fatalf("form attempt %d: %d %s", i, r.status, r.raw)
			}
		}
		r := b.login("victim5", "guess")
		wantProblem(t, r, 403)
		if r.body["type"] != "https://bulwark.dev/problems/abuse-detected" {
			t.Fatalf("the 6th distinct username: %s", r.raw)
		}
		wantProblem(t, login(t, srv, "victim6", "guess"), 403)
	})
}

// Two notes added at once both land (each write swaps against what it
// read), in memory and on Redis.
func TestAppConcurrentNotes(t *testing.T) {
	backends(t, func(t *testing.T, cfg demo.Config) {
		srv := newDemo(t, cfg)
		b := newBrowser(t, srv)
		if r := b.login("bob", "builder-2026"); r.status != 303 {
			t.Fatalf("login: %d", r.status)
		}
		tok := b.token()
		var wg sync.WaitGroup
		status := make([]int, 8)
		for i := range status {
			wg.Go(func() {
				form := url.Values{"text": {fmt.Sprint("note ", i)}, "csrf_token": {tok}}
				req, _ := http.NewRequest("POST", srv.URL+"/app/notes", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", srv.URL)
				for _, c := range b.cookies {
					req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
				res, err := b.client.Do(req)
				if err != nil {
					return
				}
				res.Body.Close()
				status[i] = res.StatusCode
			})
		}
		wg.Wait()
		stored := 0
		for _, s := range status {
			if s == 303 {
				stored++
			} else if s != 409 {
				t.Errorf("status %d", s)
			}
		}
		if got := len(b.notes()); got != stored || stored < len(status)-1 {
			t.Fatalf("%d notes listed, %d answered 303 (statuses %v)", got, stored, status)
		}
	})
}

// The session principal is available beside bearer tokens (for
// /admin/security, role admin by session or bearer token): a session
// cookie yields the session's user, a bearer token wins over it, and /api/*
// still ignores the session.
func TestSessionOrBearer(t *testing.T) {
	app, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	inner := app.Handler()
	mux := http.NewServeMux()
	mux.Handle("/whoami", demo.AdminAuthn(app).Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "%s %s %v", p.Subject, p.Method, p.Roles)
	})))
	mux.Handle("/", inner)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := newBrowser(t, srv)
	if r := b.login("alice", "wonderland-2026"); r.status != 303 {
		t.Fatalf("login %d", r.status)
	}
	if r := b.do("GET", "/whoami", nil); r.raw != "alice session [admin]" {
		t.Fatalf("by session: %d %q", r.status, r.raw)
	}
	access, _ := tokens(t, login(t, srv, "bob", "builder-2026"))
	if r := b.do("GET", "/whoami", nil, bearer(access)...); !strings.HasPrefix(r.raw, "bob ") {
		t.Fatalf("bearer first: %d %q", r.status, r.raw)
	}
	if r := b.do("GET", "/whoami", nil, "Cookie", ""); r.status != 401 {
		t.Fatalf("no credentials: %d", r.status)
	}
	if r := b.do("GET", "/api/protected", nil); r.status != 401 {
		t.Fatalf("/api/protected took the session: %d %s", r.status, r.raw)
	}
}

// Every JSON or problem response of the HTML app's routes carries the API
// header profile, every HTML page the HTML profile with the nonce its
// inline style uses (DESIGN: "JSON responses (errors included) carry the
// API profile … HTML pages carry the HTML profile").
func TestAppHeaderProfiles(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	api := func(name string, r response) {
		t.Helper()
		if csp := r.header.Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
			t.Errorf("%s (%d %s): CSP %q, want the API profile's", name, r.status, r.header.Get("Content-Type"), csp)
		}
		if rp := r.header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q, want no-referrer", name, rp)
		}
	}
	nonceCSP := regexp.MustCompile(`'nonce-([^']+)'`)
	styleNonce := regexp.MustCompile(`<style nonce="([^"]+)">`)
	page := func(name string, r response, status int) {
		t.Helper()
		if r.status != status || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: %d %s, want an HTML page with %d", name, r.status, r.header.Get("Content-Type"), status)
		}
		csp := r.header.Get("Content-Security-Policy")
		n, sn := nonceCSP.FindStringSubmatch(csp), styleNonce.FindStringSubmatch(r.raw)
		if n == nil || sn == nil || html.UnescapeString(sn[1]) != n[1] || !strings.HasPrefix(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q, style nonce %v: want the HTML profile's, with the page's nonce", name, csp, sn)
		}
		if rp := r.header.Get("Referrer-Policy"); rp != "strict-origin-when-cross-origin" {
			t.Errorf("%s: Referrer-Policy %q", name, rp)
		}
	}

	b := newBrowser(t, srv)
	page("GET /app", b.do("GET", "/app", nil), 200)

	// POST /session/login: a CSRF refusal is a problem; bad input and bad
	// credentials re-render the form.
	r := b.do("POST", "/session/login", url.Values{"username": {"alice"}, "password": {"x"}})
	wantProblem(t, r, 403)
	api("login without a token", r)
	page("login with fields missing", b.do("POST", "/session/login", url.Values{"username": {"alice"}, "csrf_token": {b.token()}}), 422)
	page("login with a wrong password", b.login("alice", "wrong"), 401)
	r = b.login("alice", "wonderland-2026")
	if r.status != 303 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	api("login's redirect", r)

	// POST /app/notes.
	r = b.do("POST", "/app/notes", url.Values{"text": {"hi"}})
	wantProblem(t, r, 403)
	api("note without a token", r)
	page("an empty note", b.addNote(""), 422)
	api("a note's redirect", b.addNote("hello"))
	anon := newBrowser(t, srv)
	r = anon.addNote("hi")
	wantProblem(t, r, 401)
	api("note without a login", r)

	// POST /session/logout: problems and its redirect, no page.
	r = b.do("POST", "/session/logout", url.Values{})
	wantProblem(t, r, 403)
	api("logout without a token", r)
	r = b.do("POST", "/session/logout", url.Values{"csrf_token": {b.token()}})
	if r.status != 303 {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	}
	api("logout's redirect", r)

	// GET /session/me: JSON either way.
	r = b.me()
	wantProblem(t, r, 401)
	api("/session/me anonymous", r)
}

// A CSRF-refused request changes no state, not even the session's idle
// deadline: refused POSTs cannot keep a session alive.
func TestAppRefusedRequestKeepsIdleDeadline(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock})
	b := newBrowser(t, srv)
	if r := b.login("alice", "wonderland-2026"); r.status != 303 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	advance(10 * time.Minute)
	for range 3 {
		r := b.do("POST", "/app/notes", url.Values{"text": {"forged"}}) // no token
		wantProblem(t, r, 403)
		if r.body["reason"] != "csrf_token_missing" {
			t.Fatalf("refusal reason %v", r.body["reason"])
		}
	}
	advance(session.DefaultIdleTimeout - 10*time.Minute + time.Second) // just past the idle timeout since login
	if r := b.me(); r.status != 401 {
		t.Fatalf("refused requests kept the session alive: /session/me %d %s", r.status, r.raw)
	}
}
