package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Explain describes what a request would meet: the route it matches, the
// guards in the order they run (those in shadow mode marked), and the
// upstream. rawURL is absolute ("https://api.example.com/v1/items") or a
// path; a CORS preflight is explained by passing OPTIONS and an
// Access-Control-Request-Method in header (may be nil).
func (g *Gateway) Explain(method, rawURL string, header http.Header) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Path == "" {
		u.Path = "/"
	}
	r := &http.Request{Method: method, URL: u, Host: u.Host, Header: header}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	lookup := r
	preflight := false
	if m := r.Header.Get("Access-Control-Request-Method"); method == http.MethodOptions && m != "" {
		c := *r
		c.Method = m
		lookup = &c
		preflight = true
	}
	_, pattern := g.mux.Handler(lookup)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", method, u.String())
	fmt.Fprintf(&b, "  1. client identity: %s\n", describeClientIP(g.cfg))
	if pattern == "" {
		fmt.Fprintf(&b, "  no route matches: 404 (or 405) problem\n")
		return b.String(), nil
	}
	var rt *route
	for _, x := range g.routes {
		if x.cfg.Match == pattern {
			rt = x
		}
	}
	if rt == nil {
		return "", fmt.Errorf("route %q not found", pattern)
	}
	fmt.Fprintf(&b, "  route %q, policy %q\n", pattern, rt.policy)
	if preflight {
		fmt.Fprintf(&b, "  a CORS preflight for %s\n", lookup.Method)
	}
	if p := rt.cfg.StripPrefix; p != "" {
		up := strings.TrimPrefix(u.Path, p)
		if !strings.HasPrefix(up, "/") {
			up = "/" + up
		}
		fmt.Fprintf(&b, "  strip_prefix %q: the upstream sees the path %s\n", p, up)
	}
	for i, s := range rt.steps {
		mark := ""
		if s.shadow {
			mark = " [shadow: reports, does not enforce]"
		}
		fmt.Fprintf(&b, "  %d. %s: %s%s\n", i+2, s.name, s.detail, mark)
		if preflight && s.name == StepCORS {
			fmt.Fprintf(&b, "  the preflight is answered here; no later step runs and nothing reaches the upstream\n")
			return b.String(), nil
		}
	}
	if preflight {
		fmt.Fprintf(&b, "  no CORS policy on this route: the preflight goes on like any request\n")
	}
	return b.String(), nil
}

// Describe lists every route with its guards, in order: the policy the
// configuration builds, for review and for golden-file tests.
func (g *Gateway) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen %s (tls %v); admin %s\n", g.cfg.Listen.Addr, g.cfg.Listen.TLS != nil, adminAddr(g.cfg))
	fmt.Fprintf(&b, "client identity: %s\n", describeClientIP(g.cfg))
	if len(g.strip) > 0 {
		fmt.Fprintf(&b, "principal headers stripped from every request: %s\n", strings.Join(g.strip, ", "))
	}
	for _, rt := range g.routes {
		fmt.Fprintf(&b, "route %q → policy %q\n", rt.cfg.Match, rt.policy)
		for i, s := range rt.steps {
			mark := ""
			if s.shadow {
				mark = " [shadow]"
			}
			fmt.Fprintf(&b, "  %d. %s: %s%s\n", i+1, s.name, s.detail, mark)
		}
	}
	return b.String()
}

func adminAddr(cfg *Config) string {
	if cfg.Admin.Addr == "" {
		return DefaultAdminAddr
	}
	return cfg.Admin.Addr
}

func describeClientIP(cfg *Config) string {
	c := cfg.ClientIP
	switch {
	case len(c.TrustedProxies) > 0:
		hs := c.Headers
		if len(hs) == 0 {
			hs = []string{"X-Forwarded-For"}
		}
		return fmt.Sprintf("forwarding headers %v trusted from %v", hs, c.TrustedProxies)
	case c.TrustedHops > 0:
		return fmt.Sprintf("the last %d forwarding hops trusted", c.TrustedHops)
	}
	return "the peer address (no proxy trusted)"
}
