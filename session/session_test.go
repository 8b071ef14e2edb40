package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
)

func TestNewRefuses(t *testing.T) {
	kv := newEnv(t, session.Options{}).kv
	for _, tc := range []struct {
		name string
		opts session.Options
		want string
	}{
		{"no state", session.Options{}, "set Options.Store"},
		{"both", session.Options{Store: kv, CookieKeys: [][]byte{make([]byte, 32)}}, "not both"},
		{"weak key", session.Options{CookieKeys: [][]byte{make([]byte, 31)}}, "at least 32"},
		{"samesite none", session.Options{Store: kv, SameSite: "none"}, "SecureAlways"},
		{"samesite bad", session.Options{Store: kv, SameSite: "loose"}, "use \"lax\""},
		{"host prefix name", session.Options{Store: kv, CookieName: "__Host-s"}, "prefix"},
		{"bad name", session.Options{Store: kv, CookieName: "a b"}, "cookie token"},
		{"bad path", session.Options{Store: kv, Path: "app"}, "must start with /"},
		{"short idle", session.Options{Store: kv, IdleTimeout: time.Millisecond}, "too short"},
		{"negative cap", session.Options{Store: kv, MaxSessionsPerUser: -1}, "negative"},
		{"cap in cookie mode", session.Options{CookieKeys: [][]byte{make([]byte, 32)}, MaxSessionsPerUser: 2}, "server-side"},
		{"duplicate key", session.Options{CookieKeys: [][]byte{key(1), key(2), key(1)}}, "CookieKeys[2] repeats CookieKeys[0]"},
		{"domain tld", session.Options{Store: kv, Domain: "com"}, "public suffix"},
		{"domain dotted tld", session.Options{Store: kv, Domain: ".com"}, "public suffix"},
		{"domain co.uk", session.Options{Store: kv, Domain: "co.uk"}, "public suffix"},
		{"domain CO.UK.", session.Options{Store: kv, Domain: "CO.UK."}, "public suffix"},
		{"domain private suffix", session.Options{Store: kv, Domain: "github.io"}, "public suffix"},
		{"domain single label", session.Options{Store: kv, Domain: "localhost"}, "single label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := session.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v; want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := session.New(session.Options{Store: kv, SameSite: "none", SecureAlways: true}); err != nil {
		t.Fatalf("SameSite none with SecureAlways: %v", err)
	}
	for _, d := range []string{"example.com", ".example.co.uk", "me.github.io"} {
		if _, err := session.New(session.Options{Store: kv, Domain: d}); err != nil {
			t.Errorf("Domain %q: %v", d, err)
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	set := func(w http.ResponseWriter, r *http.Request, s *session.Session) { session.Set(s, "k", "v") }
	for _, tc := range []struct {
		name       string
		opts       session.Options
		tls        bool
		wantName   string
		wantSecure bool
		wantSS     http.SameSite
		wantPath   string
		wantDomain string
	}{
		{"http defaults", session.Options{}, false, "session", false, http.SameSiteLaxMode, "/", ""},
		{"https: __Host- and Secure", session.Options{}, true, "__Host-session", true, http.SameSiteLaxMode, "/", ""},
		{"secure always over http", session.Options{SecureAlways: true}, false, "__Host-session", true, http.SameSiteLaxMode, "/", ""},
		{"strict", session.Options{SameSite: "strict"}, true, "__Host-session", true, http.SameSiteStrictMode, "/", ""},
		{"none", session.Options{SameSite: "None", SecureAlways: true}, false, "__Host-session", true, http.SameSiteNoneMode, "/", ""},
		{"domain: no prefix", session.Options{Domain: "example.test"}, true, "session", true, http.SameSiteLaxMode, "/", "example.test"},
		{"path: no prefix", session.Options{Path: "/app"}, true, "session", true, http.SameSiteLaxMode, "/app", ""},
		{"prefix off", session.Options{NoHostPrefix: true, CookieName: "sid"}, true, "sid", true, http.SameSiteLaxMode, "/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			c := sessionCookieNamed(t, e.do(req{tls: tc.tls}, set), tc.wantName)
			if !c.HttpOnly || c.Secure != tc.wantSecure || c.SameSite != tc.wantSS || c.Path != tc.wantPath || c.Domain != tc.wantDomain {
				t.Fatalf("cookie %+v; want HttpOnly, Secure=%v, SameSite=%v, Path=%q, Domain=%q", c, tc.wantSecure, tc.wantSS, tc.wantPath, tc.wantDomain)
			}
			if c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Fatalf("an anonymous session's cookie is persistent: %+v", c)
			}
			if len(c.Value) != session.IDLen {
				t.Fatalf("ID %q is %d characters, want %d", c.Value, len(c.Value), session.IDLen)
			}
			// The cookie is read back under the same name only.
			cookie := c.Name + "=" + c.Value
			res := e.do(req{tls: tc.tls, cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
				if v, _ := session.Get[string](s, "k"); v != "v" || s.IsNew() {
					t.Errorf("session not loaded back: %q, new %v", v, s.IsNew())
				}
			})
			if sc := res.Header["Set-Cookie"]; sc != nil {
				t.Fatalf("an unchanged session sent %q", sc)
			}
		})
	}
}

func sessionCookieNamed(t *testing.T, res *http.Response, name string) *http.Cookie {
	t.Helper()
	c := sessionCookie(t, res)
	if c == nil || c.Name != name {
		t.Fatalf("Set-Cookie %q; want a cookie named %q", res.Header["Set-Cookie"], name)
	}
	return c
}

// TestSecureBehindTrustedProxy: clientip's verdict (X-Forwarded-Proto
// from a trusted proxy) makes the cookie Secure; from anyone else not.
func TestSecureBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, session.Options{})
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	h := id.Handler(e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		session.Set(s, "k", 1)
	})))
	for _, tc := range []struct {
		peer   string
		secure bool
	}{{"10.1.2.3:5000", true}, {"203.0.113.9:5000", false}} {
		r := httptest.NewRequest(http.MethodGet, "http://example.test/", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-For", "198.51.100.7")
		r.Header.Set("X-Forwarded-Proto", "https")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		c := sessionCookie(t, rec.Result())
		if c == nil || c.Secure != tc.secure || (c.Name == "__Host-session") != tc.secure {
			t.Fatalf("peer %s: cookie %+v, want Secure=%v", tc.peer, c, tc.secure)
		}
	}
}

func TestNoChangeNoCookie(t *testing.T) {
	e := newEnv(t, session.Options{})
	res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if !s.IsNew() || s.Authenticated() || s.Principal() != nil {
			t.Error("an anonymous request has a session")
		}
		w.Write([]byte("hello"))
	})
	if sc := res.Header["Set-Cookie"]; sc != nil {
		t.Fatalf("an untouched session sent %q", sc)
	}
}

// TestUnknownIDNotAdopted is the regression test of Fiber's
// CVE-2024-38513: a session ID the client makes up is never adopted, not
// even when the handler then writes to the session or logs the user in.
func TestUnknownIDNotAdopted(t *testing.T) {
	e := newEnv(t, session.Options{})
	planted := strings.Repeat("A", session.IDLen)
	for _, login := range []bool{false, true} {
		res := e.do(req{cookie: "session=" + planted}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			if !s.IsNew() {
				t.Error("a made-up ID loaded a session")
			}
			session.Set(s, "cart", "1 book")
			if login {
				s.Login(session.Identity{Subject: "alice"})
			}
		})
		c := sessionCookie(t, res)
		if c == nil || c.Value == planted {
			t.Fatalf("login=%v: the planted ID was adopted: %v", login, res.Header["Set-Cookie"])
		}
		if got := e.who("session=" + planted); got != "error:session_unknown" {
			t.Fatalf("the planted ID authenticates: %q", got)
		}
		if _, found, _ := e.kv.Get(bg, "session:s:"+planted); found {
			t.Fatal("the store holds the planted ID")
		}
	}
	// Malformed values never reach the store.
	for _, v := range []string{"x", strings.Repeat("A", session.IDLen-1) + "=", strings.Repeat("A", session.IDLen+1),
		strings.Repeat("A", session.IDLen-1) + "B", // the last character's two spare bits set: a second spelling
		strings.Repeat("A", session.IDLen-1) + "+"} {
		if got := e.who("session=" + v); got != "error:session_invalid" {
			t.Fatalf("cookie %q: %q, want session_invalid", v, got)
		}
	}
}

func TestLoginRenewsID(t *testing.T) {
	e := newEnv(t, session.Options{})
	var before string
	res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "theme", "dark")
		before = s.CSRFBinding()
	})
	anon := sessionCookie(t, res)
	if got := e.who("session=" + anon.Value); got != "error:authn: no credentials" {
		t.Fatalf("an anonymous session authenticates: %q", got)
	}
	res = e.do(req{cookie: "session=" + anon.Value, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if s.CSRFBinding() != before {
			t.Error("the binding changed without a renewal")
		}
		s.Login(session.Identity{Subject: "alice", Roles: []string{"admin"}})
		if s.CSRFBinding() == before {
			t.Error("the binding survived the login")
		}
	})
	authed := sessionCookie(t, res)
	if authed.Value == anon.Value {
		t.Fatal("login kept the session ID")
	}
	if got := e.who("session=" + anon.Value); got != "error:session_unknown" {
		t.Fatalf("the pre-login ID still works: %q", got)
	}
	e.do(req{cookie: "session=" + authed.Value}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if v, _ := session.Get[string](s, "theme"); v != "dark" {
			t.Error("login lost the session's data")
		}
		if !s.Authenticated() || s.Subject() != "alice" || !slices.Equal(s.Roles(), []string{"admin"}) {
			t.Errorf("logged-in session: %q %q", s.Subject(), s.Roles())
		}
	})
	if !slices.Contains(e.reasons(), "session_created") {
		t.Fatalf("audit %q: no session_created", e.reasons())
	}
}

func TestPrivilegeChangeRenews(t *testing.T) {
	e := newEnv(t, session.Options{})
	cookie := e.login("bob", false, "user")
	res := e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.SetPrivileges([]string{"admin"}, nil)
	})
	c := sessionCookie(t, res)
	if c == nil || "session="+c.Value == cookie {
		t.Fatal("a privilege change kept the ID")
	}
	if got := e.who(cookie); got != "error:session_unknown" {
		t.Fatalf("the old ID: %q", got)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "session="+c.Value)
	p, err := e.m.Authenticate(r)
	if err != nil || !p.HasRole("admin") || p.HasRole("user") {
		t.Fatalf("after the change: %+v, %v", p, err)
	}
	if !slices.Contains(e.reasons(), "session_renewed") {
		t.Fatalf("audit %q: no session_renewed", e.reasons())
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, session.Options{})
	cookie := e.login("alice", true)
	res := e.do(req{cookie: cookie, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.Logout()
		if s.Authenticated() {
			t.Error("still logged in after Logout")
		}
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
	c := sessionCookie(t, res)
	if c == nil || c.MaxAge != -1 || c.Value != "" {
		t.Fatalf("logout did not remove the cookie: %q", res.Header["Set-Cookie"])
	}
	// The old cookie, replayed, is refused: the session is gone server-side.
	if got := e.who(cookie); got != "error:session_unknown" {
		t.Fatalf("replayed cookie after logout: %q", got)
	}
	if !slices.Contains(e.reasons(), "session_destroyed") {
		t.Fatalf("audit %q: no session_destroyed", e.reasons())
	}
	// A CSRF token asked for after logout starts a new anonymous session.
	res = e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.CSRFBinding()
	})
	if c := sessionCookie(t, res); c == nil || "session="+c.Value == cookie || c.MaxAge != 0 {
		t.Fatalf("the pre-session after logout: %q", res.Header["Set-Cookie"])
	}
}

// TestStaleCookieRemoved: a cookie naming no session is no session for
// Handler (no error), and is removed.
func TestStaleCookieRemoved(t *testing.T) {
	e := newEnv(t, session.Options{})
	res := e.do(req{cookie: "session=" + strings.Repeat("B", session.IDLen)}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if !s.IsNew() || s.Err() != nil {
			t.Error("a stale cookie is not simply no session")
		}
	})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if c := sessionCookie(t, res); c == nil || c.MaxAge != -1 {
		t.Fatalf("stale cookie kept: %q", res.Header["Set-Cookie"])
	}
}

func TestPersistentCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{})
		res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			s.Login(session.Identity{Subject: "alice", Remember: true})
		})
		if c := sessionCookie(t, res); c.MaxAge != int(session.DefaultRememberFor/time.Second) {
			t.Fatalf("remember me: Max-Age %d, want %d", c.MaxAge, int(session.DefaultRememberFor/time.Second))
		}
		res = e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			s.Login(session.Identity{Subject: "alice"})
		})
		if c := sessionCookie(t, res); c.MaxAge != 0 || !c.Expires.IsZero() {
			t.Fatalf("browser session: %+v", c)
		}
	})
}

func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
		cookie := e.login("alice", false)
		// Activity keeps it alive past the idle timeout…
		for range 5 {
			time.Sleep(9 * time.Minute)
			if got := e.who(cookie); got != "alice" {
				t.Fatalf("active session refused: %q", got)
			}
			e.do(req{cookie: cookie}, nil) // a request through Handler records activity
		}
		// …and idleness ends it.
		time.Sleep(10 * time.Minute)
		if got := e.who(cookie); got != "error:session_expired" && got != "error:session_unknown" {
			t.Fatalf("idle session: %q", got)
		}
	})
}

func TestIdleTimeoutExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: 10 * time.Minute})
		cookie := e.login("alice", false)
		time.Sleep(10*time.Minute - time.Second)
		if got := e.who(cookie); got != "alice" {
			t.Fatalf("just before the idle timeout: %q", got)
		}
		time.Sleep(time.Second)
		if got := e.who(cookie); got != "error:session_expired" && got != "error:session_unknown" {
			t.Fatalf("at the idle timeout: %q", got)
		}
	})
}

func TestAbsoluteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
		cookie := e.login("alice", false)
		for range 11 { // 55 minutes of activity
			time.Sleep(5 * time.Minute)
			e.do(req{cookie: cookie}, nil)
			if got := e.who(cookie); got != "alice" {
				t.Fatalf("active session refused: %q", got)
			}
		}
		time.Sleep(5 * time.Minute)
		e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			if !s.IsNew() {
				t.Error("a session past its absolute timeout loaded")
			}
		})
		if got := e.who(cookie); !strings.HasPrefix(got, "error:session_") {
			t.Fatalf("past the absolute timeout: %q", got)
		}
		if !slices.Contains(e.reasons(), "session_expired") {
			t.Fatalf("audit %q: no session_expired", e.reasons())
		}
	})
}

func TestRememberTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: time.Minute, RememberIdleTimeout: 2 * time.Hour, RememberFor: 5 * time.Hour})
		long := e.login("alice", true)
		short := e.login("alice", false)
		time.Sleep(90 * time.Minute)
		if got := e.who(short); got == "alice" {
			t.Fatal("the browser session outlived its idle timeout")
		}
		if got := e.who(long); got != "alice" {
			t.Fatalf("remember me ended early: %q", got)
		}
		for range 3 {
			e.do(req{cookie: long}, nil)
			time.Sleep(90 * time.Minute)
		}
		if got := e.who(long); got == "alice" {
			t.Fatal("remember me outlived RememberFor")
		}
	})
}

func TestLogoutEverywhere(t *testing.T) {
	e := newEnv(t, session.Options{})
	a1, a2, a3 := e.login("alice", false), e.login("alice", true), e.login("alice", false)
	b := e.login("bob", false)
	var n int
	e.do(req{cookie: a1, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		var err error
		if n, err = s.LogoutEverywhere(); err != nil {
			t.Fatal(err)
		}
	})
	if n != 3 {
		t.Fatalf("ended %d sessions, want 3", n)
	}
	for _, c := range []string{a1, a2, a3} {
		if got := e.who(c); got != "error:session_unknown" {
			t.Fatalf("alice's session survived: %q", got)
		}
	}
	if got := e.who(b); got != "bob" {
		t.Fatalf("bob's session: %q", got)
	}
	if n, err := e.m.RevokeUser(bg, "bob"); n != 1 || err != nil || e.who(b) == "bob" {
		t.Fatalf("RevokeUser(bob) = %d, %v", n, err)
	}
	if !slices.Contains(e.reasons(), "sessions_revoked_all") {
		t.Fatalf("audit %q", e.reasons())
	}
}

func TestMaxSessionsPerUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{MaxSessionsPerUser: 2})
		var cs []string
		for range 4 {
			cs = append(cs, e.login("alice", false))
			time.Sleep(time.Second)
		}
		other := e.login("bob", false)
		want := []string{"error:session_unknown", "error:session_unknown", "alice", "alice"}
		for i, c := range cs {
			if got := e.who(c); got != want[i] {
				t.Fatalf("login %d: %q, want %q (the oldest are evicted)", i, got, want[i])
			}
		}
		if e.who(other) != "bob" {
			t.Fatal("another user's session was evicted")
		}
		// A session that ended on its own frees its place without evicting.
		e.do(req{cookie: cs[3]}, func(w http.ResponseWriter, r *http.Request, s *session.Session) { s.Logout() })
		c5 := e.login("alice", false)
		if e.who(cs[2]) != "alice" || e.who(c5) != "alice" {
			t.Fatal("a login under the cap evicted a live session")
		}
		if !slices.Contains(e.reasons(), "session_evicted") {
			t.Fatalf("audit %q: no session_evicted", e.reasons())
		}
	})
}

// TestSavedBeforeHeaders: a handler that writes its body before it
// returns loses nothing.
func TestSavedBeforeHeaders(t *testing.T) {
	e := newEnv(t, session.Options{})
	for _, write := range []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.Write([]byte("body first")) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) },
		func(w http.ResponseWriter) { http.NewResponseController(w).Flush() },
	} {
		res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			s.Login(session.Identity{Subject: "alice"})
			write(w)
		})
		c := sessionCookie(t, res)
		if c == nil {
			t.Fatal("the cookie missed the response")
		}
		if e.who("session="+c.Value) != "alice" {
			t.Fatal("the session was not stored")
		}
	}
	// A change after the body, on a stored session, reaches the store.
	cookie := e.login("bob", false)
	e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		w.Write([]byte("first"))
		session.Set(s, "late", true)
	})
	e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if v, ok := session.Get[bool](s, "late"); !v || !ok {
			t.Error("a change after the body was lost")
		}
	})
}

// TestConcurrentWritesMemory: two requests of one session change it at
// once; one wins, the other gets ErrConflict, and no update is silently
// lost.
func TestConcurrentWritesMemory(t *testing.T) {
	testConcurrentWrites(t, newEnv(t, session.Options{}))
}

func testConcurrentWrites(t *testing.T, e *env) {
	cookie := e.login("alice", false)
	load := func() *session.Session {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Cookie", cookie)
		return e.m.Load(r)
	}
	// Two loads, then two writes of different keys: the second conflicts.
	a, b := load(), load()
	session.Set(a, "a", 1)
	session.Set(b, "b", 2)
	if err := a.Save(httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(httptest.NewRecorder()); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second concurrent write: %v, want ErrConflict", err)
	}
	c := load()
	if _, ok := session.Get[int](c, "a"); !ok {
		t.Fatal("the first write was lost")
	}
	if _, ok := session.Get[int](c, "b"); ok {
		t.Fatal("the conflicting write was stored")
	}
	// Retried on a fresh load, it succeeds: no update lost.
	session.Set(c, "b", 2)
	if err := c.Save(httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	d := load()
	if x, _ := session.Get[int](d, "a"); x != 1 {
		t.Fatal("a lost")
	}
	if x, _ := session.Get[int](d, "b"); x != 2 {
		t.Fatal("b lost")
	}
	// Truly concurrent writers through Handler: each gets 2xx or 409,
	// every 2xx write is in the store.
	const n = 8
	codes := make(chan int, 2*n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := session.FromContext(r.Context())
				session.Set(s, "w"+string(rune('0'+i)), i)
				w.WriteHeader(http.StatusNoContent)
			})).ServeHTTP(rec, r)
			codes <- rec.Code
			if rec.Code == http.StatusNoContent {
				codes <- 1000 + i
			}
		}()
	}
	for range n {
		<-done
	}
	close(codes)
	final := load()
	won := 0
	for c := range codes {
		switch {
		case c >= 1000:
			if _, ok := session.Get[int](final, "w"+string(rune('0'+c-1000))); !ok {
				t.Fatalf("writer %d got 204 but its write is lost", c-1000)
			}
		case c == http.StatusNoContent:
			won++
		case c != http.StatusConflict:
			t.Fatalf("status %d", c)
		}
	}
	if won == 0 {
		t.Fatal("no concurrent writer won")
	}
	// A logout racing a write: the write never revives the session.
	x := load()
	session.Set(x, "after", "logout")
	e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) { s.Logout() })
	if err := x.Save(httptest.NewRecorder()); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("a write after logout: %v, want ErrConflict", err)
	}
	if got := e.who(cookie); got != "error:session_unknown" {
		t.Fatalf("the session came back: %q", got)
	}
}

// TestReadersDoNotConflict: requests that only read never conflict, even
// when they record activity at once.
func TestReadersDoNotConflict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{})
		cookie := e.login("alice", false)
		time.Sleep(5 * time.Minute) // activity is due
		for range 4 {
			if res := e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
				_ = s.Subject()
			}); res.StatusCode != http.StatusOK {
				t.Fatalf("reader got %d", res.StatusCode)
			}
		}
	})
}

func TestConflictAnswer(t *testing.T) {
	e := newEnv(t, session.Options{})
	cookie := e.login("alice", false)
	res := e.do(req{cookie: cookie, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "mine", 1)
		// Another request writes meanwhile.
		e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) { session.Set(s, "theirs", 2) })
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("secret page the conflict must not leak half of"))
	})
	body := make([]byte, 512)
	n, _ := res.Body.Read(body)
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(body[:n]), "session-conflict") {
		t.Fatalf("got %d %q, want a 409 problem", res.StatusCode, body[:n])
	}
}

func TestAuthenticator(t *testing.T) {
	e := newEnv(t, session.Options{})
	cookie := e.login("alice", false, "admin")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookie)
	p, err := e.m.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "alice" || p.Method != "session" || p.Source != authn.SourceCookie || !p.HasRole("admin") || !p.HasScope("read") || p.ID != "session:alice" || p.ExpiresAt.IsZero() {
		t.Fatalf("principal %+v", p)
	}
	// No cookie: no credentials.
	if _, err := e.m.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, authn.ErrNoCredentials) {
		t.Fatalf("no cookie: %v", err)
	}
	// Behind an authn guard: 401 with a challenge; the principal recorded.
	g, err := authn.New(authn.Options{Authenticator: authn.AnyOf(e.m), Realm: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	h := e.m.Handler(g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		w.Write([]byte(p.Subject))
	})))
	for _, tc := range []struct {
		cookie string
		code   int
	}{{cookie, 200}, {"", 401}, {"session=" + strings.Repeat("C", session.IDLen), 401}, {"session=junk", 401}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.cookie != "" {
			r.Header.Set("Cookie", tc.cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tc.code {
			t.Fatalf("cookie %q: %d, want %d", tc.cookie, rec.Code, tc.code)
		}
		if tc.code == 401 && rec.Header().Get("WWW-Authenticate") != `Cookie realm="demo"` {
			t.Fatalf("challenge %q", rec.Header().Get("WWW-Authenticate"))
		}
	}
}

// failing is a store that cannot answer.
type failing struct{}

var errDown = &store.UnavailableError{Op: "test", Err: errors.New("down")}

func (failing) Get(context.Context, string) ([]byte, bool, error)        { return nil, false, errDown }
func (failing) Set(context.Context, string, []byte, time.Duration) error { return errDown }
func (failing) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errDown
}
func (failing) Take(context.Context, string) ([]byte, bool, error) { return nil, false, errDown }
func (failing) Delete(context.Context, string) error               { return errDown }
func (failing) Consume(context.Context, string, string, []byte, time.Duration) ([]byte, []byte, store.Use, error) {
	return nil, nil, store.NotFound, errDown
}

func asProblemStatus(err error) (int, bool) {
	p, ok := problem.As(err)
	if !ok {
		return 0, false
	}
	return p.Status, true
}

func TestStoreDown(t *testing.T) {
	e := newEnv(t, session.Options{Store: failing{}})
	cookie := "session=" + strings.Repeat("D", session.IDLen-1) + "A" // a well-formed ID
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookie)
	_, err := e.m.Authenticate(r)
	if reasonOf(err) != "session_unavailable" {
		t.Fatalf("store down: %v", err)
	}
	if p, _ := asProblemStatus(err); p != http.StatusServiceUnavailable {
		t.Fatalf("status %d", p)
	}
	// Handler: the request goes on anonymously; a write is refused with 503.
	res := e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if !s.IsNew() || s.Err() == nil {
			t.Error("store down: the session is not new with an error")
		}
	})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a reader got %d with the store down", res.StatusCode)
	}
	res = e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.Login(session.Identity{Subject: "alice"})
	})
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a login got %d with the store down", res.StatusCode)
	}
}

// A login keeps an anonymous session's data (a cart filled before login)
// and the same user's, but clears it when another subject logs in on the
// session: user B never sees what user A stored.
func TestLoginAsOtherUserClearsData(t *testing.T) {
	e := newEnv(t, session.Options{})
	res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "cart", "anon-cart")
	})
	c := sessionCookie(t, res)
	res = e.do(req{cookie: "session=" + c.Value, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.Login(session.Identity{Subject: "alice"})
		session.Set(s, "secret", "alice-only")
	})
	c = sessionCookie(t, res)
	res = e.do(req{cookie: "session=" + c.Value, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if v, _ := session.Get[string](s, "cart"); v != "anon-cart" {
			t.Error("alice's login lost the anonymous cart")
		}
		s.Login(session.Identity{Subject: "alice"}) // again: same user, data kept
	})
	c = sessionCookie(t, res)
	res = e.do(req{cookie: "session=" + c.Value, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if v, _ := session.Get[string](s, "secret"); v != "alice-only" {
			t.Error("alice's second login lost her data")
		}
		s.Login(session.Identity{Subject: "bob"})
		if _, ok := session.Get[string](s, "secret"); ok {
			t.Error("bob sees alice's data right after login")
		}
	})
	c = sessionCookie(t, res)
	e.do(req{cookie: "session=" + c.Value}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if s.Subject() != "bob" {
			t.Fatalf("subject %q", s.Subject())
		}
		for _, k := range []string{"secret", "cart"} {
			if _, ok := session.Get[string](s, k); ok {
				t.Errorf("bob's session holds alice's %q", k)
			}
		}
	})
}

// A refused request (an error status) records no activity: the idle
// deadline stays where it was, so a stream of refused requests cannot
// keep a session alive. A successful one still moves it, and an explicit
// change is saved whatever the status.
func TestRefusedRequestDoesNotTouch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
		cookie := e.login("alice", false)
		time.Sleep(5 * time.Minute)
		for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized, http.StatusTooManyRequests} {
			e.do(req{cookie: cookie, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
				problem.Write(w, r, problem.New(status, problem.TypeForbidden, "refused"))
			})
		}
		time.Sleep(6 * time.Minute) // 11 minutes after login: the refused requests kept nothing alive
		if got := e.who(cookie); got != "error:session_expired" && got != "error:session_unknown" {
			t.Fatalf("refused requests extended the idle deadline: %q", got)
		}

		cookie = e.login("bob", false)
		time.Sleep(5 * time.Minute)
		e.do(req{cookie: cookie, method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			session.Set(s, "k", "v") // an explicit change: saved even on a 422
			w.WriteHeader(http.StatusUnprocessableEntity)
		})
		e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			if v, _ := session.Get[string](s, "k"); v != "v" {
				t.Error("an explicit change was not saved with an error response")
			}
		})
		time.Sleep(6 * time.Minute)
		if got := e.who(cookie); got != "bob" {
			t.Fatalf("a saved change did not record activity: %q", got)
		}
	})
}
