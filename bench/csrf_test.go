package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gorilla "github.com/gorilla/csrf"
	"github.com/justinas/nosurf"

	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/internal/testhttp"
)

// The CSRF peers, each protecting the same handler over HTTPS for
// https://example.com, and each asked for a token on GET. Only bulwark,
// gorilla/csrf and nosurf check tokens; http.CrossOriginProtection is the
// origin check alone (compare it with bulwark-origin-only).
type csrfPeer struct {
	name  string
	h     http.Handler
	token func(r *http.Request) string
}

var csrfOrder = []string{"bulwark", "bulwark-origin-only", "gorilla-csrf", "nosurf", "http.CrossOriginProtection"}

func csrfPeers(b testing.TB) map[string]csrfPeer {
	key := bytes.Repeat([]byte{7}, 32)
	ok := func(token func(*http.Request) string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "GET" && r.URL.Query().Has("token") {
				w.Header().Set("X-Test-Token", token(r))
			}
			w.WriteHeader(http.StatusOK)
		})
	}
	g, err := csrf.New(csrf.Options{Keys: [][]byte{key}})
	if err != nil {
		b.Fatal(err)
	}
	oo, err := csrf.New(csrf.Options{OriginOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	none := func(*http.Request) string { return "" }
	return map[string]csrfPeer{
		"bulwark":             {"bulwark", g.Handler(ok(csrf.Token)), csrf.Token},
		"bulwark-origin-only": {"bulwark-origin-only", oo.Handler(ok(none)), none},
		"gorilla-csrf":        {"gorilla-csrf", gorilla.Protect(key, gorilla.Path("/"))(ok(gorilla.Token)), gorilla.Token},
		"nosurf": {"nosurf", func() http.Handler {
			n := nosurf.New(ok(nosurf.Token))
			n.SetBaseCookie(http.Cookie{Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
			return n
		}(), nosurf.Token},
		"http.CrossOriginProtection": {"http.CrossOriginProtection", http.NewCrossOriginProtection().Handler(ok(none)), none},
	}
}

func tlsRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil) // https target: r.TLS is set
	return r
}

// csrfPost returns, for peer p, an unsafe same-origin request carrying a
// valid token and its cookie, as a browser would send it after GET.
func csrfPost(b testing.TB, p csrfPeer) *http.Request {
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, tlsRequest("GET", "https://example.com/form?token"))
	tok := w.Header().Get("X-Test-Token")
	r := tlsRequest("POST", "https://example.com/form")
	var cookies []string
	for _, c := range w.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) == 0 {
		cookies = []string{"session=1"} // the origin-only peers issue none
	}
	r.Header.Set("Cookie", strings.Join(cookies, "; "))
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Referer", "https://example.com/form")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if tok != "" {
		r.Header.Set("X-CSRF-Token", tok)
	}
	return r
}

// TestCSRFPeersAgree checks the compared configurations protect alike:
// each admits its own valid request and refuses a cross-site one.
func TestCSRFPeersAgree(t *testing.T) {
	for name, p := range csrfPeers(t) {
		r := csrfPost(t, p)
		w := httptest.NewRecorder()
		p.h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("%s: valid POST answered %d %s", name, w.Code, w.Body)
		}
		x := r.Clone(r.Context())
		x.Header.Set("Origin", "https://evil.example")
		x.Header.Set("Referer", "https://evil.example/")
		x.Header.Set("Sec-Fetch-Site", "cross-site")
		w = httptest.NewRecorder()
		p.h.ServeHTTP(w, x)
		if w.Code != 403 && !(name == "nosurf" && w.Code == 400) { // nosurf refuses with 400
			t.Errorf("%s: cross-site POST answered %d", name, w.Code)
		}
	}
}

// BenchmarkCSRF_Safe: a GET carrying cookies, the whole middleware.
func BenchmarkCSRF_Safe(b *testing.B) {
	peers := csrfPeers(b)
	r := tlsRequest("GET", "https://example.com/page")
	r.Header.Set("Cookie", "session=1")
	for _, name := range csrfOrder {
		b.Run(name, func(b *testing.B) {
			serveLoop(b, peers[name].h, r, &testhttp.NopWriter{H: make(http.Header, 8)}, clearMap, func(w *testhttp.NopWriter) {
				if w.Code != 200 {
					b.Fatalf("%s: %d", name, w.Code)
				}
			})
		})
	}
}

// BenchmarkCSRF_Decision: bulwark's decision alone (Check), safe and
// unsafe with a valid token; the figures the targets name.
func BenchmarkCSRF_Decision(b *testing.B) {
	key := bytes.Repeat([]byte{7}, 32)
	g, err := csrf.New(csrf.Options{Keys: [][]byte{key}})
	if err != nil {
		b.Fatal(err)
	}
	safe := tlsRequest("GET", "https://example.com/page")
	safe.Header.Set("Cookie", "session=1")
	post := csrfPost(b, csrfPeer{"bulwark", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("token") {
			w.Header().Set("X-Test-Token", csrf.Token(r))
		}
	})), csrf.Token})
	for _, c := range []struct {
		name string
		r    *http.Request
	}{{"safe", safe}, {"unsafe-valid-token", post}} {
		b.Run(c.name, func(b *testing.B) {
			if _, p := g.Check(c.r); p != nil {
				b.Fatal(p.Reason)
			}
			b.ReportAllocs()
			for b.Loop() {
				g.Check(c.r)
			}
		})
	}
}

// BenchmarkCSRF_UnsafeValidToken: a same-origin POST with a valid token
// in X-CSRF-Token and its cookie, the whole middleware.
func BenchmarkCSRF_UnsafeValidToken(b *testing.B) {
	peers := csrfPeers(b)
	for _, name := range csrfOrder {
		r := csrfPost(b, peers[name])
		b.Run(name, func(b *testing.B) {
			serveLoop(b, peers[name].h, r, &testhttp.NopWriter{H: make(http.Header, 8)}, clearMap, func(w *testhttp.NopWriter) {
				if w.Code != 200 {
					b.Fatalf("%s: %d", name, w.Code)
				}
			})
		})
	}
}
