package bench

// Session benchmarks: loading a logged-in session (a subject, two roles,
// two values) from the in-process store, decoding included, and the whole
// middleware round trip for a request that reads the session and changes
// nothing — Bulwark's session.Manager over memstore against
// alexedwards/scs's LoadAndSave over its memstore, doing the same work:
//
//	cd bench && go test -run '^$' -bench 'Session' -benchmem

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"

	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// discardWriter is a ResponseWriter that keeps nothing, reused across
// iterations.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// bulwarkSession returns a Manager and the Cookie header of a logged-in
// session holding two values.
func bulwarkSession(b *testing.B) (*session.Manager, string) {
	mem := memstore.New(memstore.Options{})
	b.Cleanup(func() { mem.Close() })
	m, err := session.New(session.Options{Store: mem})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	w := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		s.Login(session.Identity{Subject: "alice", Roles: []string{"admin", "user"}})
		session.Set(s, "theme", "dark")
		session.Set(s, "visits", 12)
	})).ServeHTTP(w, r)
	c := w.Result().Cookies()[0]
	return m, c.Name + "=" + c.Value
}

// scsSession returns a SessionManager and the Cookie header of a session
// holding the same data.
func scsSession(b *testing.B) (*scs.SessionManager, string) {
	sm := scs.New()
	sm.Store = scsmem.NewWithCleanupInterval(time.Hour)
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = 30 * time.Minute
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	w := httptest.NewRecorder()
	sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := sm.RenewToken(ctx); err != nil {
			b.Fatal(err)
		}
		sm.Put(ctx, "subject", "alice")
		sm.Put(ctx, "roles", "admin,user")
		sm.Put(ctx, "theme", "dark")
		sm.Put(ctx, "visits", 12)
	})).ServeHTTP(w, r)
	c := w.Result().Cookies()[0]
	return sm, c.Name + "=" + c.Value
}

var sinkString string

// BenchmarkSessionLoad: the cookie read, the store read and the decoding
// of a session, and a value read from it.
func BenchmarkSessionLoad(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) {
		m, cookie := bulwarkSession(b)
		r := httptest.NewRequest(http.MethodGet, "/app", nil)
		r.Header.Set("Cookie", cookie)
		b.ReportAllocs()
		for b.Loop() {
			s := m.Load(r)
			theme, _ := session.Get[string](s, "theme")
			if s.Subject() != "alice" || theme != "dark" {
				b.Fatal("no session")
			}
		}
	})
	b.Run("scs", func(b *testing.B) {
		// scs's Load: the store read and the gob decoding, no middleware.
		sm, cookie := scsSession(b)
		_, token, _ := cutCookie(cookie)
		b.ReportAllocs()
		for b.Loop() {
			ctx, err := sm.Load(context.Background(), token)
			if err != nil || sm.GetString(ctx, "subject") != "alice" || sm.GetString(ctx, "theme") != "dark" {
				b.Fatal("no session", err)
			}
		}
	})
}

// BenchmarkSessionMiddleware: a request through the session middleware
// whose handler reads the user and a value and changes nothing.
func BenchmarkSessionMiddleware(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) {
		m, cookie := bulwarkSession(b)
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := session.FromContext(r.Context())
			theme, _ := session.Get[string](s, "theme")
			sinkString = s.Subject() + theme
			w.WriteHeader(http.StatusNoContent)
		}))
		benchHandler(b, h, cookie)
	})
	b.Run("scs", func(b *testing.B) {
		sm, cookie := scsSession(b)
		h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			sinkString = sm.GetString(ctx, "subject") + sm.GetString(ctx, "theme")
			w.WriteHeader(http.StatusNoContent)
		}))
		benchHandler(b, h, cookie)
	})
}

func benchHandler(b *testing.B, h http.Handler, cookie string) {
	r := httptest.NewRequest(http.MethodGet, "/app", nil)
	r.Header.Set("Cookie", cookie)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if sinkString != "alicedark" {
		b.Fatalf("handler read %q", sinkString)
	}
}

func cutCookie(c string) (name, value string, ok bool) {
	for i := 0; i < len(c); i++ {
		if c[i] == '=' {
			return c[:i], c[i+1:], true
		}
	}
	return "", "", false
}
