package headers_test

import (
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
)

// The API profile on every response of a JSON API.
func Example() {
	p, err := headers.New(headers.API())
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	})
	h := p.Handler(api)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://api.example.com/items", nil))
	fmt.Println(rec.Header().Get("Content-Security-Policy"))
	fmt.Println(rec.Header().Get("X-Frame-Options"), rec.Header().Get("Referrer-Policy"), rec.Header().Get("Cache-Control"))
	// Output:
	// default-src 'none'; frame-ancestors 'none'
	// DENY no-referrer no-store
}

var page = template.Must(template.New("page").Parse(
	`<script nonce="{{.Nonce}}" src="/static/app.js"></script>`))

// The HTML profile: templates read the per-request nonce with csp.Nonce.
func ExampleHTML() {
	p, err := headers.New(headers.HTML())
	if err != nil {
		log.Fatal(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct{ Nonce string }{csp.Nonce(r.Context())})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app", nil))
	fmt.Println(rec.Header().Get("Referrer-Policy"))
	fmt.Println(p.Describe().Headers["Content-Security-Policy"])
	// Output:
	// strict-origin-when-cross-origin
	// default-src 'self'; script-src 'nonce-{per-request}' 'strict-dynamic'; style-src 'nonce-{per-request}' 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
}

// Adjusting a profile: a staged CSP rollout with reports, a feature the
// page needs, and HSTS preload (refused unless it meets the list's rules).
func ExampleNew() {
	next, err := csp.New(csp.Options{
		DefaultSrc: []string{csp.None},
		ScriptSrc:  []string{csp.StrictDynamic},
		ReportTo:   "csp",
		Nonce:      true,
	})
	if err != nil {
		log.Fatal(err)
	}
	o := headers.HTML()
	o.CSPReportOnly = next
	o.ReportingEndpoints = map[string]string{"csp": "/csp-reports"}
	o.PermissionsPolicy = headers.DenyAll().Allow(headers.Fullscreen, headers.AllowSelf)
	o.HSTS = headers.HSTS{MaxAge: headers.Year, Preload: true}
	_, err = headers.New(o)
	fmt.Println(err)

	o.HSTS.IncludeSubDomains = true
	p, err := headers.New(o)
	if err != nil {
		log.Fatal(err)
	}
	d := p.Describe().Headers
	fmt.Println(d["Strict-Transport-Security"])
	fmt.Println(d["Reporting-Endpoints"])
	fmt.Println(d["Content-Security-Policy-Report-Only"])
	// Output:
	// headers: HSTS Preload requires IncludeSubDomains: true, as the preload list checks; set it, or drop Preload
	// max-age=31536000; includeSubDomains; preload
	// csp="/csp-reports"
	// default-src 'none'; script-src 'nonce-{per-request}' 'strict-dynamic'; report-to csp
}
