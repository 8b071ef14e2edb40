package migrate

import (
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"

	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// TestSCS proves docs/migrate/scs.md: the same visit, login, "who am I" and
// logout handlers on alexedwards/scs/v2 and on package session, over HTTPS.
func TestSCS(t *testing.T) {
	sm := scs.New()
	peerMux := http.NewServeMux()
	peerMux.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "visited", true) })
	peerMux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// As written without the guide: no RenewToken before the privilege change.
		sm.Put(r.Context(), "user", "alice")
	})
	peerMux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "user") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	peerMux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { _ = sm.Destroy(r.Context()) })
	peer := sm.LoadAndSave(peerMux)

	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	bwMux := http.NewServeMux()
	bwMux.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		session.Set(s, "visited", true)
	})
	bwMux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		if err := s.Login(session.Identity{Subject: "alice"}); err != nil {
			t.Error(err)
		}
	})
	bwMux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if s, _ := session.FromContext(r.Context()); !s.Authenticated() {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	bwMux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		s.Logout()
	})
	bw := m.Handler(bwMux)

	const site = "https://app.example.com"
	const pName, bName = "session", "__Host-session"
	with := func(method, path string, c *http.Cookie) *http.Request {
		r := req(method, site+path)
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		return r
	}

	pVisit := cookie(serve(peer, with("GET", "/visit", nil)), pName)
	bVisit := cookie(serve(bw, with("GET", "/visit", nil)), bName)
	if pVisit == nil || bVisit == nil {
		t.Fatalf("no session cookie: scs %v, bulwark %v", pVisit, bVisit)
	}

	t.Run("same: HttpOnly, SameSite=Lax, Path=/", func(t *testing.T) {
		for who, c := range map[string]*http.Cookie{"scs": pVisit, "bulwark": bVisit} {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("%s: cookie %v", who, c)
			}
		}
	})
	t.Run("differs: cookie defaults over HTTPS", func(t *testing.T) {
		if pVisit.Secure || pVisit.MaxAge <= 0 {
			t.Errorf("scs: cookie %v, want no Secure and a Max-Age (persistent)", pVisit)
		}
		if !bVisit.Secure || bVisit.MaxAge != 0 || bVisit.Name != "__Host-session" {
			t.Errorf("bulwark: cookie %v, want __Host-session, Secure, no Max-Age (browser session)", bVisit)
		}
	})

	t.Run("same: an unknown session ID is never adopted", func(t *testing.T) {
		planted := "attacker-chosen-id-0000000000000000000000000"
		p := cookie(serve(peer, with("GET", "/visit", &http.Cookie{Name: pName, Value: planted})), pName)
		b := cookie(serve(bw, with("GET", "/visit", &http.Cookie{Name: bName, Value: planted})), bName)
		if p == nil || p.Value == planted || b == nil || b.Value == planted {
			t.Errorf("planted ID kept: scs %v, bulwark %v", p, b)
		}
	})

	// Session fixation: the attacker obtains a valid anonymous session
	// (pVisit/bVisit) and plants it in the victim's browser; the victim logs in.
	pLogin := serve(peer, with("POST", "/login", pVisit))
	bLogin := serve(bw, with("POST", "/login", bVisit))
	t.Run("differs: login keeps the session ID unless RenewToken is called", func(t *testing.T) {
		if c := cookie(pLogin, pName); c == nil || c.Value != pVisit.Value {
			t.Errorf("scs: login cookie %v, want the pre-login ID %q", c, pVisit.Value)
		}
		if c := cookie(bLogin, bName); c == nil || c.Value == bVisit.Value {
			t.Errorf("bulwark: login cookie %v, want a new ID", c)
		}
		// The attacker's copy of the pre-login cookie:
		wantStatus(t, "scs, the planted ID after login", serve(peer, with("GET", "/me", pVisit)), 200)
		wantStatus(t, "bulwark, the planted ID after login", serve(bw, with("GET", "/me", bVisit)), 401)
	})
	t.Run("same: after RenewToken, the old ID is logged out", func(t *testing.T) {
		visit := cookie(serve(peer, with("GET", "/visit", nil)), pName)
		renew := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = sm.RenewToken(r.Context())
			sm.Put(r.Context(), "user", "alice")
		}))
		c := cookie(serve(renew, with("POST", "/login", visit)), pName)
		if c == nil || c.Value == visit.Value {
			t.Fatalf("scs: RenewToken cookie %v", c)
		}
		wantStatus(t, "scs, the old ID", serve(peer, with("GET", "/me", visit)), 401)
		wantStatus(t, "scs, the new ID", serve(peer, with("GET", "/me", c)), 200)
	})
	t.Run("same: logout ends the session on the server", func(t *testing.T) {
		pc, bc := cookie(pLogin, pName), cookie(bLogin, bName)
		serve(peer, with("POST", "/logout", pc))
		serve(bw, with("POST", "/logout", bc))
		wantStatus(t, "scs", serve(peer, with("GET", "/me", pc)), 401)
		wantStatus(t, "bulwark", serve(bw, with("GET", "/me", bc)), 401)
	})
}
