package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/session"
)

// FuzzStoreCookie: whatever the Cookie header holds, loading a session
// never panics, never errs, and only a stored ID loads one.
func FuzzStoreCookie(f *testing.F) {
	e := newEnv(&testing.T{}, session.Options{})
	good := e.login("alice", false)
	for _, s := range []string{good, "session=", "session=\"" + strings.Repeat("A", 43) + "\"", "a=b; session=" + strings.Repeat("_", 43), "session=%00", good + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{cookie}
		s := e.m.Load(r)
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		if !s.IsNew() && !strings.Contains(cookie, strings.TrimPrefix(good, "session=")) {
			t.Fatalf("cookie %q loaded a session", cookie)
		}
	})
}

// FuzzEncryptedCookie: an encrypted-cookie value that was not sealed by
// the Manager is never a session, and decoding never panics.
func FuzzEncryptedCookie(f *testing.F) {
	e := newEnv(&testing.T{}, session.Options{CookieKeys: [][]byte{key(7)}})
	good := e.login("alice", false)
	_, v, _ := strings.Cut(good, "=")
	f.Add(v)
	f.Add(v[:len(v)-1])
	f.Add("")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{"session=" + value}
		s := e.m.Load(r)
		if !s.IsNew() && value != v {
			t.Fatalf("value %q loaded a session", value)
		}
	})
}
