package csrf

import (
	"bytes"
	"crypto/tls"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 32)
)

// sessionHeader stands in for a session package in these tests: its value
// is the session's binding value.
const sessionHeader = "X-Test-Session"

func testBinding(r *http.Request) (string, bool) {
	v := r.Header.Get(sessionHeader)
	return v, v != ""
}

func mustNew(t testing.TB, o Options) *Guard {
	t.Helper()
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func tokenGuard(t testing.TB, mod ...func(*Options)) *Guard {
	o := Options{Keys: [][]byte{key1}, Binding: testBinding, SessionRoutes: []string{"/session/login"}, XSRFCookie: true}
	for _, m := range mod {
		m(&o)
	}
	return mustNew(t, o)
}

// req builds a request to target on host, over TLS when tls is true.
func req(method, target string, tlsOn bool, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if tlsOn {
		r.TLS = &tls.ConnectionState{}
	} else {
		r.TLS = nil
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// reason returns the refusal's reason, or "" when r passes.
func reason(g *Guard, r *http.Request) string {
	_, p := g.Check(r)
	if p == nil {
		return ""
	}
	if p.Status != http.StatusForbidden && p.Status != http.StatusRequestEntityTooLarge {
		panic("unexpected status")
	}
	return p.Reason
}

// issue runs a GET through the guard's handler, whose handler calls Token,
// and returns the token and the cookies the response set.
func issue(t testing.TB, g *Guard, target string, hdr ...string) (string, []*http.Cookie) {
	t.Helper()
	var tok string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok = Token(r)
		if again := Token(r); again != tok {
			t.Errorf("Token twice in one response: %q then %q", tok, again)
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", target, strings.HasPrefix(target, "https:"), hdr...))
	if got := w.Header().Get(HeaderName); got != tok || tok == "" {
		t.Fatalf("X-CSRF-Token header %q, Token %q", got, tok)
	}
	return tok, w.Result().Cookies()
}

func TestSafeMethodsAndNoCookiePass(t *testing.T) {
	g := tokenGuard(t)
	for _, m := range []string{"GET", "HEAD", "OPTIONS"} {
		r := req(m, "http://example.com/app", false, "Origin", "https://evil.example", "Cookie", "sid=1")
		if got := reason(g, r); got != "" {
			t.Errorf("%s refused: %s", m, got)
		}
	}
	// No cookie: not CSRF-prone, even cross-site and without a token.
	r := req("POST", "http://example.com/app/notes", false, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer x")
	if got := reason(g, r); got != "" {
		t.Errorf("cookie-less POST refused: %s", got)
	}
	// The same with a cookie is refused.
	r.Header.Set("Cookie", "sid=1")
	if got := reason(g, r); got != ReasonCrossSite {
		t.Errorf("cookie POST: %q, want %s", got, ReasonCrossSite)
	}
}

func TestLoginRouteCheckedWithoutCookie(t *testing.T) {
	g := tokenGuard(t)
	// A cross-site login POST carries no cookie (the pre-session cookie is Lax).
	r := req("POST", "http://example.com/session/login", false, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if got := reason(g, r); got != ReasonCrossSite {
		t.Errorf("cross-site login: %q, want %s", got, ReasonCrossSite)
	}
	// Same-origin but without token or pre-session: still refused.
	r = req("POST", "http://example.com/session/login", false, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	if got := reason(g, r); got != ReasonTokenMissing {
		t.Errorf("tokenless login: %q, want %s", got, ReasonTokenMissing)
	}
	// A token stolen from another pre-session, sent without its cookie.
	tok, _ := issue(t, g, "http://example.com/app")
	r = req("POST", "http://example.com/session/login", false, "Sec-Fetch-Site", "same-origin", HeaderName, tok)
	if got := reason(g, r); got != ReasonSessionMismatch {
		t.Errorf("login with token but no pre-session: %q, want %s", got, ReasonSessionMismatch)
	}
}

// CVE-2025-24358 (gorilla/csrf), CVE-2025-46721 (nosurf): a same-site
// sibling (another subdomain, another port) must be refused, over plain
// HTTP and over HTTPS, whichever header carries the evidence.
func TestSameSiteSiblingRefused(t *testing.T) {
	g := tokenGuard(t)
	cases := []struct {
		name, target, from string
	}{
		{"https subdomain", "https://app.example.com/app/notes", "https://evil.example.com"},
		{"http subdomain", "http://app.example.com/app/notes", "http://evil.example.com"},
		{"https other port", "https://127.0.0.1:8443/app/notes", "https://127.0.0.1:9443"},
		{"http other port", "http://127.0.0.1:8000/app/notes", "http://127.0.0.1:9000"},
		{"https from http same host", "https://app.example.com/app/notes", "http://app.example.com"},
	}
	for _, c := range cases {
		tlsOn := strings.HasPrefix(c.target, "https:")
		for _, v := range []struct {
			kind string
			hdr  []string
			want string
		}{
			{"fetch metadata", []string{"Sec-Fetch-Site", "same-site", "Origin", c.from}, ReasonCrossSite},
			{"origin", []string{"Origin", c.from}, ReasonOriginMismatch},
			{"referer", []string{"Referer", c.from + "/page"}, ReasonRefererMismatch},
		} {
			r := req("POST", c.target, tlsOn, append(v.hdr, "Cookie", "sid=1")...)
			if got := reason(g, r); got != v.want {
				t.Errorf("%s by %s: %q, want %s", c.name, v.kind, got, v.want)
			}
		}
		// The request's own origin passes the origin layer.
		own := strings.TrimSuffix(c.target, "/app/notes")
		r := req("POST", c.target, tlsOn, "Origin", own, "Cookie", "sid=1")
		if got := reason(g, r); got != ReasonTokenMissing {
			t.Errorf("%s: own origin: %q, want the token layer's %s", c.name, got, ReasonTokenMissing)
		}
	}
	// Behind a trusted TLS proxy (recorded by clientip in the request
	// state), the connection is plain HTTP but the site is https.
	r := req("POST", "http://app.example.com/app/notes", false, "Referer", "http://app.example.com/app", "Cookie", "sid=1")
	ctx, st := reqctx.New(r.Context())
	st.Secure = true
	r = r.WithContext(ctx)
	if got := reason(g, r); got != ReasonRefererMismatch {
		t.Errorf("http Referer behind a TLS proxy: %q, want %s", got, ReasonRefererMismatch)
	}
}

// CVE-2025-47909 (gorilla/csrf): trusted origins are whole origins.
func TestTrustedOriginsAreFullOrigins(t *testing.T) {
	g := tokenGuard(t, func(o *Options) {
		o.TrustedOrigins = []string{"https://trusted.example.net", "https://*.partner.example.org:8443"}
	})
	for from, want := range map[string]string{
		"https://trusted.example.net":          ReasonTokenMissing, // passes layer 1
		"http://trusted.example.net":           ReasonCrossSite,
		"https://trusted.example.net:8443":     ReasonCrossSite,
		"https://trusted.example.net.evil.com": ReasonCrossSite,
		"https://eviltrusted.example.net":      ReasonCrossSite,
		"https://a.partner.example.org:8443":   ReasonTokenMissing,
		"https://a.partner.example.org":        ReasonCrossSite,
		"https://partner.example.org:8443":     ReasonCrossSite,
	} {
		r := req("POST", "https://app.example.com/app/notes", true, "Sec-Fetch-Site", "cross-site", "Origin", from, "Cookie", "sid=1")
		if got := reason(g, r); got != want {
			t.Errorf("Origin %s: %q, want %s", from, got, want)
		}
	}
}

// CVE-2025-47910 (Go): exemptions match exactly.
func TestExemptionsMatchExactly(t *testing.T) {
	g := tokenGuard(t, func(o *Options) { o.Exempt = []string{"/hooks/pay"} })
	evil := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Cookie", "sid=1"}
	if got := reason(g, req("POST", "http://example.com/hooks/pay", false, evil...)); got != "" {
		t.Errorf("exempt path refused: %s", got)
	}
	for _, p := range []string{"/hooks/pay/", "/hooks/pay/x", "/hooks/PAY", "//hooks/pay", "/hooks/pay.json", "/hooks/pa", "/hooks/pay/../admin"} {
		r := req("POST", "http://example.com/", false, evil...)
		r.URL.Path = p
		if got := reason(g, r); got != ReasonCrossSite {
			t.Errorf("%s: %q, want %s", p, got, ReasonCrossSite)
		}
	}
	for _, bad := range []string{"/hooks/*", "/hooks/{id}", "POST /hooks/pay", "hooks", "/a/../b"} {
		if _, err := New(Options{OriginOnly: true, Exempt: []string{bad}}); err == nil {
			t.Errorf("Exempt %q accepted", bad)
		}
	}
}

// Go issue #78563: http.CrossOriginProtection passes an Origin with user
// information; this guard refuses it as malformed.
func TestOriginWithUserinfoRefused(t *testing.T) {
	g := mustNew(t, Options{OriginOnly: true})
	cop := http.NewCrossOriginProtection()
	for _, o := range []string{"http://evil@127.0.0.1:8000", "http://evil:pw@127.0.0.1:8000", "http://127.0.0.1:8000/path", "HTTP://127.0.0.1:8000", "http://127.0.0.1:80"} {
		r := req("POST", "http://127.0.0.1:8000/api/logout", false, "Origin", o, "Cookie", "auth_token=x")
		if strings.Contains(o, "@") {
			if err := cop.Check(r); err != nil {
				t.Errorf("http.CrossOriginProtection now refuses %s (%v): update the package doc", o, err)
			}
		}
		if got := reason(g, r); got != ReasonOriginMalformed {
			t.Errorf("Origin %s: %q, want %s", o, got, ReasonOriginMalformed)
		}
	}
	r := req("POST", "http://127.0.0.1:8000/api/logout", false, "Origin", "http://127.0.0.1:8000", "Origin", "http://127.0.0.1:8000", "Cookie", "a=b")
	if got := reason(g, r); got != ReasonOriginMalformed {
		t.Errorf("two Origins: %q", got)
	}
	// Sec-Fetch-Site repeated is refused like a repeated Origin, whatever
	// the first value says.
	for _, sites := range [][2]string{{"same-origin", "cross-site"}, {"same-origin", "same-origin"}, {"none", "cross-site"}} {
		r = req("POST", "http://127.0.0.1:8000/api/logout", false, "Sec-Fetch-Site", sites[0], "Sec-Fetch-Site", sites[1], "Cookie", "a=b")
		if got := reason(g, r); got != ReasonFetchMetadataMalformed {
			t.Errorf("Sec-Fetch-Site %v: %q, want %s", sites, got, ReasonFetchMetadataMalformed)
		}
	}
	r = req("POST", "http://127.0.0.1:8000/api/logout", false, "Referer", "http://evil@127.0.0.1:8000/", "Cookie", "a=b")
	if got := reason(g, r); got != ReasonRefererMalformed {
		t.Errorf("Referer with userinfo: %q", got)
	}
}

func TestOriginOnlyMode(t *testing.T) {
	g := mustNew(t, Options{OriginOnly: true, TrustedOrigins: []string{"https://example.com"}})
	for _, c := range []struct {
		hdr  []string
		want string
	}{
		{[]string{"Origin", "http://127.0.0.1:8000"}, ""},
		{[]string{"Sec-Fetch-Site", "same-origin"}, ""},
		{[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://example.com"}, ""},
		{[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.com"}, ReasonCrossSite},
		{[]string{"Origin", "null"}, ReasonOriginMismatch},
		{[]string{"Sec-Fetch-Site", "same-origin", "Origin", "null"}, ""},
		{nil, ""}, // curl with a cookie: no browser to forge it
	} {
		r := req("POST", "http://127.0.0.1:8000/api/logout", false, append(c.hdr, "Cookie", "auth_token=x")...)
		if got := reason(g, r); got != c.want {
			t.Errorf("%v: %q, want %q", c.hdr, got, c.want)
		}
	}
}

func TestTokenLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := tokenGuard(t, func(o *Options) { o.Timeout = time.Hour })
		post := func(tok string, hdr ...string) string {
			r := req("POST", "http://example.com/app/notes", false, append([]string{"Sec-Fetch-Site", "same-origin", HeaderName, tok}, hdr...)...)
			return reason(g, r)
		}
		sess := []string{sessionHeader, "session-A", "Cookie", "sid=A"}
		t1, _ := issue(t, g, "http://example.com/app", sess...)
		t2, _ := issue(t, g, "http://example.com/app", sess...)
		if t1 == t2 {
			t.Fatal("two responses got the same masked token")
		}
		for _, tok := range []string{t1, t2, t1} { // not single-use
			if got := post(tok, sess...); got != "" {
				t.Fatalf("fresh token refused: %s", got)
			}
		}
		if got := post(t1, sessionHeader, "session-B", "Cookie", "sid=B"); got != ReasonSessionMismatch {
			t.Errorf("other session: %q", got)
		}
		tampered := []byte(t1)
		tampered[len(tampered)-3] ^= 1
		if got := post(string(tampered), sess...); got != ReasonTokenInvalid {
			t.Errorf("tampered token: %q", got)
		}
		for _, junk := range []string{"x", strings.Repeat("A", encodedLen), strings.Repeat("!", encodedLen), t1 + "A"} {
			if got := post(junk, sess...); got != ReasonTokenInvalid {
				t.Errorf("junk %.10q: %q", junk, got)
			}
		}

		// Rotation: a new key signs; the old one still verifies, a token
		// signed by a dropped key does not.
		rotated := tokenGuard(t, func(o *Options) { o.Keys = [][]byte{key2, key1}; o.Timeout = time.Hour })
		t3, _ := issue(t, rotated, "http://example.com/app", sess...)
		if got := post(t3, sess...); got != ReasonTokenInvalid {
			t.Errorf("token of a key the old guard lacks: %q", got)
		}
		g, old := rotated, g
		if got := post(t1, sess...); got != "" {
			t.Errorf("old key's token after rotation: %q", got)
		}
		if got := post(t3, sess...); got != "" {
			t.Errorf("new key's token: %q", got)
		}
		g = tokenGuard(t, func(o *Options) { o.Keys = [][]byte{key2}; o.Timeout = time.Hour })
		if got := post(t1, sess...); got != ReasonTokenInvalid {
			t.Errorf("dropped key's token: %q", got)
		}
		_ = old

		time.Sleep(time.Hour - time.Second)
		if got := post(t3, sess...); got != "" {
			t.Errorf("token just before its timeout: %q", got)
		}
		time.Sleep(time.Second)
		if got := post(t3, sess...); got != ReasonTokenExpired {
			t.Errorf("token at its timeout: %q", got)
		}
	})
}

// The login flow: GET the form (pre-session cookie + token), POST the
// login with both; after login the token is for the session.
func TestPreSessionLoginFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := tokenGuard(t)
		for _, base := range []string{"http://example.com", "https://example.com"} {
			tok, cookies := issue(t, g, base+"/app")
			var pre *http.Cookie
			for _, c := range cookies {
				if strings.HasSuffix(c.Name, "csrf") {
					pre = c
				}
			}
			wantName := "csrf"
			if strings.HasPrefix(base, "https") {
				wantName = "__Host-csrf"
			}
			if pre == nil || pre.Name != wantName || !pre.HttpOnly || pre.Path != "/" || pre.Secure != (wantName != "csrf") || pre.SameSite != http.SameSiteLaxMode {
				t.Fatalf("%s: pre-session cookie %+v", base, pre)
			}
			login := func(hdr ...string) string {
				r := req("POST", base+"/session/login", strings.HasPrefix(base, "https"),
					append([]string{"Origin", base, "Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
				r.Body = io.NopCloser(strings.NewReader(url.Values{"username": {"alice"}, FieldName: {tok}}.Encode()))
				return reason(g, r)
			}
			if got := login("Cookie", pre.Name+"="+pre.Value); got != "" {
				t.Errorf("%s: login with pre-session token: %q", base, got)
			}
			if got := login("Cookie", pre.Name+"="+newPreSessionID()); got != ReasonSessionMismatch {
				t.Errorf("%s: login under another pre-session: %q", base, got)
			}
			if got := login("Cookie", "csrf"+strings.TrimPrefix(pre.Name, "__Host-csrf")+"x=1"); got != ReasonSessionMismatch {
				t.Errorf("%s: login without the pre-session cookie: %q", base, got)
			}
			// A session now exists; the pre-session token no longer serves.
			if got := login("Cookie", pre.Name+"="+pre.Value+"; sid=A", sessionHeader, "A"); got != ReasonSessionMismatch {
				t.Errorf("%s: pre-session token under a session: %q", base, got)
			}
		}
		// A handler that logs in mid-request gets a token for the session
		// from a second Token call.
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			before := Token(r)
			r.Header.Set(sessionHeader, "new-session")
			after := Token(r)
			if before == after || w.Header().Get(HeaderName) != after {
				t.Errorf("Token after login did not re-issue")
			}
			if n := len(w.Header()["Set-Cookie"]); n != 2 { // pre-session + one XSRF-TOKEN
				t.Errorf("Set-Cookie lines: %d %q", n, w.Header()["Set-Cookie"])
			}
		}))
		h.ServeHTTP(httptest.NewRecorder(), req("GET", "http://example.com/app", false))
	})
}

func TestTokenSources(t *testing.T) {
	g := tokenGuard(t)
	sess := []string{sessionHeader, "S", "Sec-Fetch-Site", "same-origin"}
	tok, cookies := issue(t, g, "http://example.com/app", sess...)
	var xsrf string
	for _, c := range cookies {
		if c.Name == DefaultXSRFCookieName {
			xsrf = c.Value
			if c.HttpOnly {
				t.Error("XSRF-TOKEN is HttpOnly: scripts cannot read it")
			}
		}
	}
	if xsrf != tok {
		t.Fatalf("XSRF-TOKEN cookie %q, token %q", xsrf, tok)
	}
	post := func(ct, body string, hdr ...string) (string, string) {
		r := req("POST", "http://example.com/app/notes", false, append(append([]string{"Cookie", "sid=S; " + DefaultXSRFCookieName + "=" + xsrf}, sess...), hdr...)...)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		r.Body = io.NopCloser(strings.NewReader(body))
		r2, p := g.Check(r)
		got, _ := io.ReadAll(r2.Body)
		if p != nil {
			return p.Reason, string(got)
		}
		return "", string(got)
	}
	check := func(name, want, gotReason string) {
		t.Helper()
		if gotReason != want {
			t.Errorf("%s: %q, want %q", name, gotReason, want)
		}
	}
	r, _ := post("", "", HeaderName, tok)
	check("X-CSRF-Token", "", r)
	r, _ = post("", "", XSRFHeaderName, tok)
	check("X-XSRF-Token = cookie", "", r)
	r, _ = post("", "", XSRFHeaderName, tok+"x")
	check("X-XSRF-Token != cookie", ReasonXSRFMismatch, r)

	// Equal header and cookie are not enough: the value must be a valid
	// token bound to the session (a sibling subdomain can set cookies).
	forged := strings.Repeat("A", encodedLen)
	rr := req("POST", "http://example.com/app/notes", false, append([]string{"Cookie", "sid=S; XSRF-TOKEN=" + forged, XSRFHeaderName, forged}, sess...)...)
	check("forged double submit", ReasonTokenInvalid, reason(g, rr))
	other, _ := issue(t, g, "http://example.com/app", sessionHeader, "other")
	rr = req("POST", "http://example.com/app/notes", false, append([]string{"Cookie", "sid=S; XSRF-TOKEN=" + other, XSRFHeaderName, other}, sess...)...)
	check("double submit of another session's token", ReasonSessionMismatch, reason(g, rr))

	body := url.Values{"text": {"hello"}, FieldName: {tok}}.Encode()
	r, replayed := post("application/x-www-form-urlencoded", body)
	check("urlencoded", "", r)
	if replayed != body {
		t.Errorf("handler's body %q, want %q", replayed, body)
	}
	r, _ = post("application/x-www-form-urlencoded; charset=utf-8", "csrf%5Ftoken="+url.QueryEscape(tok))
	check("urlencoded, escaped key", "", r)
	r, _ = post("application/x-www-form-urlencoded", "text=hello")
	check("urlencoded without token", ReasonTokenMissing, r)
	r, _ = post("text/plain", FieldName+"="+tok)
	check("text/plain form", ReasonTokenMissing, r)
	// The media type is case-insensitive, as ParseForm reads it: a case
	// variant is a form the handler will parse, so its token is read.
	for _, ct := range []string{"Application/X-WWW-Form-Urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8", " application/x-www-form-urlencoded ;charset=utf-8"} {
		r, _ = post(ct, "text=hello&"+FieldName+"="+url.QueryEscape(tok))
		check("urlencoded as "+ct, "", r)
	}
	r, _ = post("application/x-www-form-urlencodedx", FieldName+"="+tok)
	check("not quite urlencoded", ReasonTokenMissing, r)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("text", "hello")
	mw.WriteField(FieldName, tok)
	fw, _ := mw.CreateFormFile("file", "a.txt")
	fw.Write(bytes.Repeat([]byte("z"), 100000))
	mw.Close()
	r, replayed = post(mw.FormDataContentType(), mp.String())
	check("multipart", "", r)
	r, _ = post(strings.Replace(mw.FormDataContentType(), "multipart/form-data", "Multipart/Form-Data", 1), mp.String())
	check("multipart, case variant", "", r)
	if replayed != mp.String() {
		t.Errorf("multipart body not replayed whole: %d bytes of %d", len(replayed), mp.Len())
	}
	// The handler can still parse the replayed form.
	rq := req("POST", "http://example.com/app/notes", false, append([]string{"Cookie", "sid=S", "Content-Type", mw.FormDataContentType()}, sess...)...)
	rq.Body = io.NopCloser(bytes.NewReader(mp.Bytes()))
	rq2, p := g.Check(rq)
	if p != nil || rq2.FormValue("text") != "hello" {
		t.Errorf("handler's FormValue after Check: %v %q", p, rq2.FormValue("text"))
	}
}

func TestFormLimits(t *testing.T) {
	g := tokenGuard(t, func(o *Options) { o.MaxFormBytes = 1000 })
	tok, _ := issue(t, g, "http://example.com/app", sessionHeader, "S")
	post := func(body string) *problem.Problem {
		r := req("POST", "http://example.com/app/notes", false, "Cookie", "sid=S", sessionHeader, "S", "Origin", "http://example.com", "Content-Type", "application/x-www-form-urlencoded")
		r.Body = io.NopCloser(strings.NewReader(body))
		_, p := g.Check(r)
		return p
	}
	if p := post(FieldName + "=" + tok + "&text=" + strings.Repeat("x", 5000)); p != nil {
		t.Errorf("token first in a large form: %v", p.Reason)
	}
	if p := post("text=" + strings.Repeat("x", 5000) + "&" + FieldName + "=" + tok); p == nil || p.Status != 413 || p.Reason != ReasonFormTooLarge {
		t.Errorf("token after the limit: %+v", p)
	}
	// A body limit set earlier is respected.
	r := req("POST", "http://example.com/app/notes", false, "Cookie", "sid=S", sessionHeader, "S", "Origin", "http://example.com", "Content-Type", "application/x-www-form-urlencoded")
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("text="+strings.Repeat("x", 500))), 100)
	if _, p := g.Check(r); p == nil || p.Status != 413 {
		t.Errorf("body over an earlier limit: %+v", p)
	}
}

func TestHandlerRefusal(t *testing.T) {
	g := tokenGuard(t)
	called := false
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "http://example.com/app/notes", false, "Cookie", "sid=1", "Origin", "http://evil.example"))
	if called || w.Code != 403 || w.Header().Get("Content-Type") != problem.ContentType || !strings.Contains(w.Body.String(), `"reason":"csrf_origin_mismatch"`) {
		t.Errorf("refusal: called=%v %d %q %s", called, w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func TestIssuePaths(t *testing.T) {
	g := tokenGuard(t, func(o *Options) { o.IssuePaths = []string{"/app"} })
	h := g.Handler(http.NotFoundHandler())
	for path, want := range map[string]bool{"/app": true, "/app/": false, "/other": false} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req("GET", "http://example.com"+path, false))
		if got := w.Header().Get(HeaderName) != ""; got != want {
			t.Errorf("%s: token issued %v", path, got)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for name, o := range map[string]Options{
		"no keys":            {},
		"short key":          {Keys: [][]byte{make([]byte, 31)}},
		"repeated key":       {Keys: [][]byte{key1, key1}},
		"star origin":        {OriginOnly: true, TrustedOrigins: []string{"*"}},
		"host only":          {OriginOnly: true, TrustedOrigins: []string{"example.com"}},
		"origin with path":   {OriginOnly: true, TrustedOrigins: []string{"https://example.com/"}},
		"public suffix":      {OriginOnly: true, TrustedOrigins: []string{"https://*.co.uk"}},
		"plain http":         {OriginOnly: true, TrustedOrigins: []string{"http://example.com"}},
		"userinfo":           {OriginOnly: true, TrustedOrigins: []string{"https://a@example.com"}},
		"origin-only keys":   {OriginOnly: true, Keys: [][]byte{key1}},
		"origin-only login":  {OriginOnly: true, SessionRoutes: []string{"/login"}},
		"exempt login":       {Keys: [][]byte{key1}, SessionRoutes: []string{"/login"}, Exempt: []string{"/login"}},
		"short timeout":      {Keys: [][]byte{key1}, Timeout: time.Second},
		"samesite none":      {Keys: [][]byte{key1}, CookieSameSite: "none"},
		"prefixed name":      {Keys: [][]byte{key1}, CookieName: "__Host-x"},
		"negative form size": {Keys: [][]byte{key1}, MaxFormBytes: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Options{OriginOnly: true, TrustedOrigins: []string{"http://localhost:3000", "https://*.example.com"}}); err != nil {
		t.Error(err)
	}
}

// Clear (at logout) removes the pre-session and XSRF-TOKEN cookies and the
// token header of the response; a Token after it issues a new pre-session,
// not the request's old one.
func TestClear(t *testing.T) {
	g := tokenGuard(t)
	_, cookies := issue(t, g, "http://example.com/app")
	var pre, xsrf *http.Cookie
	for _, c := range cookies {
		switch c.Name {
		case DefaultCookieName:
			pre = c
		case DefaultXSRFCookieName:
			xsrf = c
		}
	}
	if pre == nil || xsrf == nil {
		t.Fatalf("GET /app set %v; want the pre-session and XSRF-TOKEN cookies", cookies)
	}
	logout := func(again bool) (*httptest.ResponseRecorder, string) {
		var tok string
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Token(r) // a token issued earlier in the response is dropped too
			Clear(r)
			if again {
				tok = Token(r)
			}
			w.WriteHeader(http.StatusSeeOther)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req("POST", "http://example.com/session/logout", false,
			"Cookie", pre.Name+"="+pre.Value+"; "+xsrf.Name+"="+xsrf.Value, "Sec-Fetch-Site", "same-origin", HeaderName, xsrf.Value))
		return w, tok
	}
	w, _ := logout(false)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get(HeaderName); got != "" {
		t.Errorf("X-CSRF-Token %q after Clear", got)
	}
	removed := map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("cookie %s set, not removed: %v", c.Name, c)
		}
		removed[c.Name] = true
	}
	if !removed[DefaultCookieName] || !removed[DefaultXSRFCookieName] || len(removed) != 2 {
		t.Fatalf("removed %v; want the pre-session and XSRF-TOKEN cookies", removed)
	}

	w, tok := logout(true)
	var fresh string
	for _, c := range w.Result().Cookies() {
		if c.Name == DefaultCookieName && c.MaxAge > 0 {
			fresh = c.Value
		}
	}
	if tok == "" || fresh == "" || fresh == pre.Value {
		t.Fatalf("Token after Clear: token %q, pre-session %q (old %q)", tok, fresh, pre.Value)
	}
	// The new token is bound to the new pre-session, not the old one.
	post := func(preID string) string {
		return reason(g, req("POST", "http://example.com/app/notes", false, "Cookie", DefaultCookieName+"="+preID, "Sec-Fetch-Site", "same-origin", HeaderName, tok))
	}
	if got := post(fresh); got != "" {
		t.Errorf("new token with the new pre-session: %q", got)
	}
	if got := post(pre.Value); got != ReasonSessionMismatch {
		t.Errorf("new token with the old pre-session: %q", got)
	}
}
