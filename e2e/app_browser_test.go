//go:build unix

package e2e_test

import (
	"html/template"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// TestBrowserApp runs the demo's HTML app in headless Chromium, as a
// person and as two attackers: a page on another site (localhost, while
// the app is on 127.0.0.1) and a same-site sibling (127.0.0.1, another
// port: the browser sends the app's SameSite=Lax cookies with its
// requests, so only the server's checks stop it).
//
//   - login through the form sets a session cookie page script cannot read;
//   - a note posted through the page is stored and listed;
//   - forged note posts from both attackers — a form without a token, one
//     with a token stolen from the page, a fetch with credentials:'include'
//     — are refused and store nothing;
//   - a forged login form from either attacker logs nobody in;
//   - the X-XSRF-Token double submit works from the app's own origin (and a
//     header that is not the cookie's is refused);
//   - logout ends the session server-side: the old cookie, replayed by a
//     Go client, gets 401.
func TestBrowserApp(t *testing.T) {
	chromium, node := browserPrereqs(t)

	appLn, crossLn, siblingLn := browserListen(t), browserListen(t), browserListen(t)
	app := "http://" + appLn.Addr().String()
	// localhost and 127.0.0.1 are different sites; the same host on another
	// port is the same site (ports do not count) but another origin.
	cross := "http://localhost:" + portOf(crossLn.Addr().String())
	sibling := "http://" + siblingLn.Addr().String()

	d, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	rec := &appRecorder{}
	servers := map[net.Listener]*http.Server{
		appLn:     {Handler: rec.wrap(d.Handler()), ReadHeaderTimeout: 5 * time.Second},
		crossLn:   {Handler: attackerPage(app), ReadHeaderTimeout: 5 * time.Second},
		siblingLn: {Handler: attackerPage(app), ReadHeaderTimeout: 5 * time.Second},
	}
	for ln, s := range servers {
		go func() { _ = s.Serve(ln) }()
		t.Cleanup(func() { _ = s.Close() })
	}

	out := runAppBrowser(t, chromium, node, map[string]any{
		"app":       app,
		"attackers": map[string]string{"cross": cross, "sibling": sibling},
	})
	t.Logf("attacks as the browser saw them: %v", out.Attacks)

	// Forged logins logged nobody in.
	if out.MeAfterForgedLogins != 401 {
		t.Errorf("after forged logins /session/me = %d, want 401", out.MeAfterForgedLogins)
	}
	// The real login: a cookie page script cannot read.
	if out.MeAfterLogin != 200 {
		t.Fatalf("login through the form: /session/me = %d (console %q)", out.MeAfterLogin, out.Console)
	}
	if strings.Contains(out.DocumentCookie, "session=") || !strings.Contains(out.DocumentCookie, "XSRF-TOKEN=") {
		t.Errorf("document.cookie = %q: must hold XSRF-TOKEN and not the session", out.DocumentCookie)
	}
	i := slices.IndexFunc(out.Cookies, func(c browserCookie) bool { return c.Name == "session" })
	if i < 0 || !out.Cookies[i].HTTPOnly || out.Cookies[i].SameSite != "Lax" {
		t.Errorf("session cookie in the browser: %+v", out.Cookies)
	}
	// The note through the page; nothing from the attackers.
	want := []string{"hello from Chromium <b>bold</b>"}
	if !slices.Equal(out.NotesAfterPost, want) || !slices.Equal(out.NotesAfterAttacks, want) {
		t.Errorf("notes after the post %q, after the attacks %q; want %q", out.NotesAfterPost, out.NotesAfterAttacks, want)
	}
	if out.MeAfterAttacks != 200 {
		t.Errorf("the attacks ended the session: %d", out.MeAfterAttacks)
	}
	if len(out.Attacks) != 8 {
		t.Errorf("%d attacks ran, want 8: %v", len(out.Attacks), out.Attacks)
	}
	// The double submit.
	if out.XSRF.OK != 200 || !out.XSRF.OKRedirected || out.XSRF.Bad != 403 {
		t.Errorf("X-XSRF-Token double submit: %+v", out.XSRF)
	}
	if want := []string{"via X-XSRF-Token", "hello from Chromium <b>bold</b>"}; !slices.Equal(out.NotesAfterXSRF, want) {
		t.Errorf("notes after the double submit %q, want %q", out.NotesAfterXSRF, want)
	}
	// Logout, and the old cookie replayed from outside the browser.
	if !out.LoginFormAfterLogout || out.MeAfterLogout != 401 || out.SessionCookie == "" {
		t.Errorf("logout: login form %v, /session/me %d, cookie %q", out.LoginFormAfterLogout, out.MeAfterLogout, out.SessionCookie)
	}
	req, _ := http.NewRequest("GET", app+"/session/me", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: out.SessionCookie})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("the logged-out cookie replayed: %d, want 401", res.StatusCode)
	}

	// What reached the server. Cross-site requests carry no session
	// cookie (SameSite=Lax) and are refused; the sibling's carry it, and
	// the CSRF guard refuses them (Sec-Fetch-Site: same-site).
	for _, tc := range []struct {
		origin, path string
		n            int
		withCookie   bool
		statuses     []int
	}{
		{cross, "/session/login", 1, false, []int{403}},
		{sibling, "/session/login", 1, false, []int{403}},
		{cross, "/app/notes", 3, false, []int{401, 403}},
		{sibling, "/app/notes", 3, true, []int{403}},
	} {
		got := rec.find(tc.origin, "POST", tc.path)
		if len(got) != tc.n {
			t.Errorf("%s POST %s: %d requests reached the server, want %d: %+v", tc.origin, tc.path, len(got), tc.n, got)
		}
		for _, s := range got {
			if s.session != tc.withCookie || !slices.Contains(tc.statuses, s.status) {
				t.Errorf("%s POST %s: session cookie %v, status %d (fetch site %q); want cookie %v, status in %v",
					tc.origin, tc.path, s.session, s.status, s.fetchSite, tc.withCookie, tc.statuses)
			}
		}
	}
	for _, s := range rec.find(sibling, "POST", "/app/notes") {
		if s.fetchSite != "same-site" {
			t.Errorf("the sibling's request was not same-site to Chromium: %q", s.fetchSite)
		}
	}
}

type browserCookie struct {
	Name     string `json:"name"`
	HTTPOnly bool   `json:"httpOnly"`
	SameSite string `json:"sameSite"`
	Secure   bool   `json:"secure"`
}

type appBrowserResult struct {
	Console              []string        `json:"console"`
	Attacks              map[string]any  `json:"attacks"`
	MeAfterForgedLogins  int             `json:"meAfterForgedLogins"`
	DocumentCookie       string          `json:"documentCookie"`
	Cookies              []browserCookie `json:"cookies"`
	MeAfterLogin         int             `json:"meAfterLogin"`
	NotesAfterPost       []string        `json:"notesAfterPost"`
	NotesAfterAttacks    []string        `json:"notesAfterAttacks"`
	MeAfterAttacks       int             `json:"meAfterAttacks"`
	NotesAfterXSRF       []string        `json:"notesAfterXSRF"`
	SessionCookie        string          `json:"sessionCookie"`
	LoginFormAfterLogout bool            `json:"loginFormAfterLogout"`
	MeAfterLogout        int             `json:"meAfterLogout"`
	XSRF                 struct {
		OK           int  `json:"ok"`
		OKRedirected bool `json:"okRedirected"`
		Bad          int  `json:"bad"`
	} `json:"xsrf"`
}

func runAppBrowser(t *testing.T, chromium, node string, cfg map[string]any) appBrowserResult {
	t.Helper()
	var out appBrowserResult
	runDriver(t, chromium, node, "app_browser.mjs", cfg, 90*time.Second, &out)
	return out
}

// attackerPage serves /attack: a page that, on load, forges a POST to the
// app — an auto-submitting form (kind=form), or a fetch with
// credentials:'include' (kind=fetch) — to /app/notes (action=notes, with
// text and an optional stolen token) or /session/login (action=login, as
// bob, a forged login).
func attackerPage(app string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/attack" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		fields := map[string]string{"text": q.Get("text")}
		path := "/app/notes"
		if q.Get("action") == "login" {
			path, fields = "/session/login", map[string]string{"username": "bob", "password": "builder-2026"}
		}
		if tok := q.Get("token"); tok != "" {
			fields["csrf_token"] = tok
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = attackerTmpl.Execute(w, map[string]any{"Target": app + path, "Fields": fields, "Fetch": q.Get("kind") == "fetch"})
	})
}

var attackerTmpl = template.Must(template.New("attack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>You won a prize</title></head><body>
{{- if .Fetch}}
<script>
fetch({{.Target}}, {method: "POST", credentials: "include", body: new URLSearchParams({{.Fields}})})
  .then((r) => { window.__done = "status " + r.status; }, (e) => { window.__done = "error " + e; });
</script>
{{- else}}
<form id="f" method="post" action="{{.Target}}">
{{- range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
</form>
<script>document.getElementById("f").submit();</script>
{{- end}}
</body></html>
`))

// appRecorder records, outside every guard, each request that reaches the
// app: its origin, Fetch Metadata, whether it carried the session cookie,
// and the status it got.
type appRecorder struct {
	mu   sync.Mutex
	seen []appSeen
}

type appSeen struct {
	origin, method, path, fetchSite string
	session                         bool
	status                          int
}

func (rec *appRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &browserStatusWriter{ResponseWriter: w}
		_, err := r.Cookie("session")
		next.ServeHTTP(sw, r)
		rec.mu.Lock()
		rec.seen = append(rec.seen, appSeen{origin: r.Header.Get("Origin"), method: r.Method, path: r.URL.Path,
			fetchSite: r.Header.Get("Sec-Fetch-Site"), session: err == nil, status: sw.status})
		rec.mu.Unlock()
	})
}

func (rec *appRecorder) find(origin, method, path string) []appSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []appSeen
	for _, s := range rec.seen {
		if s.origin == origin && s.method == method && s.path == path {
			out = append(out, s)
		}
	}
	return out
}

func portOf(hostport string) string { return hostport[strings.LastIndexByte(hostport, ':')+1:] }
