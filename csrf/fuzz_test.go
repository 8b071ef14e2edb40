package csrf

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzTokenDecode feeds arbitrary strings to the token verifier: it must
// never panic, and nothing but a token the guard issued verifies.
func FuzzTokenDecode(f *testing.F) {
	g := tokenGuard(f)
	now := time.Unix(1_800_000_000, 0)
	good := g.sign(kindSession, "S", now)
	f.Add(good)
	f.Add(good[:encodedLen-1] + "B")
	f.Add(strings.Repeat("A", encodedLen))
	f.Add("")
	f.Add(strings.Repeat("=", encodedLen))
	f.Fuzz(func(t *testing.T, tok string) {
		got := g.verify(tok, kindSession, "S", true, now)
		if got == "" && tok != good {
			// Masking means other encodings of the same token verify; they
			// must decode to the genuine MAC, which only the key can make.
			if len(tok) != encodedLen {
				t.Fatalf("a %d-byte string verified", len(tok))
			}
		}
		_ = g.verify(tok, kindPreSession, "", false, now)
		cookieValue(http.Header{"Cookie": {tok}}, "csrf")
		_ = validPreSessionID(tok)
	})
}

// FuzzOriginCheck feeds arbitrary Origin, Referer and Sec-Fetch-Site
// values to the origin check: it never panics, and whatever passes
// without Fetch Metadata names the request's own origin or a trusted one.
func FuzzOriginCheck(f *testing.F) {
	g := mustNew(f, Options{OriginOnly: true, TrustedOrigins: []string{"https://trusted.example", "https://*.example.org"}})
	for _, s := range [][3]string{
		{"http://evil@127.0.0.1:8000", "", ""},
		{"http://127.0.0.1:8000", "", ""},
		{"", "http://127.0.0.1:8000/x?y#z", ""},
		{"", "http://127.0.0.1:8000@evil.com/", ""},
		{"https://a.example.org", "", "cross-site"},
		{"null", "", "same-origin"},
		{"http://127.0.0.1:8000.", "", ""},
		{"", "http://127.0.0.1:8000\\@evil.com", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, origin, referer, site string) {
		r, _ := http.NewRequest("POST", "http://127.0.0.1:8000/api/x", nil)
		r.Header.Set("Cookie", "a=b")
		if origin != "" {
			r.Header["Origin"] = []string{origin}
		}
		if referer != "" {
			r.Header["Referer"] = []string{referer}
		}
		if site != "" {
			r.Header["Sec-Fetch-Site"] = []string{site}
		}
		_, p := g.Check(r)
		if p != nil || site == "same-origin" || site == "none" {
			return
		}
		ok := func(o string) bool {
			return o == "http://127.0.0.1:8000" || o == "https://trusted.example" ||
				strings.HasPrefix(o, "https://") && strings.HasSuffix(o, ".example.org") && !strings.ContainsAny(o[8:], "@/\\:?#")
		}
		switch {
		case origin != "":
			if !ok(origin) {
				t.Fatalf("Origin %q passed", origin)
			}
		case referer != "" && (site == "" || site != "cross-site" && site != "same-site"):
			o, _ := refererOrigin(referer)
			if !ok(o) || strings.ContainsAny(o[strings.Index(o, "://")+3:], "@\\") {
				t.Fatalf("Referer %q passed as %q", referer, o)
			}
		}
	})
}

// FuzzFormContentType: the guard reads the token from a urlencoded body
// exactly when net/http's ParseForm (what the handler uses) reads it as a
// form, whatever the Content-Type's case, spacing or parameters.
func FuzzFormContentType(f *testing.F) {
	g := tokenGuard(f)
	for _, ct := range []string{
		"application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded",
		"application/x-www-form-urlencoded; charset=utf-8", " APPLICATION/x-www-form-urlencoded ;",
		"application/x-www-form-urlencodedx", "text/plain", "multipart/form-data; boundary=x",
		"application/x-www-form-urlencoded; charset", "",
	} {
		f.Add(ct)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		const body = "csrf_token=TOK"
		r, _ := http.NewRequest("POST", "http://127.0.0.1:8000/app/notes", strings.NewReader(body))
		r.Header["Content-Type"] = []string{ct}
		_, tok, _ := g.formToken(r)
		r2, _ := http.NewRequest("POST", "http://127.0.0.1:8000/app/notes", strings.NewReader(body))
		r2.Header["Content-Type"] = []string{ct}
		_ = r2.ParseForm()
		if want := r2.PostForm.Get(FieldName); tok != want && (tok == "" || want == "") {
			t.Fatalf("Content-Type %q: the guard read %q, ParseForm %q", ct, tok, want)
		}
	})
}
