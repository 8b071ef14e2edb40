package csp_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/ratelimit"
)

func ExampleNew() {
	p, err := csp.New(csp.Options{
		DefaultSrc: []string{csp.Self},
		ScriptSrc:  []string{csp.StrictDynamic},
		ImgSrc:     []string{csp.Self, "data:", "https://*.cdn.example.com"},
		ObjectSrc:  []string{csp.None},
		BaseURI:    []string{csp.None},
		Nonce:      true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)

	_, err = csp.New(csp.Options{DefaultSrc: []string{"self"}})
	fmt.Println(err)
	// Output:
	// default-src 'self'; script-src 'nonce-{per-request}' 'strict-dynamic'; img-src 'self' data: https://*.cdn.example.com; object-src 'none'; base-uri 'none'
	// csp: default-src: source "self" is an unquoted keyword, which browsers read as a host name; did you mean 'self'?
}

func ExampleNonce() {
	p, err := csp.New(csp.Options{ScriptSrc: []string{csp.StrictDynamic}, Nonce: true})
	if err != nil {
		log.Fatal(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script nonce="%s">boot()</script>`, csp.Nonce(r.Context()))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	header := rec.Header().Get("Content-Security-Policy")
	body := rec.Body.String()
	nonce := body[strings.Index(body, `nonce="`)+7 : strings.Index(body, `">`)]
	fmt.Println(header == "script-src 'nonce-"+nonce+"' 'strict-dynamic'", len(nonce))
	// Output: true 24
}

func ExampleParseSource() {
	for _, s := range []string{"'self'", "https://*.Example.com:443/js/", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='", "unsafe-inline", "ex*ample.com"} {
		src, err := csp.ParseSource(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(src.Kind, src)
	}
	// Output:
	// keyword 'self'
	// host https://*.example.com:443/js/
	// hash 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
	// error: source "unsafe-inline" is an unquoted keyword, which browsers read as a host name; did you mean 'unsafe-inline'?
	// error: source "ex*ample.com": host "ex*ample.com": a wildcard is allowed only as the whole first label (*.example.com)
}

func ExampleHash() {
	h, _ := csp.Hash("sha256", "")
	fmt.Println(h)
	// Output: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
}

// A staged rollout: enforce the current policy, report on a stricter one.
func ExampleNewHeaders() {
	current, _ := csp.New(csp.Options{DefaultSrc: []string{csp.Self}})
	next, _ := csp.New(csp.Options{DefaultSrc: []string{csp.Self}, ScriptSrc: []string{csp.Self}, ObjectSrc: []string{csp.None}, ReportURI: []string{"/csp-reports"}})
	h := csp.NewHeaders(current, next).Handler(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Header().Get("Content-Security-Policy"))
	fmt.Println(rec.Header().Get("Content-Security-Policy-Report-Only"))
	// Output:
	// default-src 'self'
	// default-src 'self'; script-src 'self'; object-src 'none'; report-uri /csp-reports
}

func ExampleCollector() {
	// Per client (its IP, /64 for IPv6): 1 report a second, 5 at once;
	// overall: 10 a second, 20 at once. A client refused by its own limit
	// spends none of the global quota.
	limiter, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{
		ratelimit.TokenBucket(5, 1).Named("csp-client").By(ratelimit.ByIP()),
		ratelimit.TokenBucket(20, 10).Named("csp").By(ratelimit.Global()),
	}})
	if err != nil {
		log.Fatal(err)
	}
	c, err := csp.NewCollector(csp.CollectorOptions{Limiter: limiter, Audit: audit.NewMemory()})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /csp-reports", c)

	r := httptest.NewRequest("POST", "/csp-reports", strings.NewReader(
		`{"csp-report":{"document-uri":"https://app.example.com/","effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}`))
	r.Header.Set("Content-Type", "application/csp-report")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	fmt.Println(rec.Code)
	// Output: 204
}
