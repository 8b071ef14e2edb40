package session_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// env is a Manager on a memstore, with its audit events.
type env struct {
	t     *testing.T
	m     *session.Manager
	kv    store.KV
	audit *audit.Memory
}

func newEnv(t *testing.T, opts session.Options) *env {
	t.Helper()
	if opts.Store == nil && opts.CookieKeys == nil {
		ms := memstore.New(memstore.Options{SweepInterval: -1})
		t.Cleanup(func() { ms.Close() })
		opts.Store = ms
	}
	au := audit.NewMemory()
	opts.Audit = au
	m, err := session.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, m: m, kv: opts.Store, audit: au}
}

// req describes one request.
type req struct {
	cookie string // a Cookie header
	tls    bool
	method string
}

// do runs h behind the Manager's Handler and returns the response.
func (e *env) do(q req, h func(w http.ResponseWriter, r *http.Request, s *session.Session)) *http.Response {
	e.t.Helper()
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, "http://example.test/app", nil)
	if q.cookie != "" {
		r.Header.Set("Cookie", q.cookie)
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	rec := httptest.NewRecorder()
	e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := session.FromContext(r.Context())
		if !ok {
			e.t.Fatal("no session in the context")
		}
		if h != nil {
			h(w, r, s)
		}
	})).ServeHTTP(rec, r)
	return rec.Result()
}

// login logs subject in and returns the Cookie header to send back.
func (e *env) login(subject string, remember bool, roles ...string) string {
	e.t.Helper()
	res := e.do(req{}, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.Login(session.Identity{Subject: subject, Roles: roles, Scopes: []string{"read"}, Remember: remember}); err != nil {
			e.t.Fatal(err)
		}
	})
	c := sessionCookie(e.t, res)
	if c == nil {
		e.t.Fatal("login set no cookie")
	}
	return c.Name + "=" + c.Value
}

// sessionCookie returns the response's session cookie (nil when none).
func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name != "" {
			if found != nil {
				t.Fatalf("two session cookies: %v", res.Header["Set-Cookie"])
			}
			found = c
		}
	}
	return found
}

// who returns the subject a Cookie header authenticates, or the
// Authenticate error's reason.
func (e *env) who(cookie string) string {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://example.test/", nil)
	r.Header.Set("Cookie", cookie)
	p, err := e.m.Authenticate(r)
	if err != nil {
		return "error:" + reasonOf(err)
	}
	return p.Subject
}

func reasonOf(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	return err.Error()
}

func (e *env) reasons() []string {
	var rs []string
	for _, ev := range e.audit.Events() {
		rs = append(rs, ev.Reason)
	}
	return rs
}

var bg = context.Background()
