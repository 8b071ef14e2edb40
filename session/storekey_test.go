package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// recorder is a store that remembers every key it was asked about and
// every value written to it: what a reader of the store's memory, of
// Redis MONITOR or of its slowlog could see.
type recorder struct {
	store.KV
	sw   store.Swapper
	mu   sync.Mutex
	seen [][]byte
}

func newRecorder(t *testing.T) *recorder {
	ms := memstore.New(memstore.Options{SweepInterval: -1})
	t.Cleanup(func() { ms.Close() })
	return &recorder{KV: ms, sw: ms}
}

func (r *recorder) note(key string, vals ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, []byte(key))
	for _, v := range vals {
		r.seen = append(r.seen, bytes.Clone(v))
	}
}

func (r *recorder) Get(ctx context.Context, key string) ([]byte, bool, error) {
	r.note(key)
	return r.KV.Get(ctx, key)
}

func (r *recorder) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	r.note(key, v)
	return r.KV.Set(ctx, key, v, ttl)
}

func (r *recorder) SetNX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	r.note(key, v)
	return r.KV.SetNX(ctx, key, v, ttl)
}

func (r *recorder) Take(ctx context.Context, key string) ([]byte, bool, error) {
	r.note(key)
	return r.KV.Take(ctx, key)
}

func (r *recorder) Delete(ctx context.Context, key string) error {
	r.note(key)
	return r.KV.Delete(ctx, key)
}

func (r *recorder) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	r.note(key, next)
	return r.sw.CompareAndSwap(ctx, key, old, next, ttl)
}

// idForms returns the forms in which a cookie's session ID could leak:
// its text, and its 32 bytes.
func idForms(t *testing.T, cookie string) [][]byte {
	t.Helper()
	_, v, _ := strings.Cut(cookie, "=")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(v) != session.IDLen {
		t.Fatalf("cookie %q is not a session ID", cookie)
	}
	return [][]byte{[]byte(v), raw, raw[:16], []byte(v[:20])}
}

func leaks(seen [][]byte, forms [][]byte) bool {
	for _, s := range seen {
		for _, f := range forms {
			if bytes.Contains(s, f) {
				return true
			}
		}
	}
	return false
}

// exercise runs a session through what touches the store: an anonymous
// session, login (renewal), values, activity, a privilege change, the
// per-user list, logout, logout everywhere. It returns every cookie
// issued.
func exercise(t *testing.T, e *env) []string {
	t.Helper()
	var cookies []string
	anon := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "cart", "1 book")
	})
	c := sessionCookie(t, anon)
	cookies = append(cookies, c.Name+"="+c.Value)
	res := e.do(req{cookie: cookies[0], method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.Login(session.Identity{Subject: "alice", Roles: []string{"user"}})
		session.Set(s, "theme", "dark")
	})
	c = sessionCookie(t, res)
	cookies = append(cookies, c.Name+"="+c.Value)
	res = e.do(req{cookie: cookies[1], method: http.MethodPost}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		s.SetPrivileges([]string{"admin"}, nil)
	})
	c = sessionCookie(t, res)
	cookies = append(cookies, c.Name+"="+c.Value)
	if e.who(cookies[2]) != "alice" {
		t.Fatal("the renewed session does not authenticate")
	}
	other := e.login("alice", true)
	cookies = append(cookies, other)
	e.do(req{cookie: cookies[2]}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "visits", 2)
	})
	e.do(req{cookie: other}, func(w http.ResponseWriter, r *http.Request, s *session.Session) { s.Logout() })
	cookies = append(cookies, e.login("alice", false))
	if n, err := e.m.RevokeUser(bg, "alice"); err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v; want 2", n, err)
	}
	return cookies
}

// TestStoreNeverSeesID: every key the store is asked about and every value
// written to it is free of the session IDs the cookies carry.
func TestStoreNeverSeesID(t *testing.T) {
	rec := newRecorder(t)
	e := newEnv(t, session.Options{Store: rec, MaxSessionsPerUser: 5})
	cookies := exercise(t, e)
	var forms [][]byte
	for _, c := range cookies {
		forms = append(forms, idForms(t, c)...)
	}
	if len(rec.seen) < 20 {
		t.Fatalf("the recorder saw only %d keys and values", len(rec.seen))
	}
	if leaks(rec.seen, forms) {
		t.Fatal("a session ID reached the store")
	}
}

// TestRedisNeverSeesID: after a login, no key under the test's prefix in a
// real Redis, nor its value, holds the cookie's ID.
func TestRedisNeverSeesID(t *testing.T) {
	url, prefix := testredis.URL(t), testredis.Prefix(t)
	rs, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	e := newEnv(t, session.Options{Store: rs})
	cookie := e.login("alice", false, "admin")
	e.do(req{cookie: cookie}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		session.Set(s, "theme", "dark")
	})
	c := testredis.Client(t)
	ctx := context.Background()
	keys, err := c.Do(ctx, c.B().Keys().Pattern(prefix+session.DefaultKeyPrefix+"*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 { // the session and alice's list
		t.Fatalf("keys under the prefix: %q; want a session and a user list", keys)
	}
	var seen [][]byte
	for _, k := range keys {
		v, err := c.Do(ctx, c.B().Get().Key(k).Build()).AsBytes()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, []byte(k), v)
	}
	if leaks(seen, idForms(t, cookie)) {
		t.Fatal("Redis holds the session ID")
	}
	if e.who(cookie) != "alice" {
		t.Fatal("the session does not authenticate")
	}
}

// flaky is a store whose calls all go through, but for call number
// failAt (counting from 1), which fails as if the store were down.
type flaky struct {
	store.KV
	sw     store.Swapper
	mu     sync.Mutex
	calls  int
	failAt int
}

func (f *flaky) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failAt {
		return errDown
	}
	return nil
}

func (f *flaky) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := f.fail(); err != nil {
		return nil, false, err
	}
	return f.KV.Get(ctx, key)
}

func (f *flaky) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := f.fail(); err != nil {
		return nil, false, err
	}
	return f.KV.Take(ctx, key)
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.KV.Delete(ctx, key)
}

func (f *flaky) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	if err := f.fail(); err != nil {
		return false, err
	}
	return f.sw.CompareAndSwap(ctx, key, old, next, ttl)
}

// TestRevokeUserRetry: whichever store call of RevokeUser fails, calling it
// again ends every session that is left, and the two calls count each
// session once.
func TestRevokeUserRetry(t *testing.T) {
	const sessions = 3
	for failAt := 1; ; failAt++ {
		ms := memstore.New(memstore.Options{SweepInterval: -1})
		t.Cleanup(func() { ms.Close() })
		fl := &flaky{KV: ms, sw: ms}
		e := newEnv(t, session.Options{Store: fl})
		var cs []string
		for range sessions {
			cs = append(cs, e.login("alice", false))
		}
		other := e.login("bob", false)
		fl.mu.Lock()
		fl.calls, fl.failAt = 0, failAt
		fl.mu.Unlock()
		n1, err := e.m.RevokeUser(bg, "alice")
		if err == nil {
			if failAt == 1 {
				t.Fatal("no store call failed")
			}
			if n1 != sessions {
				t.Fatalf("RevokeUser = %d, want %d", n1, sessions)
			}
			break // every failure point has been tried
		}
		n2, err := e.m.RevokeUser(bg, "alice")
		if err != nil {
			t.Fatalf("failAt %d: the retry failed: %v", failAt, err)
		}
		if n1+n2 != sessions {
			t.Fatalf("failAt %d: ended %d then %d sessions, want %d in all", failAt, n1, n2, sessions)
		}
		for i, c := range cs {
			if got := e.who(c); got == "alice" {
				t.Fatalf("failAt %d: session %d survived the retry", failAt, i)
			}
		}
		if _, found, _ := ms.Get(bg, "session:u:alice"); found {
			t.Fatalf("failAt %d: alice's list outlived her sessions", failAt)
		}
		if e.who(other) != "bob" {
			t.Fatalf("failAt %d: another user's session ended", failAt)
		}
	}
}

// TestNestedManagers: a Manager's Handler inside another's shows its own
// session to the handlers it wraps, and the outer one's again after.
func TestNestedManagers(t *testing.T) {
	outer := newEnv(t, session.Options{})
	inner := newEnv(t, session.Options{CookieName: "inner"})
	var in, after *session.Session
	h := outer.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, _ := session.FromContext(r.Context())
		inner.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			in, _ = session.FromContext(r.Context())
			if in == o {
				t.Error("the inner Handler shows the outer session")
			}
		})).ServeHTTP(w, r)
		after, _ = session.FromContext(r.Context())
		if after != o {
			t.Error("the outer session is not restored after the inner Handler")
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if in == nil || after == nil {
		t.Fatal("no session")
	}
	if _, ok := session.FromContext(context.Background()); ok {
		t.Fatal("a session without Handler")
	}
}
