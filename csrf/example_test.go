package csrf_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/bulwark-go/bulwark/csrf"
)

// A login form protected by both layers: the page hands out a token (bound
// to a pre-session, since nobody is logged in), and the login route is
// checked even though a cross-site login POST would carry no cookie.
func Example() {
	guard, err := csrf.New(csrf.Options{
		Keys:          [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, // crypto/rand in real life
		SessionRoutes: []string{"/login"},
		IssuePaths:    []string{"/"}, // the token and its cookie are set before the page streams out
		// Binding: mySessions.CSRFBinding — the session's binding value.
	})
	if err != nil {
		panic(err)
	}
	page := template.Must(template.New("").Funcs(csrf.TemplateFuncs()).Parse(
		`<form method="post" action="/login">{{ csrfField . }}<input name="username"></form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { page.Execute(w, r) })
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "welcome, %s", r.FormValue("username"))
	})
	srv := httptest.NewServer(guard.Handler(mux))
	defer srv.Close()

	// The browser loads the form: a token, and the pre-session cookie.
	res, _ := http.Get(srv.URL)
	tok := res.Header.Get(csrf.HeaderName)
	cookie := res.Cookies()[0]
	res.Body.Close()

	post := func(origin string, withCookie bool) string {
		form := url.Values{"username": {"alice"}, csrf.FieldName: {tok}}
		req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if withCookie {
			req.AddCookie(cookie)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, res.StatusCode)
		if res.StatusCode == 200 {
			buf := make([]byte, 64)
			n, _ := res.Body.Read(buf)
			fmt.Fprintf(&b, " %s", buf[:n])
		}
		return b.String()
	}
	fmt.Println("same origin:", post(srv.URL, true))
	fmt.Println("other site: ", post("https://evil.example", false))
	fmt.Println("no cookie:  ", post(srv.URL, false))
	// Output:
	// same origin: 200 welcome, alice
	// other site:  403
	// no cookie:   403
}

// The origin check alone, for a JSON API whose cookie is an access token
// and which has no forms. A request without cookies is not CSRF-prone.
func ExampleOptions_originOnly() {
	guard, err := csrf.New(csrf.Options{
		OriginOnly:     true,
		TrustedOrigins: []string{"https://app.example.com", "https://*.example.net"},
	})
	if err != nil {
		panic(err)
	}
	for _, o := range []string{"https://api.example.com", "https://app.example.com", "http://app.example.com", "https://evil@api.example.com", "https://x.example.net"} {
		r := httptest.NewRequest("POST", "https://api.example.com/api/logout", nil)
		r.Header.Set("Cookie", "auth_token=...")
		r.Header.Set("Origin", o)
		if _, p := guard.Check(r); p != nil {
			fmt.Println(o, "→", p.Status, p.Reason)
		} else {
			fmt.Println(o, "→ pass")
		}
	}
	// Output:
	// https://api.example.com → pass
	// https://app.example.com → pass
	// http://app.example.com → 403 csrf_origin_mismatch
	// https://evil@api.example.com → 403 csrf_origin_malformed
	// https://x.example.net → pass
}
