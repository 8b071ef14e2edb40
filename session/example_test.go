package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// A form login, a page for logged-in users, and logout. Authentication
// goes through an authn guard, as for tokens.
func Example() {
	mem := memstore.New(memstore.Options{})
	defer mem.Close()
	sessions, err := session.New(session.Options{Store: mem})
	if err != nil {
		panic(err)
	}
	guard, err := authn.New(authn.Options{Authenticator: sessions, Realm: "app"})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		// …verify r.FormValue("username") and "password" here…
		s.Login(session.Identity{Subject: "alice", Roles: []string{"admin"}, Remember: r.FormValue("remember") == "on"})
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
	mux.Handle("GET /session/me", guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "%s (%s, roles %v)", p.Subject, p.Method, p.Roles)
	})))
	mux.HandleFunc("POST /session/logout", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		s.Logout()
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
	h := sessions.Handler(mux)

	do := func(method, path, cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	login := do("POST", "/session/login", "")
	c := login.Result().Cookies()[0]
	fmt.Println(login.Code, c.Name, c.HttpOnly, c.SameSite == http.SameSiteLaxMode, len(c.Value))
	cookie := c.Name + "=" + c.Value
	fmt.Println(do("GET", "/session/me", cookie).Body)
	do("POST", "/session/logout", cookie)
	fmt.Println(do("GET", "/session/me", cookie).Code)
	// Output:
	// 303 session true true 43
	// alice (session, roles [admin])
	// 401
}

// Typed values, saved with the response.
func ExampleSet() {
	mem := memstore.New(memstore.Options{})
	defer mem.Close()
	sessions, _ := session.New(session.Options{Store: mem})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		n, _ := session.Get[int](s, "visits")
		session.Set(s, "visits", n+1)
		fmt.Fprint(w, n+1)
	}))
	cookie := ""
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if cs := w.Result().Cookies(); len(cs) > 0 {
			cookie = cs[0].Name + "=" + cs[0].Value
		}
		fmt.Println(w.Body)
	}
	// Output:
	// 1
	// 2
	// 3
}

// Encrypted cookies: no server state; the first key seals, all open.
func ExampleOptions_cookieKeys() {
	newKey, oldKey := make([]byte, 32), make([]byte, 32) // from crypto/rand in real use
	newKey[0] = 1
	_, err := session.New(session.Options{CookieKeys: [][]byte{newKey, oldKey}, SecureAlways: true})
	fmt.Println(err)
	_, err = session.New(session.Options{CookieKeys: [][]byte{[]byte("too short")}})
	fmt.Println(err)
	// Output:
	// <nil>
	// session: Options.CookieKeys[0] is 9 bytes; use at least 32 random bytes (e.g. from crypto/rand)
}
