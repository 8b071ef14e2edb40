package cors_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/internal/testhttp"
	"github.com/bulwark-go/bulwark/problem"
)

// demoOptions are the demo's settings (DESIGN.md): one trusted origin,
// credentials, the API's methods, headers and exposed headers.
func demoOptions() cors.Options {
	return cors.Options{
		AllowedOrigins:   []string{"https://example.com"},
		AllowCredentials: true,
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-API-Key", "X-CSRF-Token", "X-XSRF-Token", "X-Custom-Header"},
		ExposedHeaders:   []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "X-Request-ID"},
	}
}

func mustNew(t testing.TB, o cors.Options) *cors.CORS {
	t.Helper()
	c, err := cors.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// result is one request's outcome through Handler.
type result struct {
	code      int
	header    http.Header
	body      string
	nextCalls int
}

func serve(t testing.TB, c *cors.CORS, method, target string, hdr map[string][]string) result {
	t.Helper()
	var res result
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.nextCalls++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res.code, res.header, res.body = w.Code, w.Result().Header, w.Body.String()
	return res
}

func one(v string) []string { return []string{v} }

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

func assertNoCORSHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range corsHeaders {
		if v, ok := h[k]; ok {
			t.Errorf("unexpected %s: %q", k, v)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	allowAll := func(string) bool { return true }
	tests := []struct {
		name string
		opts cors.Options
		want error
		msg  string // a substring the error must contain
	}{
		{"star with credentials", cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true}, cors.ErrInsecure, "list the exact origins"},
		{"null with credentials", cors.Options{AllowNullOrigin: true, AllowCredentials: true}, cors.ErrInsecure, "sandboxed iframe"},
		{"predicate allowing all with credentials", cors.Options{AllowOriginFunc: allowAll, AllowCredentials: true}, cors.ErrInsecure, "needs AllowOriginFuncDomains"},
		{"predicate allowing all with credentials and domains", cors.Options{AllowOriginFunc: allowAll, AllowOriginFuncDomains: []string{"example.com"}, AllowCredentials: true}, cors.ErrInsecure, "nobody controls"},
		{"exact predicate with credentials but no domains", cors.Options{AllowOriginFunc: func(o string) bool { return o == "https://partner.example" }, AllowCredentials: true}, cors.ErrInsecure, `needs AllowOriginFuncDomains, the domains whose origins the predicate may allow (e.g. []string{"example.com"})`},
		{"suffix predicate without dot", cors.Options{AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }}, cors.ErrInsecure, "AllowOriginFunc allows"},
		// The audit's case: no AllowedOrigins at all, so only the domains
		// give the probes something to imitate.
		{"suffix predicate without dot and no origins", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }}, cors.ErrInsecure, "example.com"},
		{"suffix predicate on a subdomain", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"app.example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".example.com") }}, cors.ErrInsecure, "AllowOriginFunc allows"},
		{"suffix predicate on a private suffix", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"me.github.io"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".github.io") }}, cors.ErrInsecure, "github.io"},
		{"suffix predicate on an ICANN suffix", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"example.co.uk"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".co.uk") }}, cors.ErrInsecure, "co.uk"},
		{"contains predicate", cors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"},
			AllowOriginFunc: func(o string) bool { return strings.Contains(o, "example.com") }}, cors.ErrInsecure, "AllowOriginFunc allows"},
		{"prefix predicate", cors.Options{AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasPrefix(o, "https://example.com") }}, cors.ErrInsecure, "AllowOriginFunc allows"},
		{"prefix predicate without origins", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasPrefix(o, "https://example.com") }}, cors.ErrInsecure, "AllowOriginFunc allows"},
		{"predicate domain public suffix", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"github.io"}, AllowOriginFunc: allowAll}, cors.ErrInsecure, `AllowOriginFuncDomains[0] "github.io" is a public suffix`},
		{"predicate domain TLD without credentials", cors.Options{AllowOriginFuncDomains: []string{"com"}, AllowOriginFunc: allowAll}, cors.ErrInsecure, "public suffix"},
		{"predicate domain origin", cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"https://example.com"}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "bare domain name"},
		{"predicate domain wildcard", cors.Options{AllowOriginFuncDomains: []string{"*.example.com"}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "bare domain name"},
		{"predicate domain IP", cors.Options{AllowOriginFuncDomains: []string{"10.0.0.1"}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "not an IP address"},
		{"predicate domain bad", cors.Options{AllowOriginFuncDomains: []string{"a..b"}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "invalid host"},
		{"predicate domains empty", cors.Options{AllowOriginFuncDomains: []string{}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "is empty"},
		{"predicate domains without predicate", cors.Options{AllowOriginFuncDomains: []string{"example.com"}}, cors.ErrInvalid, "without AllowOriginFunc"},
		{"headers star with credentials", cors.Options{AllowedOrigins: []string{"https://a.example"}, AllowedHeaders: []string{"*"}, AllowCredentials: true}, cors.ErrInsecure, "AllowedHeaders"},
		{"methods star with credentials", cors.Options{AllowedOrigins: []string{"https://a.example"}, AllowedMethods: []string{"*"}, AllowCredentials: true}, cors.ErrInsecure, "AllowedMethods"},
		{"exposed star with credentials", cors.Options{AllowedOrigins: []string{"https://a.example"}, ExposedHeaders: []string{"*"}, AllowCredentials: true}, cors.ErrInsecure, "ExposedHeaders"},
		{"route star with credentials", cors.Options{Routes: map[string]cors.Options{"/x": {AllowedOrigins: []string{"*"}, AllowCredentials: true}}}, cors.ErrInsecure, `Routes["/x"]`},

		{"star among others", cors.Options{AllowedOrigins: []string{"*", "https://a.example"}}, cors.ErrInvalid, "only entry"},
		{"star with predicate", cors.Options{AllowedOrigins: []string{"*"}, AllowOriginFunc: allowAll}, cors.ErrInvalid, "only entry"},
		{"trailing slash", cors.Options{AllowedOrigins: []string{"https://example.com/"}}, cors.ErrInvalid, `drop the trailing slash ("https://example.com")`},
		{"path", cors.Options{AllowedOrigins: []string{"https://example.com/app"}}, cors.ErrInvalid, "without path"},
		{"query", cors.Options{AllowedOrigins: []string{"https://example.com?x=1"}}, cors.ErrInvalid, "without path"},
		{"fragment", cors.Options{AllowedOrigins: []string{"https://example.com#x"}}, cors.ErrInvalid, "without path"},
		{"userinfo", cors.Options{AllowedOrigins: []string{"https://user:pw@example.com"}}, cors.ErrInvalid, "user information"},
		{"no scheme", cors.Options{AllowedOrigins: []string{"example.com"}}, cors.ErrInvalid, "scheme://host"},
		{"bad scheme", cors.Options{AllowedOrigins: []string{"1http://example.com"}}, cors.ErrInvalid, "invalid scheme"},
		{"no host", cors.Options{AllowedOrigins: []string{"https://"}}, cors.ErrInvalid, "needs a host"},
		{"space", cors.Options{AllowedOrigins: []string{"https://exa mple.com"}}, cors.ErrInvalid, "space"},
		{"non-ASCII host", cors.Options{AllowedOrigins: []string{"https://bücher.example"}}, cors.ErrInvalid, "punycode"},
		{"empty", cors.Options{AllowedOrigins: []string{" "}}, cors.ErrInvalid, "empty origin"},
		{"null listed", cors.Options{AllowedOrigins: []string{"null"}}, cors.ErrInvalid, "AllowNullOrigin"},
		{"file scheme", cors.Options{AllowedOrigins: []string{"file://host"}}, cors.ErrInvalid, "opaque origin"},
		{"port zero", cors.Options{AllowedOrigins: []string{"https://example.com:0"}}, cors.ErrInvalid, "invalid port"},
		{"port too big", cors.Options{AllowedOrigins: []string{"https://example.com:65536"}}, cors.ErrInvalid, "invalid port"},
		{"port not numeric", cors.Options{AllowedOrigins: []string{"https://example.com:https"}}, cors.ErrInvalid, "invalid port"},
		{"empty port", cors.Options{AllowedOrigins: []string{"https://example.com:"}}, cors.ErrInvalid, "empty port"},
		{"bad IPv4", cors.Options{AllowedOrigins: []string{"http://1.2.3"}}, cors.ErrInvalid, "IPv4"},
		{"octal IPv4", cors.Options{AllowedOrigins: []string{"http://0x7f.0.0.1"}}, cors.ErrInvalid, "IPv4"},
		{"bad IPv6", cors.Options{AllowedOrigins: []string{"http://[::g]"}}, cors.ErrInvalid, "IPv6"},
		{"IPv6 zone", cors.Options{AllowedOrigins: []string{"http://[fe80::1%25eth0]"}}, cors.ErrInvalid, "IPv6"},
		{"unterminated IPv6", cors.Options{AllowedOrigins: []string{"http://[::1"}}, cors.ErrInvalid, "IPv6"},
		{"empty label", cors.Options{AllowedOrigins: []string{"https://a..example.com"}}, cors.ErrInvalid, "invalid host"},
		{"bad host char", cors.Options{AllowedOrigins: []string{"https://a!b.example.com"}}, cors.ErrInvalid, "invalid host"},
		{"wildcard TLD", cors.Options{AllowedOrigins: []string{"https://*.com"}}, cors.ErrInsecure, `"com" is a public suffix`},
		{"wildcard TLD with credentials", cors.Options{AllowedOrigins: []string{"https://*.com"}, AllowCredentials: true}, cors.ErrInsecure, "credentialed responses"},
		{"wildcard unknown TLD", cors.Options{AllowedOrigins: []string{"https://*.internal"}}, cors.ErrInsecure, "default rule"},
		{"wildcard ICANN suffix with credentials", cors.Options{AllowedOrigins: []string{"https://*.co.uk"}, AllowCredentials: true}, cors.ErrInsecure, `"co.uk" is a public suffix (in the ICANN section`},
		{"wildcard ICANN suffix trailing dot", cors.Options{AllowedOrigins: []string{"https://*.co.uk."}, AllowCredentials: true}, cors.ErrInsecure, `"co.uk" is a public suffix`},
		{"wildcard ICANN wildcard-rule suffix", cors.Options{AllowedOrigins: []string{"https://*.foo.ck"}, AllowCredentials: true}, cors.ErrInsecure, "public suffix"},
		{"wildcard github.io with credentials", cors.Options{AllowedOrigins: []string{"https://*.github.io"}, AllowCredentials: true}, cors.ErrInsecure, `"github.io" is a public suffix (in the private section`},
		{"wildcard herokuapp with credentials", cors.Options{AllowedOrigins: []string{"https://*.herokuapp.com"}, AllowCredentials: true}, cors.ErrInsecure, "anyone can register a site under it"},
		{"wildcard upper-case private suffix with credentials", cors.Options{AllowedOrigins: []string{"HTTPS://*.GitHub.IO"}, AllowCredentials: true}, cors.ErrInsecure, "public suffix"},
		{"wildcard private suffix with port", cors.Options{AllowedOrigins: []string{"https://*.s3.amazonaws.com:8443"}, AllowCredentials: true}, cors.ErrInsecure, "public suffix"},
		{"wildcard github.io without credentials", cors.Options{AllowedOrigins: []string{"https://*.github.io"}}, cors.ErrInsecure, `say so with "*"`},
		{"http origin with credentials", cors.Options{AllowedOrigins: []string{"http://example.com"}, AllowCredentials: true}, cors.ErrInsecure, `TLS origin "https://example.com"`},
		{"http origin with port and credentials", cors.Options{AllowedOrigins: []string{"https://a.example", "HTTP://App.Example.com:8080"}, AllowCredentials: true}, cors.ErrInsecure, `AllowedOrigins[1] "HTTP://App.Example.com:8080" with AllowCredentials: a page served over plain http://`},
		{"http pattern with credentials", cors.Options{AllowedOrigins: []string{"http://*.example.com"}, AllowCredentials: true}, cors.ErrInsecure, `"https://*.example.com"`},
		{"http private address with credentials", cors.Options{AllowedOrigins: []string{"http://192.168.1.10:3000"}, AllowCredentials: true}, cors.ErrInsecure, "plain http://"},
		{"http look-alike of localhost with credentials", cors.Options{AllowedOrigins: []string{"http://localhost.example.com"}, AllowCredentials: true}, cors.ErrInsecure, "plain http://"},
		{"http 128.0.0.1 with credentials", cors.Options{AllowedOrigins: []string{"http://128.0.0.1"}, AllowCredentials: true}, cors.ErrInsecure, "plain http://"},
		{"ws origin with credentials", cors.Options{AllowedOrigins: []string{"ws://example.com"}, AllowCredentials: true}, cors.ErrInsecure, `"wss://example.com"`},
		{"route http origin with credentials", cors.Options{Routes: map[string]cors.Options{"/x": {AllowedOrigins: []string{"http://partner.example"}, AllowCredentials: true}}}, cors.ErrInsecure, `Routes["/x"]`},
		{"route wildcard public suffix", cors.Options{Routes: map[string]cors.Options{"/x": {AllowedOrigins: []string{"https://*.vercel.app"}, AllowCredentials: true}}}, cors.ErrInsecure, `Routes["/x"]`},
		{"wildcard inside label", cors.Options{AllowedOrigins: []string{"https://foo*.example.com"}}, cors.ErrInvalid, "leftmost label"},
		{"wildcard suffix label", cors.Options{AllowedOrigins: []string{"https://*example.com"}}, cors.ErrInvalid, "leftmost label"},
		{"double wildcard", cors.Options{AllowedOrigins: []string{"https://*.*.example.com"}}, cors.ErrInvalid, "only one wildcard"},
		{"wildcard scheme", cors.Options{AllowedOrigins: []string{"*://example.com"}}, cors.ErrInvalid, "invalid scheme"},
		{"wildcard alone host", cors.Options{AllowedOrigins: []string{"https://*"}}, cors.ErrInvalid, "leftmost label"},
		{"wildcard over IP", cors.Options{AllowedOrigins: []string{"https://*.1.2.3.4"}}, cors.ErrInvalid, "IP address"},
		{"wildcard port", cors.Options{AllowedOrigins: []string{"https://*.example.com:*"}}, cors.ErrInvalid, "invalid port"},
		{"forbidden method", cors.Options{AllowedMethods: []string{"trace"}}, cors.ErrInvalid, "forbidden method"},
		{"method not a token", cors.Options{AllowedMethods: []string{"GET POST"}}, cors.ErrInvalid, "not a method"},
		{"header not a token", cors.Options{AllowedHeaders: []string{"X Bad"}}, cors.ErrInvalid, "not a header"},
		{"header too long", cors.Options{AllowedHeaders: []string{strings.Repeat("x", 129)}}, cors.ErrInvalid, "longer than"},
		{"expose set-cookie", cors.Options{ExposedHeaders: []string{"set-cookie"}}, cors.ErrInvalid, "never expose"},
		{"preflight status 301", cors.Options{PreflightStatus: 301}, cors.ErrInvalid, "2xx"},
		{"preflight status 403", cors.Options{PreflightStatus: 403}, cors.ErrInvalid, "2xx"},
		{"route without slash", cors.Options{Routes: map[string]cors.Options{"api": {}}}, cors.ErrInvalid, "starting with '/'"},
		{"route root", cors.Options{Routes: map[string]cors.Options{"/": {}}}, cors.ErrInvalid, "top-level"},
		{"route unclean", cors.Options{Routes: map[string]cors.Options{"/a/../b": {}}}, cors.ErrInvalid, "clean path"},
		{"route duplicate", cors.Options{Routes: map[string]cors.Options{"/a": {}, "/a/": {}}}, cors.ErrInvalid, "same prefix"},
		{"route nested", cors.Options{Routes: map[string]cors.Options{"/a": {Routes: map[string]cors.Options{"/a/b": {}}}}}, cors.ErrInvalid, "cannot nest"},
		{"route bad origin", cors.Options{Routes: map[string]cors.Options{"/a": {AllowedOrigins: []string{"https://x/"}}}}, cors.ErrInvalid, `Routes["/a"]: invalid`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cors.New(tc.opts)
			if err == nil {
				t.Fatalf("New accepted %+v", tc.opts)
			}
			if c != nil {
				t.Errorf("New returned a policy with the error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "cors: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	exact := func(o string) bool { return o == "https://partner.example" }
	partner := []string{"partner.example"}
	for name, o := range map[string]cors.Options{
		"zero value":                 {},
		"demo":                       demoOptions(),
		"star without credentials":   {AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}, AllowedMethods: []string{"*"}, ExposedHeaders: []string{"*"}},
		"null without credentials":   {AllowNullOrigin: true},
		"exact predicate with creds": {AllowOriginFunc: exact, AllowCredentials: true, AllowOriginFuncDomains: partner},
		"dotted-suffix predicate with creds": {AllowedOrigins: []string{"https://example.com"}, AllowCredentials: true, AllowOriginFuncDomains: []string{"Example.COM."},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".example.com") && strings.HasPrefix(o, "https://") }},
		"dotted-suffix predicate on a subdomain with creds": {AllowCredentials: true, AllowOriginFuncDomains: []string{"app.example.com"},
			AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".app.example.com") }},
		"predicate without credentials":                          {AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }},
		"predicate on a registrable private domain":              {AllowCredentials: true, AllowOriginFuncDomains: []string{"me.github.io", "localhost"}, AllowOriginFunc: exact},
		"localhost wildcard":                                     {AllowedOrigins: []string{"http://*.localhost:3000"}, AllowCredentials: true},
		"wildcard under a registrable domain on a public suffix": {AllowedOrigins: []string{"https://*.example.co.uk", "https://*.myapp.github.io", "https://*.corp.internal"}, AllowCredentials: true},
		"loopback http origins with credentials":                 {AllowedOrigins: []string{"http://localhost", "http://localhost:3000", "http://app.localhost:5173", "http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:8080"}, AllowCredentials: true},
		"http origin without credentials":                        {AllowedOrigins: []string{"http://example.com", "http://*.example.org"}},
		"custom scheme with credentials":                         {AllowedOrigins: []string{"chrome-extension://abcdefghijklmnop", "capacitor://localhost"}, AllowCredentials: true},
		"exact origin on a private suffix":                       {AllowedOrigins: []string{"https://myapp.github.io", "https://myapp.herokuapp.com"}, AllowCredentials: true},
		"other scheme":                                           {AllowedOrigins: []string{"chrome-extension://abcdefghijklmnop", "capacitor://localhost"}},
		"route":                                                  {Routes: map[string]cors.Options{"/public/": {AllowedOrigins: []string{"*"}}}},
		"duplicate entries":                                      {AllowedOrigins: []string{"https://a.example", "HTTPS://A.EXAMPLE:443", "https://*.b.example", "https://*.B.example"}},
		"preflight status 200":                                   {PreflightStatus: 200},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cors.New(o); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestOriginMatching(t *testing.T) {
	c := mustNew(t, cors.Options{
		AllowedOrigins: []string{
			"https://example.com",
			"HTTPS://Upper.Example.COM:443",
			"http://localhost:3000",
			"https://trailing.example.",
			"https://*.example.org",
			"https://*.example.net:8443",
			"http://[0:0:0:0:0:0:0:1]:8080",
			"http://127.0.0.1:9000",
		},
		AllowCredentials:       true,
		AllowOriginFunc:        func(o string) bool { return o == "https://partner.example" },
		AllowOriginFuncDomains: []string{"partner.example"},
	})
	tests := []struct {
		origin string
		allow  bool
	}{
		// exact entries, canonical form only
		{"https://example.com", true},
		{"http://example.com", false},           // scheme differs
		{"https://example.com:443", false},      // browsers never send the default port
		{"https://example.com:8443", false},     // other port
		{"https://EXAMPLE.com", false},          // browsers lower-case hosts
		{"HTTPS://example.com", false},          // and schemes
		{"https://example.com.", false},         // trailing dot is another origin
		{"https://example.com/", false},         // not a serialized origin
		{"https://user@example.com", false},     // userinfo
		{"https://example.com.evil.net", false}, // suffix trick
		{"https://evilexample.com", false},      // prefix trick
		{"https://sub.example.com", false},      // not listed, no pattern for .com
		{"null", false},
		{"", false},
		{"https://upper.example.com", true}, // entry normalised at construction
		{"http://localhost:3000", true},
		{"http://localhost:3001", false},
		{"http://localhost", false},
		{"https://localhost:3000", false},
		{"https://trailing.example.", true},
		{"https://trailing.example", false}, // the dotless form is not listed
		{"http://[::1]:8080", true},
		{"http://[0:0:0:0:0:0:0:1]:8080", false},
		{"http://127.0.0.1:9000", true},
		{"http://127.1:9000", false},
		// patterns: proper subdomains only
		{"https://a.example.org", true},
		{"https://a.b.c.example.org", true},
		{"https://x-y_z.example.org", true},
		{"https://xn--bcher-kva.example.org", true},
		{"https://example.org", false},
		{"https://.example.org", false},
		{"https://a..example.org", false},
		{"https://-.example.org", true}, // a label browsers accept is still a subdomain
		{"https://evil.com/.example.org", false},
		{"https://evil.com?.example.org", false},
		{"https://evil.com#.example.org", false},
		{"https://evil.com:443.example.org", false},
		{"https://user@a.example.org", false},
		{"https://evil.com\\.example.org", false},
		{"https://a.example.org.evil.net", false},
		{"https://aexample.org", false},
		{"https://evilexample.org", false},
		{"http://a.example.org", false},
		{"https://a.example.org:8443", false},
		{"https://a.example.org:443", false},
		{"https://A.example.org", false},
		{"https://a.example.org.", false},
		{"https://a%2e.example.org", false},
		{"https://" + strings.Repeat("a", 64) + ".example.org", false},  // label too long
		{"https://" + strings.Repeat("a.", 130) + "example.org", false}, // host too long
		{"https://a.example.net:8443", true},
		{"https://a.example.net", false},
		{"https://a.example.net:9443", false},
		{"https://example.net:8443", false},
		// predicate
		{"https://partner.example", true},
		{"https://partner.example:443", false}, // never reaches the predicate
		{"https://PARTNER.example", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			for _, method := range []string{"GET", "OPTIONS"} {
				hdr := map[string][]string{"Origin": one(tc.origin)}
				if method == "OPTIONS" {
					hdr["Access-Control-Request-Method"] = one("POST")
				}
				if tc.origin == "" {
					hdr["Origin"] = one("")
				}
				r := httptest.NewRequest(method, "/x", nil)
				for k, v := range hdr {
					r.Header[k] = v
				}
				d := c.Decide(r)
				if d.Allowed != tc.allow {
					t.Fatalf("%s: Allowed = %v, want %v (reason %q)", method, d.Allowed, tc.allow, d.Reason)
				}
				if tc.allow && d.AllowOrigin() != tc.origin {
					t.Errorf("%s: AllowOrigin = %q, want the request's origin", method, d.AllowOrigin())
				}
				if !tc.allow && (d.Reason == "" || d.AllowOrigin() != "") {
					t.Errorf("%s: refused without reason or with an origin: %+v", method, d)
				}
			}
		})
	}
}

func TestActualRequest(t *testing.T) {
	c := mustNew(t, demoOptions())
	tests := []struct {
		name      string
		method    string
		hdr       map[string][]string
		wantACAO  string
		wantVary  []string
		wantNext  int
		wantCreds bool
	}{
		{"allowed GET", "GET", map[string][]string{"Origin": one("https://example.com")}, "https://example.com", []string{"Origin"}, 1, true},
		{"allowed POST with custom header", "POST", map[string][]string{"Origin": one("https://example.com"), "X-Custom-Header": one("1")}, "https://example.com", []string{"Origin"}, 1, true},
		{"allowed PATCH", "PATCH", map[string][]string{"Origin": one("https://example.com")}, "https://example.com", []string{"Origin"}, 1, true},
		{"no origin", "GET", nil, "", []string{"Origin"}, 1, false},
		{"disallowed origin", "GET", map[string][]string{"Origin": one("https://evil.example")}, "", []string{"Origin"}, 1, false},
		{"null origin", "POST", map[string][]string{"Origin": one("null")}, "", []string{"Origin"}, 1, false},
		{"two origins", "GET", map[string][]string{"Origin": {"https://example.com", "https://evil.example"}}, "", []string{"Origin"}, 1, false},
		{"method not allowed", "OPTIONS", map[string][]string{"Origin": one("https://example.com")}, "", []string{"Origin"}, 1, false},
		{"lower-case method", "patch", map[string][]string{"Origin": one("https://example.com")}, "", []string{"Origin"}, 1, false},
		{"existing Vary kept", "GET", map[string][]string{"Origin": one("https://example.com")}, "https://example.com", []string{"Accept-Encoding", "Origin"}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res result
			h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res.nextCalls++
				w.WriteHeader(http.StatusOK)
			}))
			r := httptest.NewRequest(tc.method, "/api/items", nil)
			for k, v := range tc.hdr {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			if tc.name == "existing Vary kept" {
				w.Header().Set("Vary", "Accept-Encoding")
			}
			h.ServeHTTP(w, r)
			got := w.Result().Header
			if res.nextCalls != tc.wantNext {
				t.Errorf("next called %d times, want %d", res.nextCalls, tc.wantNext)
			}
			if w.Code != http.StatusOK {
				t.Errorf("status %d", w.Code)
			}
			if g := got.Get("Access-Control-Allow-Origin"); g != tc.wantACAO {
				t.Errorf("ACAO = %q, want %q", g, tc.wantACAO)
			}
			if g := strings.Join(got.Values("Vary"), "|"); g != strings.Join(tc.wantVary, "|") {
				t.Errorf("Vary = %q, want %q", g, tc.wantVary)
			}
			if tc.wantACAO == "" {
				assertNoCORSHeaders(t, got)
				return
			}
			if g := got.Get("Access-Control-Allow-Credentials"); (g == "true") != tc.wantCreds {
				t.Errorf("ACAC = %q", g)
			}
			if g := got.Get("Access-Control-Expose-Headers"); g != "Ratelimit-Limit, Ratelimit-Remaining, Ratelimit-Reset, Retry-After, X-Request-Id" {
				t.Errorf("ACEH = %q", g)
			}
			for _, k := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
				if _, ok := got[k]; ok {
					t.Errorf("actual response carries preflight header %s", k)
				}
			}
		})
	}
}

func TestOptionsWithoutRequestMethodIsPassedOn(t *testing.T) {
	c := mustNew(t, demoOptions())
	res := serve(t, c, "OPTIONS", "/api/items", map[string][]string{"Origin": one("https://example.com")})
	if res.nextCalls != 1 || res.code != 200 {
		t.Fatalf("next calls %d, status %d: OPTIONS without Access-Control-Request-Method must reach the handler", res.nextCalls, res.code)
	}
	// A preflight-looking request without Origin is not CORS either.
	res = serve(t, c, "OPTIONS", "/api/items", map[string][]string{"Access-Control-Request-Method": one("PUT")})
	if res.nextCalls != 1 {
		t.Fatalf("OPTIONS with Access-Control-Request-Method but no Origin was not passed on")
	}
	assertNoCORSHeaders(t, res.header)
}

const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

func TestPreflight(t *testing.T) {
	mem := audit.NewMemory()
	o := demoOptions()
	o.Audit = mem
	c := mustNew(t, o)
	commas := strings.Repeat(",", 1024)
	tests := []struct {
		name     string
		origin   []string
		acrm     []string
		acrh     []string
		wantACAH string // "" means absent
		reason   string // "" means allowed
	}{
		{"simple", one("https://example.com"), one("PUT"), nil, "", ""},
		{"with headers", one("https://example.com"), one("PUT"), one("content-type,x-custom-header"), "Authorization, Content-Type, X-Api-Key, X-Csrf-Token, X-Xsrf-Token, X-Custom-Header", ""},
		{"mixed-case headers", one("https://example.com"), one("DELETE"), one("X-Custom-Header,AUTHORIZATION"), "Authorization, Content-Type, X-Api-Key, X-Csrf-Token, X-Xsrf-Token, X-Custom-Header", ""},
		{"headers with spaces", one("https://example.com"), one("POST"), one(" authorization ,\tcontent-type "), "Authorization, Content-Type, X-Api-Key, X-Csrf-Token, X-Xsrf-Token, X-Custom-Header", ""},
		{"headers split over lines", one("https://example.com"), one("PATCH"), []string{"authorization", "x-api-key"}, "Authorization, Content-Type, X-Api-Key, X-Csrf-Token, X-Xsrf-Token, X-Custom-Header", ""},
		{"empty header list", one("https://example.com"), one("PUT"), one(""), "", ""},
		{"16 commas tolerated", one("https://example.com"), one("PUT"), one(strings.Repeat(",", 15)), "", ""},
		{"GET preflight", one("https://example.com"), one("GET"), one("x-custom-header"), "Authorization, Content-Type, X-Api-Key, X-Csrf-Token, X-Xsrf-Token, X-Custom-Header", ""},

		{"17 empty elements", one("https://example.com"), one("PUT"), one(strings.Repeat(",", 16)), "", cors.ReasonMalformed},
		{"1024 commas", one("https://example.com"), one("PUT"), one(commas), "", cors.ReasonMalformed},
		{"1024 commas between names", one("https://example.com"), one("PUT"), one("authorization" + commas + "content-type"), "", cors.ReasonMalformed},
		{"header not allowed", one("https://example.com"), one("PUT"), one("x-evil"), "", cors.ReasonHeaderNotAllowed},
		{"one of two not allowed", one("https://example.com"), one("PUT"), one("authorization,cookie"), "", cors.ReasonHeaderNotAllowed},
		{"too many names", one("https://example.com"), one("PUT"), one(strings.Repeat("authorization,", 7) + "authorization"), "", cors.ReasonHeaderNotAllowed},
		{"over-long name", one("https://example.com"), one("PUT"), one(strings.Repeat("a", 10000)), "", cors.ReasonHeaderNotAllowed},
		{"name inside spaces", one("https://example.com"), one("PUT"), one("authori zation"), "", cors.ReasonHeaderNotAllowed},
		{"method not allowed", one("https://example.com"), one("OPTIONS"), nil, "", cors.ReasonMethodNotAllowed},
		{"lower-case put is normalised by fetch", one("https://example.com"), one("put"), nil, "", cors.ReasonMethodNotAllowed},
		{"lower-case patch is case-sensitive", one("https://example.com"), one("patch"), nil, "", cors.ReasonMethodNotAllowed},
		{"empty method", one("https://example.com"), one(""), nil, "", cors.ReasonMethodNotAllowed},
		{"forbidden method", one("https://example.com"), one("TRACE"), nil, "", cors.ReasonMethodNotAllowed},
		{"two methods", one("https://example.com"), []string{"PUT", "DELETE"}, nil, "", cors.ReasonMalformed},
		{"two origins", []string{"https://example.com", "https://example.com"}, one("PUT"), nil, "", cors.ReasonMalformed},
		{"disallowed origin", one("https://evil.example"), one("PUT"), nil, "", cors.ReasonOriginNotAllowed},
		{"look-alike origin", one("https://example.com.evil.net"), one("PUT"), one("authorization"), "", cors.ReasonOriginNotAllowed},
		{"null origin", one("null"), one("PUT"), nil, "", cors.ReasonNullOrigin},
		{"http origin", one("http://example.com"), one("PUT"), nil, "", cors.ReasonOriginNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(mem.Events())
			hdr := map[string][]string{"Origin": tc.origin, "Access-Control-Request-Method": tc.acrm}
			if tc.acrh != nil {
				hdr["Access-Control-Request-Headers"] = tc.acrh
			}
			res := serve(t, c, "OPTIONS", "/api/posts/1", hdr)
			if res.nextCalls != 0 {
				t.Fatalf("a preflight reached the handler")
			}
			if g := res.header.Get("Vary"); g != preflightVary {
				t.Errorf("Vary = %q, want %q", g, preflightVary)
			}
			events := mem.Events()[before:]
			if tc.reason != "" {
				if res.code != http.StatusForbidden {
					t.Fatalf("status %d, want 403", res.code)
				}
				assertNoCORSHeaders(t, res.header)
				if ct := res.header.Get("Content-Type"); ct != problem.ContentType {
					t.Errorf("Content-Type %q", ct)
				}
				var body map[string]any
				if err := json.Unmarshal([]byte(res.body), &body); err != nil {
					t.Fatalf("body %q: %v", res.body, err)
				}
				if body["type"] != problem.TypeForbidden || body["status"] != 403.0 {
					t.Errorf("problem %v", body)
				}
				if strings.Contains(res.body, "example.com") || strings.Contains(res.body, "Authorization") {
					t.Errorf("problem leaks the request or the policy: %s", res.body)
				}
				if len(events) != 1 || events[0].Reason != tc.reason || events[0].Guard != "cors" || events[0].Decision != audit.Deny || events[0].Status != 403 {
					t.Fatalf("audit events %+v, want one %q denial", events, tc.reason)
				}
				return
			}
			if len(events) != 0 {
				t.Errorf("allowed preflight audited: %+v", events)
			}
			if res.code != http.StatusNoContent || res.body != "" {
				t.Fatalf("status %d body %q, want 204 and no body", res.code, res.body)
			}
			want := map[string]string{
				"Access-Control-Allow-Origin":      "https://example.com",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, HEAD, POST, PUT, PATCH, DELETE",
				"Access-Control-Allow-Headers":     tc.wantACAH,
				"Access-Control-Max-Age":           "300",
			}
			for k, v := range want {
				if g := strings.Join(res.header.Values(k), ","); g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
			for _, k := range []string{"Access-Control-Expose-Headers", "Access-Control-Allow-Private-Network"} {
				if _, ok := res.header[k]; ok {
					t.Errorf("unexpected %s", k)
				}
			}
		})
	}
}

func TestPreflightOptions(t *testing.T) {
	pf := func(origin string, extra map[string][]string) map[string][]string {
		h := map[string][]string{"Origin": one(origin), "Access-Control-Request-Method": one("POST")}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name   string
		opts   cors.Options
		hdr    map[string][]string
		status int
		want   map[string]string // header → value ("" = absent)
	}{
		{"max age default", cors.Options{AllowedOrigins: []string{"https://a.example"}}, pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Max-Age": "300", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "GET, HEAD, POST"}},
		{"max age negative", cors.Options{AllowedOrigins: []string{"https://a.example"}, MaxAge: -1}, pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Max-Age": "0"}},
		{"max age rounds up", cors.Options{AllowedOrigins: []string{"https://a.example"}, MaxAge: 1500 * time.Millisecond}, pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Max-Age": "2"}},
		{"max age hour", cors.Options{AllowedOrigins: []string{"https://a.example"}, MaxAge: time.Hour}, pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Max-Age": "3600"}},
		{"status 200", cors.Options{AllowedOrigins: []string{"https://a.example"}, PreflightStatus: 200}, pf("https://a.example", nil), 200,
			map[string]string{"Access-Control-Allow-Origin": "https://a.example"}},
		{"methods normalised", cors.Options{AllowedOrigins: []string{"https://a.example"}, AllowedMethods: []string{"get", "post", "Patch", "GET"}}, pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Allow-Methods": "GET, POST, Patch"}},
		{"private network opted in", cors.Options{AllowedOrigins: []string{"https://a.example"}, AllowPrivateNetwork: true},
			pf("https://a.example", map[string][]string{"Access-Control-Request-Private-Network": one("true")}), 204,
			map[string]string{"Access-Control-Allow-Private-Network": "true", "Vary": preflightVary + ", Access-Control-Request-Private-Network"}},
		{"private network not requested", cors.Options{AllowedOrigins: []string{"https://a.example"}, AllowPrivateNetwork: true},
			pf("https://a.example", nil), 204,
			map[string]string{"Access-Control-Allow-Private-Network": "", "Vary": preflightVary + ", Access-Control-Request-Private-Network"}},
		{"private network not opted in", cors.Options{AllowedOrigins: []string{"https://a.example"}},
			pf("https://a.example", map[string][]string{"Access-Control-Request-Private-Network": one("true")}), 204,
			map[string]string{"Access-Control-Allow-Private-Network": "", "Vary": preflightVary}},
		{"null allowed", cors.Options{AllowNullOrigin: true}, pf("null", nil), 204,
			map[string]string{"Access-Control-Allow-Origin": "null"}},
		{"star", cors.Options{AllowedOrigins: []string{"*"}}, pf("https://anyone.example", nil), 204,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
		{"star covers null", cors.Options{AllowedOrigins: []string{"*"}}, pf("null", nil), 204,
			map[string]string{"Access-Control-Allow-Origin": "*"}},
		{"star headers echo", cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}, AllowedMethods: []string{"*"}},
			pf("https://anyone.example", map[string][]string{"Access-Control-Request-Headers": one("authorization,x-anything")}), 204,
			map[string]string{"Access-Control-Allow-Headers": "authorization,x-anything", "Access-Control-Allow-Methods": "*"}},
		{"star headers refuse junk", cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
			pf("https://anyone.example", map[string][]string{"Access-Control-Request-Headers": one("a b")}), 403,
			map[string]string{"Access-Control-Allow-Origin": ""}},
		{"star headers refuse commas", cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
			pf("https://anyone.example", map[string][]string{"Access-Control-Request-Headers": one(strings.Repeat(",", 1024))}), 403,
			map[string]string{"Access-Control-Allow-Origin": ""}},
		{"star methods refuse CONNECT", cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"}},
			map[string][]string{"Origin": one("https://x.example"), "Access-Control-Request-Method": one("CONNECT")}, 403,
			map[string]string{"Access-Control-Allow-Origin": ""}},
		{"no origins configured", cors.Options{}, pf("https://a.example", nil), 403,
			map[string]string{"Access-Control-Allow-Origin": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, mustNew(t, tc.opts), "OPTIONS", "/", tc.hdr)
			if res.code != tc.status || res.nextCalls != 0 {
				t.Fatalf("status %d next %d, want %d and 0", res.code, res.nextCalls, tc.status)
			}
			for k, v := range tc.want {
				if g := strings.Join(res.header.Values(k), ", "); g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

func TestStarActualDoesNotVary(t *testing.T) {
	c := mustNew(t, cors.Options{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-Request-ID"}})
	for _, origin := range []string{"", "https://a.example", "null"} {
		hdr := map[string][]string{}
		if origin != "" {
			hdr["Origin"] = one(origin)
		}
		res := serve(t, c, "GET", "/", hdr)
		if g := res.header.Get("Access-Control-Allow-Origin"); g != "*" {
			t.Errorf("origin %q: ACAO %q, want *", origin, g)
		}
		if v := res.header.Values("Vary"); len(v) != 0 {
			t.Errorf("origin %q: Vary %q on a response that does not vary", origin, v)
		}
		if g := res.header.Get("Access-Control-Expose-Headers"); g != "X-Request-Id" {
			t.Errorf("ACEH %q", g)
		}
	}
}

// TestNoVaryMeansSameForEveryOrigin checks the promise a response without
// "Vary: Origin" makes to a shared cache: any Origin header (none, one,
// several, null, junk) gets the same CORS headers. A policy allowing every
// origin once answered two Origin lines with neither
// Access-Control-Allow-Origin nor Vary, so a cache could store that answer
// and serve it to real cross-origin readers, whose reads then failed.
func TestNoVaryMeansSameForEveryOrigin(t *testing.T) {
	origins := [][]string{nil, one("https://a.example"), {"https://a.example", "https://b.example"},
		{"https://a.example", "https://a.example"}, one("null"), one(""), one("not an origin")}
	for name, o := range map[string]cors.Options{
		"star":         {AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-Request-ID"}},
		"star any":     {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"}, AllowedHeaders: []string{"*"}},
		"star route":   {AllowedOrigins: []string{"https://a.example"}, Routes: map[string]cors.Options{"/public": {AllowedOrigins: []string{"*"}}}},
		"listed":       {AllowedOrigins: []string{"https://a.example"}},
		"credentialed": demoOptions(),
	} {
		c := mustNew(t, o)
		for _, method := range []string{"GET", "POST", "PUT", "OPTIONS"} {
			for _, target := range []string{"/", "/public/feed"} {
				var first http.Header
				for i, origin := range origins {
					hdr := map[string][]string{}
					if origin != nil {
						hdr["Origin"] = origin
					}
					res := serve(t, c, method, target, hdr)
					if slicesContain(res.header.Values("Vary"), "Origin") {
						first = nil
						break // this response varies; its cache key includes Origin
					}
					got := http.Header{}
					for _, k := range corsHeaders {
						if v, ok := res.header[k]; ok {
							got[k] = v
						}
					}
					if i == 0 {
						first = got
						continue
					}
					if a, b := fmtHeader(first), fmtHeader(got); a != b {
						t.Errorf("%s %s %s: without Vary, Origin %q gets %s, no Origin gets %s", name, method, target, origin, b, a)
					}
				}
			}
		}
	}
	t.Run("two Origin lines with star", func(t *testing.T) {
		c := mustNew(t, cors.Options{AllowedOrigins: []string{"*"}})
		res := serve(t, c, "GET", "/", map[string][]string{"Origin": {"https://a.example", "https://b.example"}})
		if g := res.header.Get("Access-Control-Allow-Origin"); g != "*" {
			t.Errorf("ACAO %q, want *", g)
		}
		res = serve(t, c, "OPTIONS", "/", map[string][]string{"Origin": {"https://a.example", "https://b.example"}, "Access-Control-Request-Method": one("POST")})
		if res.code != 204 || res.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight %d %v", res.code, res.header)
		}
	})
}

func slicesContain(vs []string, want string) bool {
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), want) {
				return true
			}
		}
	}
	return false
}

func fmtHeader(h http.Header) string {
	var b strings.Builder
	for _, k := range corsHeaders {
		if v, ok := h[k]; ok {
			b.WriteString(k + ": " + strings.Join(v, ", ") + "; ")
		}
	}
	return "{" + b.String() + "}"
}

func TestErrorHandlerShapesDenials(t *testing.T) {
	var got *problem.Problem
	o := demoOptions()
	o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
		got = p
		w.WriteHeader(p.Status)
	}
	c := mustNew(t, o)
	res := serve(t, c, "OPTIONS", "/", map[string][]string{"Origin": one("https://evil.example"), "Access-Control-Request-Method": one("PUT")})
	if got == nil || got.Status != 403 || got.Reason != cors.ReasonOriginNotAllowed || res.code != 403 {
		t.Fatalf("hook got %+v, status %d", got, res.code)
	}
	if got.Err == nil || !strings.Contains(got.Err.Error(), "https://evil.example") {
		t.Errorf("internal error should name the origin for the log: %v", got.Err)
	}
}

func TestRoutes(t *testing.T) {
	mem := audit.NewMemory()
	o := demoOptions()
	o.Audit = mem
	o.Routes = map[string]cors.Options{
		"/public":           {AllowedOrigins: []string{"*"}},
		"/public/partners/": {AllowedOrigins: []string{"https://partner.example"}, AllowCredentials: true},
		"/internal":         {}, // no cross-origin access at all
	}
	c := mustNew(t, o)
	tests := []struct {
		path, origin, want string
	}{
		{"/api/items", "https://example.com", "https://example.com"},
		{"/api/items", "https://partner.example", ""},
		{"/public", "https://anyone.example", "*"},
		{"/public/", "https://anyone.example", "*"},
		{"/public/feed", "https://anyone.example", "*"},
		{"/publicity", "https://anyone.example", ""},
		{"/publicity", "https://example.com", "https://example.com"},
		{"/public/partners", "https://partner.example", "https://partner.example"},
		{"/public/partners/x", "https://partner.example", "https://partner.example"},
		{"/public/partners/x", "https://anyone.example", ""},
		{"/public/partners/../feed", "https://anyone.example", "*"}, // cleaned like ServeMux does
		{"/public/../internal/x", "https://example.com", ""},
		{"/internal/x", "https://example.com", ""},
		{"//public/feed", "https://anyone.example", "*"},
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.origin, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://api.example", nil)
			r.URL.Path = tc.path
			r.Header.Set("Origin", tc.origin)
			if g := c.Decide(r).AllowOrigin(); g != tc.want {
				t.Errorf("AllowOrigin = %q, want %q", g, tc.want)
			}
		})
	}
	// Routes inherit the audit sink.
	res := serve(t, c, "OPTIONS", "/internal/x", map[string][]string{"Origin": one("https://example.com"), "Access-Control-Request-Method": one("GET")})
	if res.code != 403 || len(mem.Events()) != 1 {
		t.Fatalf("status %d, events %d", res.code, len(mem.Events()))
	}
}

func TestCheck(t *testing.T) {
	c := mustNew(t, demoOptions())
	req := func(method string, hdr map[string]string) *http.Request {
		r := httptest.NewRequest(method, "/", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name    string
		r       *http.Request
		kind    cors.Kind
		allowed bool
		reason  string
	}{
		{"no origin", req("GET", nil), cors.NotCORS, false, ""},
		{"actual allowed", req("GET", map[string]string{"Origin": "https://example.com"}), cors.Actual, true, ""},
		{"actual refused", req("GET", map[string]string{"Origin": "https://evil.example"}), cors.Actual, false, cors.ReasonOriginNotAllowed},
		{"preflight allowed", req("OPTIONS", map[string]string{"Origin": "https://example.com", "Access-Control-Request-Method": "PUT"}), cors.Preflight, true, ""},
		{"preflight refused", req("OPTIONS", map[string]string{"Origin": "https://example.com", "Access-Control-Request-Method": "TRACE"}), cors.Preflight, false, cors.ReasonMethodNotAllowed},
		{"options not preflight", req("OPTIONS", map[string]string{"Origin": "https://example.com"}), cors.Actual, false, cors.ReasonMethodNotAllowed},
		{"request method header on GET", req("GET", map[string]string{"Origin": "https://example.com", "Access-Control-Request-Method": "PUT"}), cors.Actual, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Decide(tc.r)
			if d.Kind != tc.kind || d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Errorf("Check = {%v %v %q}, want {%v %v %q}", d.Kind, d.Allowed, d.Reason, tc.kind, tc.allowed, tc.reason)
			}
		})
	}
	if cors.Preflight.String() != "preflight" || cors.Actual.String() != "actual" || cors.NotCORS.String() != "none" {
		t.Error("Kind.String")
	}
}

func TestZeroAllocs(t *testing.T) {
	c := mustNew(t, demoOptions())
	pattern := mustNew(t, cors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowCredentials: true, AllowedHeaders: []string{"Content-Type"}})
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ph := pattern.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	pred := mustNew(t, cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"example.net", "example.com"},
		AllowOriginFunc: func(o string) bool { return o == "https://partner.example.com:8443" }})
	predH := pred.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	predActual := httptest.NewRequest("GET", "/api/items", nil)
	predActual.Header.Set("Origin", "https://partner.example.com:8443")

	actual := httptest.NewRequest("GET", "/api/items", nil)
	actual.Header.Set("Origin", "https://example.com")
	preflight := httptest.NewRequest("OPTIONS", "/api/items", nil)
	preflight.Header.Set("Origin", "https://example.com")
	preflight.Header.Set("Access-Control-Request-Method", "PUT")
	preflight.Header.Set("Access-Control-Request-Headers", "Content-Type,X-Custom-Header,authorization")
	patPreflight := httptest.NewRequest("OPTIONS", "/api/items", nil)
	patPreflight.Header.Set("Origin", "https://a.b.example.com")
	patPreflight.Header.Set("Access-Control-Request-Method", "POST")
	patPreflight.Header.Set("Access-Control-Request-Headers", "content-type")
	commas := httptest.NewRequest("OPTIONS", "/api/items", nil)
	commas.Header.Set("Origin", "https://example.com")
	commas.Header.Set("Access-Control-Request-Method", "PUT")
	commas.Header.Set("Access-Control-Request-Headers", strings.Repeat(",", 1024))

	for _, tc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		code int
	}{
		{"actual", h, actual, 0},
		{"preflight", h, preflight, 204},
		{"pattern preflight", ph, patPreflight, 204},
		{"predicate actual", predH, predActual, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &testhttp.NopWriter{H: make(http.Header, 8)}
			allocs := testing.AllocsPerRun(200, func() {
				clear(w.H)
				w.Code = 0
				tc.h.ServeHTTP(w, tc.r)
			})
			if allocs != 0 {
				t.Errorf("%v allocs per request, want 0", allocs)
			}
			if w.Code != tc.code || w.H.Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("status %d, headers %v", w.Code, w.H)
			}
		})
	}
	t.Run("decision on 1024 commas", func(t *testing.T) {
		var d cors.Decision
		allocs := testing.AllocsPerRun(200, func() { d = c.Decide(commas) })
		if allocs != 0 || d.Allowed || d.Reason != cors.ReasonMalformed {
			t.Errorf("%v allocs, decision %+v", allocs, d)
		}
	})
}

func TestHandlerNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler(nil) did not panic")
		}
	}()
	mustNew(t, cors.Options{}).Handler(nil)
}

func TestProblemResponsesKeepCORSHeaders(t *testing.T) {
	// A guard after CORS denying an allowed origin's request: the page can
	// read the problem, because CORS headers were set before.
	c := mustNew(t, demoOptions())
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Unauthorized(problem.TypeUnauthorized, `Bearer realm="api"`, "login required"))
	}))
	r := httptest.NewRequest("GET", "/api/protected", nil)
	r.Header.Set("Origin", "https://example.com")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") != "https://example.com" || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("status %d headers %v", w.Code, w.Header())
	}
}

func TestPredicateSeesOnlyCanonicalOrigins(t *testing.T) {
	var asked []string
	c := mustNew(t, cors.Options{
		AllowedOrigins: []string{"https://example.com"},
		AllowOriginFunc: func(o string) bool {
			asked = append(asked, o)
			return o == "https://partner.example"
		},
	})
	for _, origin := range []string{
		"https://example.com", "https://partner.example", "null", "HTTPS://PARTNER.EXAMPLE",
		"https://partner.example:443", "https://partner.example/", "https://u@partner.example",
		"https://partner.example:8443", "http://[::1]:3000", "https://partner..example", "https://" + strings.Repeat("a", 600),
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", origin)
		c.Decide(r)
	}
	want := []string{"https://partner.example", "https://partner.example:8443", "http://[::1]:3000"}
	if strings.Join(asked, " ") != strings.Join(want, " ") {
		t.Errorf("predicate asked about %q, want %q", asked, want)
	}
}

func TestPanickingPredicateRefusedWithCredentials(t *testing.T) {
	_, err := cors.New(cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"example.com"}, AllowOriginFunc: func(o string) bool {
		if strings.Contains(o, "probe") {
			panic("unexpected origin")
		}
		return false
	}})
	if !errors.Is(err, cors.ErrInsecure) {
		t.Fatalf("New = %v, want ErrInsecure", err)
	}
}

func TestRefusedActualRequestsAreNotAudited(t *testing.T) {
	// A same-origin POST carries Origin too: refusing CORS headers is not a
	// denial, and must not flood the audit log.
	mem := audit.NewMemory()
	o := demoOptions()
	o.Audit = mem
	c := mustNew(t, o)
	res := serve(t, c, "POST", "/session/login", map[string][]string{"Origin": one("https://api.example.com")})
	if res.nextCalls != 1 || len(mem.Events()) != 0 {
		t.Fatalf("next %d, events %+v", res.nextCalls, mem.Events())
	}
}

// TestPredicateLimitedToDomains is the request-time guarantee: a predicate
// that slips past the construction probes (here it refuses anything that
// looks like a probe) and approves look-alikes still cannot let an origin
// outside AllowOriginFuncDomains read credentialed responses.
func TestPredicateLimitedToDomains(t *testing.T) {
	var asked []string
	sloppy := func(o string) bool {
		asked = append(asked, o)
		return strings.HasSuffix(o, "example.com") && !strings.Contains(o, "bulwark-probe")
	}
	c := mustNew(t, cors.Options{AllowCredentials: true, AllowOriginFunc: sloppy, AllowOriginFuncDomains: []string{"example.com"}})
	open := mustNew(t, cors.Options{AllowOriginFunc: sloppy}) // no credentials, no domains: the predicate decides
	scoped := mustNew(t, cors.Options{AllowOriginFunc: sloppy, AllowOriginFuncDomains: []string{"app.example.com"}})
	tests := []struct {
		origin              string
		creds, open, scoped bool
	}{
		{"https://example.com", true, true, false},
		{"https://app.example.com", true, true, true},
		{"https://a.b.example.com", true, true, false},
		{"https://x.app.example.com", true, true, true},
		{"https://example.com.", false, false, false}, // the predicate itself says no
		{"https://evilexample.com", false, true, false},
		{"https://evil-example.com", false, true, false},
		{"https://app.evilexample.com", false, true, false},
		{"http://app.example.com", false, true, true}, // plain http: refused with credentials only
		{"ws://app.example.com", false, true, true},
		{"https://[::1]:8443", false, false, false},
		{"null", false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			for _, p := range []struct {
				name string
				c    *cors.CORS
				want bool
			}{{"credentials", c, tc.creds}, {"open", open, tc.open}, {"scoped", scoped, tc.scoped}} {
				for _, method := range []string{"GET", "OPTIONS"} {
					r := httptest.NewRequest(method, "/", nil)
					r.Header.Set("Origin", tc.origin)
					if method == "OPTIONS" {
						r.Header.Set("Access-Control-Request-Method", "GET")
					}
					d := p.c.Decide(r)
					if d.Allowed != p.want {
						t.Errorf("%s %s: Allowed = %v, want %v", p.name, method, d.Allowed, p.want)
					}
				}
			}
		})
	}
	// The predicate is not even asked about origins outside the domains.
	asked = asked[:0]
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://evilexample.com")
	c.Decide(r)
	if len(asked) != 0 {
		t.Errorf("predicate asked about %q, outside its domains", asked)
	}
	// Credentialed loopback development through a predicate.
	dev := mustNew(t, cors.Options{AllowCredentials: true, AllowOriginFuncDomains: []string{"localhost"},
		AllowOriginFunc: func(o string) bool { return o == "http://localhost:5173" }})
	r.Header.Set("Origin", "http://localhost:5173")
	if d := dev.Decide(r); !d.Allowed || d.AllowOrigin() != "http://localhost:5173" {
		t.Errorf("loopback origin through a predicate: %+v", d)
	}
}

func TestDescription(t *testing.T) {
	o := demoOptions()
	o.AllowedOrigins = []string{"https://example.com", "HTTPS://App.Example.com:443", "https://*.Example.org", "http://localhost:3000"}
	o.MaxAge = 10 * time.Minute
	o.AllowPrivateNetwork = true
	o.AllowOriginFunc = func(o string) bool { return o == "https://partner.example" }
	o.AllowOriginFuncDomains = []string{"Partner.Example."}
	o.Routes = map[string]cors.Options{
		"/public/": {AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}, AllowedMethods: []string{"*"}, MaxAge: -1},
		"/none":    {},
	}
	c := mustNew(t, o)
	got, err := json.Marshal(c.Describe())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"allowed_origins":["http://localhost:3000","https://app.example.com","https://example.com"],` +
		`"origin_patterns":["https://*.example.org"],"allow_origin_func":true,"allow_origin_func_domains":["partner.example"],` +
		`"allow_null_origin":false,"allowed_methods":["GET","HEAD","POST","PUT","PATCH","DELETE"],` +
		`"allowed_headers":["Authorization","Content-Type","X-Api-Key","X-Csrf-Token","X-Xsrf-Token","X-Custom-Header"],` +
		`"exposed_headers":["Ratelimit-Limit","Ratelimit-Remaining","Ratelimit-Reset","Retry-After","X-Request-Id"],` +
		`"allow_credentials":true,"max_age_seconds":600,"allow_private_network":true,"preflight_status":204,"routes":{` +
		`"/none":{"allowed_origins":[],"origin_patterns":[],"allow_origin_func":false,"allow_origin_func_domains":[],"allow_null_origin":false,` +
		`"allowed_methods":["GET","HEAD","POST"],"allowed_headers":[],"exposed_headers":[],"allow_credentials":false,"max_age_seconds":300,` +
		`"allow_private_network":false,"preflight_status":204},` +
		`"/public":{"allowed_origins":["*"],"origin_patterns":[],"allow_origin_func":false,"allow_origin_func_domains":[],"allow_null_origin":false,` +
		`"allowed_methods":["*"],"allowed_headers":["*"],"exposed_headers":[],"allow_credentials":false,"max_age_seconds":0,` +
		`"allow_private_network":false,"preflight_status":204}}}`
	if string(got) != want {
		t.Errorf("Description JSON\n got %s\nwant %s", got, want)
	}
	// The description is a copy.
	d := c.Describe()
	d.AllowedMethods[0] = "TRACE"
	d.AllowedHeaders[0] = "X"
	if c.Describe().AllowedMethods[0] != "GET" || c.Describe().AllowedHeaders[0] != "Authorization" {
		t.Error("Description shares memory with the policy")
	}
}

// TestCheckMatchesHandler: Check refuses exactly the preflights Handler
// answers with a 403 problem, with the same problem; everything else
// passes.
func TestCheckMatchesHandler(t *testing.T) {
	c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET", "PUT"}})
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	for _, tc := range []struct {
		method, origin, acrm string
		refused              bool
	}{
		{"OPTIONS", "https://app.example", "PUT", false},
		{"OPTIONS", "https://evil.example", "PUT", true},
		{"OPTIONS", "https://app.example", "DELETE", true},
		{"GET", "https://evil.example", "", false},
		{"GET", "", "", false},
	} {
		r := httptest.NewRequest(tc.method, "/x", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.acrm != "" {
			r.Header.Set("Access-Control-Request-Method", tc.acrm)
		}
		r2, p := c.Check(r)
		if r2 != r || (p != nil) != tc.refused {
			t.Fatalf("%+v: Check = %v", tc, p)
		}
		w := httptest.NewRecorder()
		c.Handler(next).ServeHTTP(w, r)
		if tc.refused && (w.Code != p.Status || !strings.Contains(w.Body.String(), p.Detail)) {
			t.Fatalf("%+v: Handler answered %d %s, Check %v", tc, w.Code, w.Body, p)
		}
		if !tc.refused && w.Code == 403 {
			t.Fatalf("%+v: Handler refused what Check passes", tc)
		}
	}
}
