package migrate

import (
	"bytes"
	"net/http"
	"testing"

	gcsrf "github.com/gorilla/csrf"

	"github.com/bulwark-go/bulwark/csrf"
)

var csrfKey = bytes.Repeat([]byte{7}, 32)

// tokenPage answers GET with a token in X-CSRF-Token (as a page would put it
// in a form) and anything else with 200.
func tokenPage(token func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("X-CSRF-Token", token(r))
		}
		w.WriteHeader(http.StatusOK)
	})
}

// tokenFor GETs site from h and returns the token and the cookies to send back.
func tokenFor(t *testing.T, h http.Handler, site string) (string, []*http.Cookie) {
	t.Helper()
	w := serve(h, req("GET", site+"/form"))
	tok := w.Header().Get("X-CSRF-Token")
	if tok == "" || len(w.Result().Cookies()) == 0 {
		t.Fatalf("no token or cookie from %s: %v", site, w.Header())
	}
	return tok, w.Result().Cookies()
}

// post is an unsafe request to site carrying the cookies, the token (when
// not empty) and the headers.
func post(site, token string, cookies []*http.Cookie, headers ...string) *http.Request {
	r := req("POST", site+"/transfer", headers...)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	if token != "" {
		r.Header.Set("X-CSRF-Token", token)
	}
	return r
}

func bulwarkCSRF(t *testing.T, o csrf.Options) http.Handler {
	t.Helper()
	if !o.OriginOnly {
		o.Keys = [][]byte{csrfKey}
	}
	g, err := csrf.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return g.Handler(tokenPage(csrf.Token))
}

// TestGorillaCSRF proves the gorilla/csrf half of
// docs/migrate/gorilla-csrf.md: token-protected forms on an HTTPS site, the
// same requests to gorilla/csrf v1.7.3 and package csrf.
func TestGorillaCSRF(t *testing.T) {
	const site = "https://example.com"
	gor := gcsrf.Protect(csrfKey, gcsrf.TrustedOrigins([]string{"app.example.com"}))(tokenPage(gcsrf.Token))
	bw := bulwarkCSRF(t, csrf.Options{TrustedOrigins: []string{"https://app.example.com"}})
	gTok, gCookies := tokenFor(t, gor, site)
	bTok, bCookies := tokenFor(t, bw, site)
	run := func(token bool, headers ...string) (g, b int) {
		gt, bt := "", ""
		if token {
			gt, bt = gTok, bTok
		}
		return serve(gor, post(site, gt, gCookies, headers...)).Code, serve(bw, post(site, bt, bCookies, headers...)).Code
	}
	check := func(t *testing.T, g, b, wantG, wantB int) {
		t.Helper()
		if g != wantG || b != wantB {
			t.Errorf("gorilla/csrf %d (want %d), bulwark %d (want %d)", g, wantG, b, wantB)
		}
	}

	t.Run("same: same-origin POST with the token", func(t *testing.T) {
		g, b := run(true, "Origin", site)
		check(t, g, b, 200, 200)
	})
	t.Run("same: POST without the token", func(t *testing.T) {
		g, b := run(false, "Origin", site)
		check(t, g, b, 403, 403)
	})
	t.Run("same: cross-site Origin, even with the token", func(t *testing.T) {
		g, b := run(true, "Origin", "https://evil.example")
		check(t, g, b, 403, 403)
	})
	t.Run("same: trusted origin with the token", func(t *testing.T) {
		g, b := run(true, "Origin", "https://app.example.com")
		check(t, g, b, 200, 200)
	})
	t.Run("same: no Origin, cross-site Referer", func(t *testing.T) {
		g, b := run(true, "Referer", "https://evil.example/page")
		check(t, g, b, 403, 403)
	})
	t.Run("differs: trusted origins compared as hosts (CVE-2025-47909)", func(t *testing.T) {
		// A plain-HTTP page on the trusted host: anyone on the network path can write it.
		g, b := run(true, "Origin", "http://app.example.com")
		check(t, g, b, 200, 403)
	})
	t.Run("differs: Origin with user information", func(t *testing.T) {
		g, b := run(true, "Origin", "https://evil@example.com")
		check(t, g, b, 200, 403)
	})
	t.Run("differs: no Origin and no Referer", func(t *testing.T) {
		// Not a browser (every current browser sends Origin on a POST);
		// gorilla/csrf refuses it over HTTPS, Bulwark leaves it to the token.
		g, b := run(true)
		check(t, g, b, 403, 200)
	})
	t.Run("differs: a request with no cookie at all", func(t *testing.T) {
		// An API client authenticating with a bearer token: not CSRF-prone.
		g := serve(gor, post(site, "", nil, "Authorization", "Bearer x")).Code
		b := serve(bw, post(site, "", nil, "Authorization", "Bearer x")).Code
		check(t, g, b, 403, 200)
	})
	t.Run("differs: refusal body", func(t *testing.T) {
		wantProblem(t, "bulwark", serve(bw, post(site, "", bCookies, "Origin", site)), 403)
		w := serve(gor, post(site, "", gCookies, "Origin", site))
		if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("gorilla/csrf: Content-Type %q", ct)
		}
	})
}

// TestGorillaCSRFPlainHTTP proves the plain-HTTP rows of
// docs/migrate/gorilla-csrf.md: gorilla/csrf v1.7.3 (the fix of
// CVE-2025-24358) assumes HTTPS unless each request is marked with
// PlaintextHTTPRequest; package csrf reads the scheme from the connection.
func TestGorillaCSRFPlainHTTP(t *testing.T) {
	const site = "http://localhost:8080"
	inner := gcsrf.Protect(csrfKey, gcsrf.Secure(false))(tokenPage(gcsrf.Token))
	marked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.ServeHTTP(w, gcsrf.PlaintextHTTPRequest(r)) })
	bw := bulwarkCSRF(t, csrf.Options{})

	gTok, gCookies := tokenFor(t, inner, site)
	bTok, bCookies := tokenFor(t, bw, site)
	if c := serve(inner, post(site, gTok, gCookies, "Origin", site)).Code; c != 403 {
		t.Errorf("gorilla/csrf without PlaintextHTTPRequest: %d, want 403 (same-origin POST refused)", c)
	}
	if c := serve(marked, post(site, gTok, gCookies, "Origin", site)).Code; c != 200 {
		t.Errorf("gorilla/csrf with PlaintextHTTPRequest: %d, want 200", c)
	}
	if c := serve(bw, post(site, bTok, bCookies, "Origin", site)).Code; c != 200 {
		t.Errorf("bulwark: %d, want 200", c)
	}
	// The scheme is part of the origin: an https page is another site.
	if c := serve(bw, post(site, bTok, bCookies, "Origin", "https://localhost:8080")).Code; c != 403 {
		t.Errorf("bulwark: https origin on an http site: %d, want 403", c)
	}
}

// TestCrossOriginProtection proves the http.CrossOriginProtection half of
// docs/migrate/gorilla-csrf.md: Go's origin check and package csrf's
// OriginOnly mode on the same requests to an HTTPS site. Every request but
// one carries a cookie, since package csrf passes cookieless requests.
func TestCrossOriginProtection(t *testing.T) {
	const site = "https://example.com"
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin("https://app.example.com"); err != nil {
		t.Fatal(err)
	}
	cop.AddInsecureBypassPattern("/hooks/")
	goH := cop.Handler(ok)
	bw := bulwarkCSRF(t, csrf.Options{OriginOnly: true, TrustedOrigins: []string{"https://app.example.com"}, Exempt: []string{"/hooks/"}})
	at := func(path string, headers ...string) func() *http.Request {
		return func() *http.Request {
			r := req("POST", site+path, headers...)
			r.AddCookie(&http.Cookie{Name: "auth_token", Value: "x"})
			return r
		}
	}
	cases := []struct {
		name        string
		mk          func() *http.Request
		goWant, bwW int
	}{
		{"same: Sec-Fetch-Site same-origin", at("/x", "Sec-Fetch-Site", "same-origin"), 200, 200},
		{"same: Sec-Fetch-Site cross-site", at("/x", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 403, 403},
		{"same: cross-site from a trusted origin", at("/x", "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com"), 200, 200},
		{"same: old browser, same Origin", at("/x", "Origin", site), 200, 200},
		{"same: old browser, foreign Origin", at("/x", "Origin", "https://evil.example"), 403, 403},
		{"same: no Fetch Metadata, no Origin, no Referer", at("/x"), 200, 200},
		{"same: exempt path", at("/hooks/", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 200, 200},
		{"differs: scheme ignored (http page, https site)", at("/x", "Origin", "http://example.com"), 200, 403},
		{"differs: Origin with user information (Go issue #78563)", at("/x", "Origin", "https://evil@example.com"), 200, 403},
		{"differs: Referer not consulted", at("/x", "Referer", "https://evil.example/page"), 200, 403},
		{"differs: bypass pattern covers a subtree, Exempt is exact", at("/hooks/admin/delete", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 200, 403},
		{"differs: cookieless cross-site request", func() *http.Request {
			return req("POST", site+"/x", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		}, 403, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, b := both(goH, bw, tc.mk)
			if g.Code != tc.goWant || b.Code != tc.bwW {
				t.Errorf("CrossOriginProtection %d (want %d), bulwark %d (want %d)", g.Code, tc.goWant, b.Code, tc.bwW)
			}
		})
	}
}
