package session_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestEncryptedCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newEnv(t, session.Options{CookieKeys: [][]byte{key(1)}, IdleTimeout: 10 * time.Minute})
		cookie := old.login("alice", false, "admin")
		if got := old.who(cookie); got != "alice" {
			t.Fatalf("round trip: %q", got)
		}
		// Rotation: a new key first, the old one still opens.
		rotated := newEnv(t, session.Options{CookieKeys: [][]byte{key(2), key(1)}, IdleTimeout: 10 * time.Minute})
		if got := rotated.who(cookie); got != "alice" {
			t.Fatalf("after rotation: %q", got)
		}
		fresh := rotated.login("bob", false)
		if got := old.who(fresh); got != "error:session_invalid" {
			t.Fatalf("a cookie sealed with the new key opened with the old only: %q", got)
		}
		// The old key retired: its cookies are no session.
		retired := newEnv(t, session.Options{CookieKeys: [][]byte{key(2)}})
		if got := retired.who(cookie); got != "error:session_invalid" {
			t.Fatalf("retired key: %q", got)
		}
		// Tampering is detected.
		name, v, _ := strings.Cut(cookie, "=")
		b := []byte(v)
		b[len(b)/2] ^= 1
		if b[len(b)/2] == '=' || b[len(b)/2] > 'z' {
			b[len(b)/2] = 'A'
		}
		if got := old.who(name + "=" + string(b)); got != "error:session_invalid" {
			t.Fatalf("tampered cookie: %q", got)
		}
		// Timeouts hold without server state.
		time.Sleep(11 * time.Minute)
		if got := old.who(cookie); got != "error:session_expired" {
			t.Fatalf("idle cookie: %q", got)
		}
		// LogoutEverywhere is not possible.
		if _, err := old.m.RevokeUser(bg, "alice"); !errors.Is(err, session.ErrNotSupported) {
			t.Fatalf("RevokeUser in cookie mode: %v", err)
		}
	})
}

func TestEncryptedCookieTooLarge(t *testing.T) {
	e := newEnv(t, session.Options{CookieKeys: [][]byte{key(1)}})
	res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "small", "x")
		if err := s.Save(); err != nil {
			t.Errorf("small: %v", err)
		}
		session.Set(s, "big", strings.Repeat("x", 3000))
		if err := s.Save(); !errors.Is(err, session.ErrCookieTooLarge) {
			t.Errorf("big: %v, want ErrCookieTooLarge", err)
		}
		s.Delete("big")
	})
	for _, sc := range res.Header["Set-Cookie"] {
		if len(sc) > session.MaxCookieSize {
			t.Fatalf("a %d-byte Set-Cookie went out", len(sc))
		}
	}
}

func TestEncryptedCookieLogout(t *testing.T) {
	e := newEnv(t, session.Options{CookieKeys: [][]byte{key(1)}})
	cookie := e.login("alice", false)
	res := e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) { s.Logout() })
	if c := sessionCookie(t, res); c == nil || c.MaxAge != -1 {
		t.Fatalf("logout: %q", res.Header["Set-Cookie"])
	}
}

// TestConcurrentWritesRedis runs the concurrency test on a real Redis.
func TestConcurrentWritesRedis(t *testing.T) {
	url, prefix := testredis.URL(t), testredis.Prefix(t)
	rs, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close(); testredis.DeletePrefix(t, url, prefix) })
	e := newEnv(t, session.Options{Store: rs, MaxSessionsPerUser: 3})
	testConcurrentWrites(t, e)
	// Logout everywhere and the cap on Redis too.
	var cs []string
	for range 4 {
		cs = append(cs, e.login("carol", false))
	}
	if e.who(cs[0]) == "carol" || e.who(cs[3]) != "carol" {
		t.Fatal("the cap did not evict the oldest on Redis")
	}
	if n, err := e.m.RevokeUser(bg, "carol"); err != nil || n != 3 {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	if e.who(cs[3]) == "carol" {
		t.Fatal("a session survived RevokeUser")
	}
}

// Every byte of a cookie key counts: two keys that differ only after
// byte 32 are different keys, not one key twice.
func TestCookieKeyWholeKeyUsed(t *testing.T) {
	a := append(key(1), 'a')
	b := append(key(1), 'b')
	ea := newEnv(t, session.Options{CookieKeys: [][]byte{a}})
	eb := newEnv(t, session.Options{CookieKeys: [][]byte{b}})
	cookie := ea.login("alice", false)
	if got := ea.who(cookie); got != "alice" {
		t.Fatalf("round trip: %q", got)
	}
	if got := eb.who(cookie); got != "error:session_invalid" {
		t.Fatalf("a key differing after byte 32 opened the cookie: %q", got)
	}
}

// A cookie sealed for one Manager does not open in another that shares
// its keys but names, scopes or places its cookie otherwise: the GCM
// additional data binds the cookie name, Path and Domain.
func TestCookieBoundToManager(t *testing.T) {
	base := session.Options{CookieKeys: [][]byte{key(1)}}
	src := newEnv(t, base)
	cookie := src.login("alice", false, "admin")
	_, v, _ := strings.Cut(cookie, "=")
	for _, tc := range []struct {
		name   string
		opts   session.Options
		cookie string
	}{
		{"other name", session.Options{CookieKeys: base.CookieKeys, CookieName: "admin_session"}, "admin_session=" + v},
		{"other path", session.Options{CookieKeys: base.CookieKeys, Path: "/admin"}, "session=" + v},
		{"other domain", session.Options{CookieKeys: base.CookieKeys, Domain: "example.com"}, "session=" + v},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newEnv(t, tc.opts).who(tc.cookie); got != "error:session_invalid" {
				t.Fatalf("a cookie sealed for another Manager opened: %q", got)
			}
		})
	}
	if got := newEnv(t, base).who(cookie); got != "alice" {
		t.Fatalf("the same configuration (a replica): %q", got)
	}
}
