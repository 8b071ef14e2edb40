package headers_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

const denyAllPP = "accelerometer=(), autoplay=(), bluetooth=(), browsing-topics=(), camera=(), display-capture=(), " +
	"encrypted-media=(), fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), " +
	"local-fonts=(), magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), " +
	"publickey-credentials-get=(), screen-wake-lock=(), serial=(), sync-xhr=(), usb=(), web-share=(), " +
	"window-management=(), xr-spatial-tracking=()"

// secureReq returns a request the client-identity guard marked secure or
// not.
func secureReq(secure bool) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	ctx, st := reqctx.New(r.Context())
	st.Secure = secure
	return r.WithContext(ctx)
}

// newOrFail builds a Profile from o; with errPart set, New must fail with
// an error containing it, and newOrFail returns nil.
func newOrFail(t *testing.T, o headers.Options, errPart string) *headers.Profile {
	t.Helper()
	p, err := headers.New(o)
	if errPart != "" {
		if err == nil || !strings.Contains(err.Error(), errPart) {
			t.Fatalf("error %v, want one containing %q", err, errPart)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, o headers.Options, r *http.Request, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	p, err := headers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) })
	}
	rec := httptest.NewRecorder()
	p.Handler(h).ServeHTTP(rec, r)
	return rec
}

func headerMap(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if k == "Content-Type" {
			continue
		}
		m[k] = strings.Join(v, "\n")
	}
	return m
}

func TestProfiles(t *testing.T) {
	api := map[string]string{
		"Strict-Transport-Security":    "max-age=31536000",
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Permissions-Policy":           denyAllPP,
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-store",
		"X-Xss-Protection":             "0",
	}
	html := map[string]string{}
	for k, v := range api {
		html[k] = v
	}
	html["Referrer-Policy"] = "strict-origin-when-cross-origin"
	html["Content-Security-Policy"] = "default-src 'self'; script-src 'nonce-N' 'strict-dynamic'; style-src 'nonce-N' 'self'; " +
		"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	strict := map[string]string{}
	for k, v := range api {
		strict[k] = v
	}
	strict["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
	strict["Content-Security-Policy"] = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox; require-trusted-types-for 'script'"
	strict["Cross-Origin-Embedder-Policy"] = "require-corp"
	strict["X-Permitted-Cross-Domain-Policies"] = "none"

	tests := []struct {
		name string
		o    headers.Options
		want map[string]string
	}{
		{"API", headers.API(), api},
		{"zero Options", headers.Options{}, api},
		{"HTML", headers.HTML(), html},
		{"Strict", headers.Strict(), strict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var nonce string
			rec := serve(t, tc.o, secureReq(true), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nonce = csp.Nonce(r.Context())
				w.Header().Set("Content-Type", "application/json")
			}))
			got := headerMap(rec.Header())
			if nonce != "" {
				got["Content-Security-Policy"] = strings.ReplaceAll(got["Content-Security-Policy"], nonce, "N")
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s\n got %q\nwant %q", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := tc.want[k]; !ok {
					t.Errorf("unexpected header %s: %s", k, got[k])
				}
			}
			// Describe shows what is sent (nonce as a placeholder).
			p, _ := headers.New(tc.o)
			d := p.Describe().Headers
			for k, v := range tc.want {
				if want := strings.ReplaceAll(v, "'nonce-N'", "'nonce-{per-request}'"); d[k] != want {
					t.Errorf("Describe()[%s] = %q, want %q", k, d[k], want)
				}
			}
			if len(d) != len(tc.want) {
				t.Errorf("Describe has %d entries, want %d", len(d), len(tc.want))
			}
		})
	}
}

func TestHSTSOnlyWhenSecure(t *testing.T) {
	tlsReq := httptest.NewRequest("GET", "https://api.example.com/", nil)
	tlsReq.TLS = &tls.ConnectionState{}
	spoofed := httptest.NewRequest("GET", "/", nil)
	spoofed.Header.Set("X-Forwarded-Proto", "https")
	spoofed.Header.Set("Forwarded", "proto=https")
	spoofedWithState := secureReq(false)
	spoofedWithState.Header.Set("X-Forwarded-Proto", "https")
	// State says insecure (say, TLS terminated by an untrusted hop) even
	// though this hop is TLS: the guard's verdict wins.
	tlsButState := secureReq(false)
	tlsButState.TLS = &tls.ConnectionState{}

	tests := []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"state secure (trusted proxy said https)", secureReq(true), true},
		{"state insecure", secureReq(false), false},
		{"no state, TLS connection", tlsReq, true},
		{"no state, plain HTTP", httptest.NewRequest("GET", "/", nil), false},
		{"no state, spoofed X-Forwarded-Proto", spoofed, false},
		{"state insecure, spoofed X-Forwarded-Proto", spoofedWithState, false},
		{"state insecure wins over r.TLS", tlsButState, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, headers.API(), tc.r, nil)
			got := rec.Header().Get("Strict-Transport-Security")
			if (got != "") != tc.want {
				t.Fatalf("HSTS %q, want sent=%v", got, tc.want)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatal("other headers missing")
			}
		})
	}
}

// TestHSTSDeletedOnPlainHTTP: a Strict-Transport-Security header an
// earlier middleware (or an outer Profile) set is deleted on plain HTTP,
// where this policy does not send it, and replaced on HTTPS.
func TestHSTSDeletedOnPlainHTTP(t *testing.T) {
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Strict-Transport-Security", "max-age=1; includeSubDomains; preload")
			next.ServeHTTP(w, r)
		})
	}
	off := headers.API()
	off.HSTS.Off = true
	for _, tc := range []struct {
		name   string
		o      headers.Options
		secure bool
		want   string
	}{
		{"plain HTTP", headers.API(), false, ""},
		{"HTTPS", headers.API(), true, "max-age=31536000"},
		{"HSTS off, HTTPS", off, true, ""},
		{"HSTS off, plain HTTP", off, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := headers.New(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			outer(p.Handler(http.NotFoundHandler())).ServeHTTP(rec, secureReq(tc.secure))
			if got := strings.Join(rec.Header().Values("Strict-Transport-Security"), "|"); got != tc.want {
				t.Fatalf("Strict-Transport-Security %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHSTSOptions(t *testing.T) {
	tests := []struct {
		h       headers.HSTS
		want    string
		errPart string
	}{
		{headers.HSTS{}, "max-age=31536000", ""},
		{headers.HSTS{MaxAge: 180 * 24 * time.Hour}, "max-age=15552000", ""},
		{headers.HSTS{MaxAge: 1500 * time.Millisecond, IncludeSubDomains: true}, "max-age=1; includeSubDomains", ""},
		{headers.HSTS{MaxAge: 2 * headers.Year, IncludeSubDomains: true, Preload: true}, "max-age=63072000; includeSubDomains; preload", ""},
		{headers.HSTS{MaxAge: headers.Year, IncludeSubDomains: true, Preload: true}, "max-age=31536000; includeSubDomains; preload", ""},
		{headers.HSTS{Off: true, Preload: true}, "", ""},
		{headers.HSTS{Preload: true}, "", "requires IncludeSubDomains: true, as"},
		{headers.HSTS{Preload: true, MaxAge: 30 * 24 * time.Hour}, "", "requires IncludeSubDomains: true and MaxAge of at least one year (headers.Year, 31536000 s; have 2592000 s)"},
		{headers.HSTS{Preload: true, IncludeSubDomains: true, MaxAge: headers.Year - time.Second}, "", "have 31535999 s"},
		{headers.HSTS{Preload: true, MaxAge: 2 * headers.Year}, "", "requires IncludeSubDomains"},
		{headers.HSTS{MaxAge: -time.Second}, "", "below one second"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.h), func(t *testing.T) {
			o := headers.API()
			o.HSTS = tc.h
			p := newOrFail(t, o, tc.errPart)
			if p == nil {
				return
			}
			rec := httptest.NewRecorder()
			p.Handler(http.NotFoundHandler()).ServeHTTP(rec, secureReq(true))
			if got := rec.Header().Get("Strict-Transport-Security"); got != tc.want {
				t.Fatalf("HSTS %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOptionValidation(t *testing.T) {
	selfFA, _ := csp.New(csp.Options{DefaultSrc: []string{csp.None}, FrameAncestors: []string{csp.Self}})
	partnerFA, _ := csp.New(csp.Options{DefaultSrc: []string{csp.None}, FrameAncestors: []string{"https://partner.example"}})
	noFA, _ := csp.New(csp.Options{DefaultSrc: []string{csp.None}})
	reportTo, _ := csp.New(csp.Options{DefaultSrc: []string{csp.None}, ReportTo: "csp"})
	tests := []struct {
		name    string
		mod     func(*headers.Options)
		errPart string            // "" = valid
		want    map[string]string // header → value ("" = absent)
	}{
		{"frame options derived from 'self'", func(o *headers.Options) { o.FrameOptions = ""; o.CSP = selfFA }, "", map[string]string{"X-Frame-Options": "SAMEORIGIN"}},
		{"frame options derived from origins", func(o *headers.Options) { o.FrameOptions = ""; o.CSP = partnerFA }, "", map[string]string{"X-Frame-Options": ""}},
		{"frame options derived without frame-ancestors", func(o *headers.Options) { o.FrameOptions = ""; o.CSP = noFA }, "", map[string]string{"X-Frame-Options": "DENY"}},
		{"sameorigin consistent", func(o *headers.Options) { o.FrameOptions = "sameorigin"; o.CSP = selfFA }, "", map[string]string{"X-Frame-Options": "SAMEORIGIN"}},
		{"deny contradicts 'self'", func(o *headers.Options) { o.CSP = selfFA }, "contradicts", nil},
		{"sameorigin contradicts 'none'", func(o *headers.Options) { o.FrameOptions = "SAMEORIGIN" }, "contradicts", nil},
		{"allow-from", func(o *headers.Options) { o.FrameOptions = "ALLOW-FROM https://a.example" }, "obsolete", nil},
		{"frame options off", func(o *headers.Options) { o.FrameOptions = headers.Off }, "", map[string]string{"X-Frame-Options": ""}},
		{"referrer same-origin", func(o *headers.Options) { o.ReferrerPolicy = "Same-Origin" }, "", map[string]string{"Referrer-Policy": "same-origin"}},
		{"referrer unsafe-url", func(o *headers.Options) { o.ReferrerPolicy = "unsafe-url" }, "sends full URLs", nil},
		{"referrer downgrade", func(o *headers.Options) { o.ReferrerPolicy = "no-referrer-when-downgrade" }, "sends full URLs", nil},
		{"referrer list", func(o *headers.Options) { o.ReferrerPolicy = "no-referrer, strict-origin" }, "use one of", nil},
		{"nosniff off", func(o *headers.Options) { o.XContentTypeOptions = headers.Off }, "", map[string]string{"X-Content-Type-Options": ""}},
		{"nosniff typo", func(o *headers.Options) { o.XContentTypeOptions = "nosnif" }, "only value is nosniff", nil},
		{"coop popups", func(o *headers.Options) { o.COOP = "same-origin-allow-popups" }, "", map[string]string{"Cross-Origin-Opener-Policy": "same-origin-allow-popups"}},
		{"coop bad", func(o *headers.Options) { o.COOP = "strict" }, "Cross-Origin-Opener-Policy", nil},
		{"corp cross-origin", func(o *headers.Options) { o.CORP = "cross-origin" }, "", map[string]string{"Cross-Origin-Resource-Policy": "cross-origin"}},
		{"corp off", func(o *headers.Options) { o.CORP = headers.Off }, "", map[string]string{"Cross-Origin-Resource-Policy": ""}},
		{"corp bad", func(o *headers.Options) { o.CORP = "same-host" }, "Cross-Origin-Resource-Policy", nil},
		{"coep credentialless", func(o *headers.Options) { o.COEP = "credentialless" }, "", map[string]string{"Cross-Origin-Embedder-Policy": "credentialless"}},
		{"coep bad", func(o *headers.Options) { o.COEP = "require" }, "Cross-Origin-Embedder-Policy", nil},
		{"cache-control custom", func(o *headers.Options) { o.CacheControl = "private, max-age=0" }, "", map[string]string{"Cache-Control": "private, max-age=0"}},
		{"cache-control off", func(o *headers.Options) { o.CacheControl = "OFF" }, "", map[string]string{"Cache-Control": ""}},
		{"cache-control injection", func(o *headers.Options) { o.CacheControl = "no-store\r\nSet-Cookie: a=b" }, "control character", nil},
		{"xpcdp", func(o *headers.Options) { o.XPermittedCrossDomainPolicies = "master-only" }, "", map[string]string{"X-Permitted-Cross-Domain-Policies": "master-only"}},
		{"xpcdp all", func(o *headers.Options) { o.XPermittedCrossDomainPolicies = "all" }, "X-Permitted-Cross-Domain-Policies", nil},
		{"disable csp", func(o *headers.Options) { o.DisableCSP = true }, "", map[string]string{"Content-Security-Policy": "", "X-Frame-Options": "DENY"}},
		{"report-only beside", func(o *headers.Options) { o.CSPReportOnly = noFA }, "", map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Content-Security-Policy-Report-Only": "default-src 'none'"}},
		{"report-to defined", func(o *headers.Options) {
			o.CSPReportOnly = reportTo
			o.ReportingEndpoints = map[string]string{"csp": "/csp-reports", "default": "https://r.example/x?a=1"}
		}, "", map[string]string{"Reporting-Endpoints": `csp="/csp-reports", default="https://r.example/x?a=1"`}},
		{"report-to undefined", func(o *headers.Options) { o.CSP = reportTo }, `group "csp"`, nil},
		{"endpoint http", func(o *headers.Options) { o.ReportingEndpoints = map[string]string{"csp": "http://r.example/"} }, "https URL", nil},
		{"endpoint quote", func(o *headers.Options) { o.ReportingEndpoints = map[string]string{"csp": `https://r.example/"x`} }, "not allowed", nil},
		{"endpoint name", func(o *headers.Options) { o.ReportingEndpoints = map[string]string{"CSP Reports": "/r"} }, "not a valid endpoint name", nil},
		{"permissions custom", func(o *headers.Options) {
			o.PermissionsPolicy = headers.PermissionsPolicy{}.Deny(headers.Camera).
				Allow(headers.Geolocation, headers.AllowSelf, "https://Maps.example:8443", "https://*.cdn.example", headers.AllowSelf).
				Allow(headers.Fullscreen, headers.AllowAll).Allow(headers.Payment)
		}, "", map[string]string{"Permissions-Policy": `camera=(), fullscreen=*, geolocation=(self "https://maps.example:8443" "https://*.cdn.example"), payment=()`}},
		{"permissions empty map", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{} }, "", map[string]string{"Permissions-Policy": ""}},
		{"permissions unknown feature", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{"camara": {}} }, `unknown feature "camara"`, nil},
		{"permissions quoted self", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"'self'"}} }, "without quotes", nil},
		{"permissions none", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"none"}} }, "empty allowlist", nil},
		{"permissions path", func(o *headers.Options) {
			o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"https://a.example/x"}}
		}, "not an origin", nil},
		{"permissions host only", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"a.example"}} }, "not an origin", nil},
		{"permissions bad wildcard", func(o *headers.Options) {
			o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"https://a.*.example"}}
		}, "wildcard", nil},
		{"permissions star and more", func(o *headers.Options) { o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"*", "self"}} }, "already allows", nil},
		{"permissions injection", func(o *headers.Options) {
			o.PermissionsPolicy = headers.PermissionsPolicy{"camera": {"https://a.example\"), x=(*"}}
		}, "contains", nil},
		{"remove custom", func(o *headers.Options) { o.RemoveHeaders = []string{"x-debug"} }, "", nil},
		{"remove managed", func(o *headers.Options) { o.RemoveHeaders = []string{"content-security-policy"} }, "set its option", nil},
		{"remove bad name", func(o *headers.Options) { o.RemoveHeaders = []string{"X Debug"} }, "not a header name", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := headers.API()
			tc.mod(&o)
			p := newOrFail(t, o, tc.errPart)
			if p == nil {
				return
			}
			rec := httptest.NewRecorder()
			p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, secureReq(true))
			for k, v := range tc.want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
				if d := p.Describe().Headers[k]; d != v {
					t.Errorf("Describe()[%s] = %q, want %q", k, d, v)
				}
			}
		})
	}
}

func TestKnownFeatures(t *testing.T) {
	fs := headers.KnownFeatures()
	if !slices.IsSorted(fs) || !slices.Contains(fs, headers.Camera) || slices.Contains(fs, "camara") {
		t.Fatalf("KnownFeatures() = %v", fs)
	}
	for f := range headers.DenyAll() {
		if !slices.Contains(fs, f) {
			t.Errorf("DenyAll has unknown feature %s", f)
		}
	}
}

func TestProblemResponsesCarryHeaders(t *testing.T) {
	// A later guard denies: the problem response carries the profile.
	deny := problem.Denier{Guard: "test"}
	rec := serve(t, headers.API(), secureReq(true), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deny.Deny(w, r, problem.TooManyRequests(3*time.Second, "slow down"))
	}))
	if rec.Code != 429 || rec.Header().Get("Content-Type") != problem.ContentType {
		t.Fatalf("status %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options", "Permissions-Policy", "Referrer-Policy"} {
		if rec.Header().Get(k) == "" {
			t.Errorf("problem response lacks %s", k)
		}
	}
}

func TestRemoveHeaders(t *testing.T) {
	setStack := func(w http.ResponseWriter) {
		w.Header().Set("Server", "nginx/1.2.3")
		w.Header().Set("X-Powered-By", "PHP/5.4")
		w.Header().Set("X-Debug", "1")
	}
	// Set by an earlier middleware: removed.
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { setStack(w); next.ServeHTTP(w, r) })
	}
	p, err := headers.New(headers.API())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	outer(p.Handler(http.NotFoundHandler())).ServeHTTP(rec, secureReq(false))
	if rec.Header().Get("Server") != "" || rec.Header().Get("X-Powered-By") != "" || rec.Header().Get("X-Debug") != "1" {
		t.Fatalf("before: %v", rec.Header())
	}
	var canon []string
	for _, k := range headers.DefaultRemoveHeaders {
		canon = append(canon, http.CanonicalHeaderKey(k))
	}
	if !slices.Equal(p.Removed(), canon) {
		t.Fatalf("Removed() = %v", p.Removed())
	}

	// Set by the handler: kept without RemoveOnWrite, removed with it.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { setStack(w); _, _ = w.Write([]byte("x")) })
	rec = serve(t, headers.API(), secureReq(false), handler)
	if rec.Header().Get("Server") == "" {
		t.Fatal("without RemoveOnWrite the handler's Server header is expected to stay (documented)")
	}
	o := headers.API()
	o.RemoveOnWrite = true
	o.RemoveHeaders = []string{"server", "X-Powered-By", "x-debug"}
	for name, h := range map[string]http.Handler{
		"write": handler,
		"writeheader": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setStack(w)
			w.WriteHeader(http.StatusEarlyHints)
			setStack(w)
			w.WriteHeader(201)
		}),
		"flush": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setStack(w)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Error(err)
			}
		}),
		"hijack-unsupported": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setStack(w)
			if _, ok := w.(http.Hijacker); !ok {
				t.Error("the wrapper hides http.Hijacker")
			}
			if _, _, err := http.NewResponseController(w).Hijack(); !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("hijacking a recorder: %v", err)
			}
			_, _ = w.Write([]byte("x"))
		}),
		"readfrom": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setStack(w)
			if _, ok := w.(io.ReaderFrom); !ok {
				t.Error("the wrapper hides io.ReaderFrom")
			}
			_, _ = io.Copy(w, strings.NewReader("x"))
		}),
	} {
		t.Run(name, func(t *testing.T) {
			rec := serve(t, o, secureReq(false), h)
			for _, k := range []string{"Server", "X-Powered-By", "X-Debug"} {
				if v := rec.Header().Get(k); v != "" {
					t.Errorf("%s = %q survived RemoveOnWrite", k, v)
				}
			}
			if rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Error("policy headers lost")
			}
		})
	}

	// StripHeaders, for a reverse proxy's ModifyResponse.
	h := http.Header{"Server": {"Apache"}, "X-Aspnet-Version": {"4.0"}, "Content-Type": {"text/plain"}}
	p.StripHeaders(h)
	if len(h) != 1 || h.Get("Content-Type") == "" {
		t.Fatalf("StripHeaders left %v", h)
	}
}

func TestNestedPoliciesReplace(t *testing.T) {
	strict, err := headers.New(headers.Strict())
	if err != nil {
		t.Fatal(err)
	}
	html, err := headers.New(headers.HTML())
	if err != nil {
		t.Fatal(err)
	}
	var nonce string
	h := strict.Handler(html.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce = csp.Nonce(r.Context())
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, secureReq(true))
	got := headerMap(rec.Header())
	want := html.Describe().Headers
	for k, v := range want {
		if k == "Content-Security-Policy" {
			v = strings.ReplaceAll(v, "{per-request}", nonce)
		}
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("outer policy's %s leaked into the inner one", k)
		}
	}
}

// TestNoAllocations runs in CI, which tests with -race, as well as
// without: the race detector does not change these counts.
func TestNoAllocations(t *testing.T) {
	for name, o := range map[string]headers.Options{"API": headers.API(), "Strict": headers.Strict()} {
		p, err := headers.New(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, secure := range []bool{true, false} {
			w := httptest.NewRecorder()
			r := secureReq(secure)
			w.Header().Set("X-Request-Id", "abc") // as the identity guard leaves it
			w.Header().Set("Server", "x")         // removed
			if n := testing.AllocsPerRun(200, func() { p.Apply(w, r) }); n != 0 {
				t.Errorf("%s (secure %v): %v allocations per request, want 0", name, secure, n)
			}
		}
	}
	p, _ := headers.New(headers.HTML())
	w := httptest.NewRecorder()
	r := secureReq(true)
	if n := testing.AllocsPerRun(200, func() { p.Apply(w, r) }); n != 1 {
		t.Errorf("HTML (nonce): %v allocations per request, want 1", n)
	}
	if !p.Nonce() {
		t.Error("HTML policy reports no nonce")
	}

	// RemoveOnWrite wraps the writer: one allocation, the wrapper (its
	// hook is made once, by New).
	o := headers.API()
	o.RemoveOnWrite = true
	p, _ = headers.New(o)
	h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); n != 1 {
		t.Errorf("RemoveOnWrite: %v allocations per request, want 1", n)
	}
}

func TestApplyKeepsContextValues(t *testing.T) {
	p, _ := headers.New(headers.HTML())
	r := secureReq(true)
	st := reqctx.From(r.Context())
	type key struct{}
	r2 := p.Apply(httptest.NewRecorder(), r.WithContext(context.WithValue(r.Context(), key{}, 1)))
	if reqctx.From(r2.Context()) != st || r2.Context().Value(key{}) != 1 || csp.Nonce(r2.Context()) == "" {
		t.Fatal("context values lost")
	}
}

func TestDescription(t *testing.T) {
	p, err := headers.New(headers.API())
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(p.Describe())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"headers":{"Cache-Control":"no-store","Content-Security-Policy":"default-src 'none'; frame-ancestors 'none'",` +
		`"Cross-Origin-Opener-Policy":"same-origin","Cross-Origin-Resource-Policy":"same-origin","Permissions-Policy":"` + denyAllPP + `",` +
		`"Referrer-Policy":"no-referrer","Strict-Transport-Security":"max-age=31536000","X-Content-Type-Options":"nosniff",` +
		`"X-Frame-Options":"DENY","X-Xss-Protection":"0"},"https_only":["Strict-Transport-Security"],"csp_nonce":false,` +
		`"removed":["Server","X-Powered-By","X-Aspnet-Version","X-Aspnetmvc-Version","X-Runtime","X-Generator"],"remove_on_write":false,` +
		`"withheld":["Cross-Origin-Embedder-Policy","X-Permitted-Cross-Domain-Policies","Reporting-Endpoints","Content-Security-Policy-Report-Only"]}`
	if string(got) != want {
		t.Errorf("API Description\n got %s\nwant %s", got, want)
	}

	o := headers.HTML()
	o.HSTS.Off = true
	o.COOP = headers.Off
	o.RemoveHeaders = []string{"x-debug"}
	o.RemoveOnWrite = true
	p, err = headers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Describe()
	if !d.CSPNonce || !d.RemoveOnWrite || len(d.HTTPSOnly) != 0 || !slices.Equal(d.Removed, []string{"X-Debug"}) ||
		!strings.Contains(d.Headers["Content-Security-Policy"], "'nonce-{per-request}'") ||
		!slices.Equal(d.Withheld, []string{"Strict-Transport-Security", "Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy",
			"X-Permitted-Cross-Domain-Policies", "Reporting-Endpoints", "Content-Security-Policy-Report-Only"}) {
		t.Errorf("HTML Description %+v", d)
	}
	o.RemoveHeaders = []string{}
	p, _ = headers.New(o)
	if d := p.Describe(); d.Removed == nil || len(d.Removed) != 0 || d.RemoveOnWrite {
		t.Errorf("Description without removals %+v", d)
	}
}
