package cors_test

import (
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/cors"
)

// fixedOrigins are listed beside the fuzzed entry in FuzzOriginMatch.
var fixedOrigins = []string{"https://example.com", "http://localhost:3000", "https://*.example.org", "http://[::1]:8080"}

const predOrigin = "https://partner.example"

// FuzzOriginMatch checks the origin matcher against an independent oracle
// built on net/url: whenever an origin is allowed, it equals an exact entry
// (as net/url understands it), is a proper subdomain of a pattern's domain
// with the pattern's scheme and port, or is what the predicate allows; and
// the response allows exactly the request's origin. The fuzzed entry also
// exercises the configuration parser, which must never panic.
func FuzzOriginMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"https://*.example.com", "https://a.example.com"},
		{"https://*.example.com", "https://example.com"},
		{"https://*.example.com", "https://example.com.evil.net"},
		{"https://*.example.com", "https://evilexample.com"},
		{"https://*.example.com", "https://evil.com/.example.com"},
		{"https://*.example.com:8443", "https://a.b.example.com:8443"},
		{"HTTPS://API.Example.COM:443", "https://api.example.com"},
		{"https://example.net.", "https://example.net."},
		{"http://[0:0::1]:80", "http://[::1]"},
		{"http://127.0.0.1", "http://127.0.0.1"},
		{"https://a.example", "null"},
		{"https://a.example", "https://user@a.example"},
		{"https://*.localhost", "https://x.localhost"},
		{"x://y", "x://y"},
		{"https://a.example", "https://A.example"},
		{"https://a.example", predOrigin},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, entry, origin string) {
		entries := append(append([]string(nil), fixedOrigins...), entry)
		opts := cors.Options{
			AllowedOrigins:         entries,
			AllowCredentials:       true,
			AllowOriginFunc:        func(o string) bool { return o == predOrigin },
			AllowOriginFuncDomains: []string{"partner.example"},
		}
		c, err := cors.New(opts)
		if err != nil {
			entries = fixedOrigins
			opts.AllowedOrigins = entries
			c = mustNew(t, opts)
		}
		for _, method := range []string{"GET", "OPTIONS"} {
			r := httptest.NewRequest(method, "/", nil)
			r.Header["Origin"] = []string{origin}
			if method == "OPTIONS" {
				r.Header["Access-Control-Request-Method"] = []string{"GET"}
			}
			d := c.Decide(r)
			if !d.Allowed {
				continue
			}
			if d.AllowOrigin() != origin {
				t.Fatalf("allowed %q but answered Access-Control-Allow-Origin %q", origin, d.AllowOrigin())
			}
			if origin == predOrigin {
				continue
			}
			ok := false
			for _, e := range entries {
				if oracleAllows(e, origin) {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("origin %q allowed, but no entry of %q allows it", origin, entries)
			}
		}
	})
}

// oracleAllows is the reference: does entry allow origin?
func oracleAllows(entry, origin string) bool {
	ou, err := url.Parse(origin)
	if err != nil || ou.User != nil || ou.Opaque != "" || ou.RawQuery != "" || ou.Fragment != "" || ou.Path != "" {
		return false
	}
	// A serialized origin: lower-case, scheme://host[:port] exactly.
	if origin != strings.ToLower(origin) || origin != ou.Scheme+"://"+ou.Host {
		return false
	}
	entry = strings.ToLower(strings.TrimSpace(entry))
	if pat, ok := strings.CutPrefix(entry, ou.Scheme+"://*."); ok {
		base, port, _ := strings.Cut(pat, ":")
		if normPort(ou.Scheme, port) != normPort(ou.Scheme, ou.Port()) {
			return false
		}
		host := ou.Hostname()
		sub, ok := strings.CutSuffix(host, "."+base)
		if !ok || sub == "" || strings.Count(base, ".") < 1 && base != "localhost" {
			return false
		}
		for _, label := range strings.Split(sub, ".") {
			if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				return false
			}
		}
		return true
	}
	eu, err := url.Parse(entry)
	if err != nil || eu.Scheme != ou.Scheme || eu.User != nil || eu.Path != "" {
		return false
	}
	if normPort(eu.Scheme, eu.Port()) != normPort(ou.Scheme, ou.Port()) {
		return false
	}
	eh, oh := eu.Hostname(), ou.Hostname()
	if ea, err := netip.ParseAddr(eh); err == nil {
		oa, err := netip.ParseAddr(oh)
		return err == nil && ea == oa
	}
	return eh == oh && eh != ""
}

func normPort(scheme, port string) string {
	port = strings.TrimLeft(port, "0")
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return ""
	}
	return port
}

// FuzzRequestHeaders checks the Access-Control-Request-Headers parser: it
// never panics, and an allowed preflight only requested allowed names
// (case-insensitively), with at most 16 empty elements.
func FuzzRequestHeaders(f *testing.F) {
	for _, s := range []string{
		"", "authorization", "content-type,x-custom-header", "X-Custom-Header, Authorization",
		strings.Repeat(",", 1024), "authorization,,,,content-type", " authorization\t", "a b",
		"authorization,authorization,authorization,authorization,authorization",
		strings.Repeat("x", 300), "x-custom-header,cookie",
	} {
		f.Add(s)
	}
	allowed := map[string]bool{"authorization": true, "content-type": true, "x-custom-header": true, "x-api-key": true}
	c := mustNew(f, cors.Options{
		AllowedOrigins: []string{"https://example.com"},
		AllowedMethods: []string{"PUT"},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Custom-Header", "X-API-Key"},
	})
	star := mustNew(f, cors.Options{AllowedOrigins: []string{"https://example.com"}, AllowedHeaders: []string{"*"}})
	f.Fuzz(func(t *testing.T, acrh string) {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		r.Header["Origin"] = []string{"https://example.com"}
		r.Header["Access-Control-Request-Method"] = []string{"PUT"}
		r.Header["Access-Control-Request-Headers"] = []string{acrh}
		d := c.Decide(r)
		sd := star.Decide(r) // must not panic either
		if sd.Allowed && len(acrh) > 4096 {
			t.Fatalf("echoed a %d-byte header list", len(acrh))
		}
		if !d.Allowed {
			return
		}
		empties := 0
		for _, name := range strings.Split(acrh, ",") {
			name = strings.Trim(name, " \t")
			if name == "" {
				empties++
				continue
			}
			if !allowed[strings.ToLower(name)] {
				t.Fatalf("allowed %q although %q is not an allowed header", acrh, name)
			}
		}
		if empties > 16 {
			t.Fatalf("allowed %q with %d empty elements", acrh, empties)
		}
	})
}
