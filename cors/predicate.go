package cors

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	origins "github.com/bulwark-go/bulwark/internal/origin"
)

// compilePredicate checks AllowOriginFunc and AllowOriginFuncDomains.
//
// With AllowCredentials a predicate must come with the domains it may
// allow: at request time an origin it approves is accepted only when its
// host is one of them or a proper subdomain (and, with credentials, is not
// served over plain HTTP unless loopback), so that a predicate with a bug
// such as strings.HasSuffix(origin, "example.com") can never let
// https://evilexample.com in. New also asks the predicate about
// look-alikes of those domains and of the listed origins, and about sites
// under public suffixes, and refuses a predicate that allows any of them:
// such a predicate does not do what its author thinks.
func compilePredicate(p *policy, o Options, invalid, insecure func(string, ...any) error) error {
	if o.AllowOriginFuncDomains != nil && o.AllowOriginFunc == nil {
		return invalid("AllowOriginFuncDomains is set without AllowOriginFunc; set the predicate, or list the origins in AllowedOrigins")
	}
	if o.AllowOriginFuncDomains != nil && len(o.AllowOriginFuncDomains) == 0 {
		return invalid(`AllowOriginFuncDomains is empty, which would allow nothing; list the domains the predicate may allow, e.g. []string{"example.com"}, or leave it nil`)
	}
	for i, raw := range o.AllowOriginFuncDomains {
		d, err := parsePredicateDomain(raw)
		if err != nil {
			return invalid("AllowOriginFuncDomains[%d] %q: %v", i, raw, err)
		}
		if section, ok := origins.PublicSuffix(d); ok {
			return insecure(`AllowOriginFuncDomains[%d] %q is a public suffix (%s): anyone can register a site under it; list the domains you own, e.g. "example.com" or "app.example.co.uk"`, i, raw, section)
		}
		if !slices.Contains(p.predDomains, d) {
			p.predDomains = append(p.predDomains, d)
		}
	}
	if o.AllowOriginFunc == nil || !o.AllowCredentials {
		return nil
	}
	if len(p.predDomains) == 0 {
		return insecure(`AllowOriginFunc with AllowCredentials needs AllowOriginFuncDomains, the domains whose origins the predicate may allow (e.g. []string{"example.com"}): an origin it approves is then accepted only if its host is one of them or a subdomain, so that a mistake in the predicate cannot let another site read your users' credentialed responses; or set AllowCredentials to false`)
	}
	if probe, ok := probePredicate(o.AllowOriginFunc, p); !ok {
		return insecure("AllowOriginFunc allows %q, an origin nobody controls (outside AllowOriginFuncDomains %q): with AllowCredentials such a predicate lets other web sites read your users' credentialed responses; make it allow only origins you control (compare the whole origin, or check for a \".example.com\" suffix with its dot), or set AllowCredentials to false", probe, p.predDomains)
	}
	return nil
}

// parsePredicateDomain normalises one AllowOriginFuncDomains entry: a
// domain name, lower-cased, without a trailing dot.
func parsePredicateDomain(raw string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(raw))
	if strings.Contains(d, "://") || strings.ContainsAny(d, "/:*") {
		return "", fmt.Errorf(`want a bare domain name such as "example.com" (it covers example.com and every subdomain, for any scheme and port), not an origin or pattern`)
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" || origins.EndsInNumber(d) || strings.HasPrefix(d, "[") {
		return "", fmt.Errorf("want a domain name, not an IP address (list addresses as exact origins in AllowedOrigins)")
	}
	if err := origins.ValidDomain(d, false); err != nil {
		return "", err
	}
	return d, nil
}

// predInScope reports whether a serialized origin may be allowed by the
// predicate: without AllowOriginFuncDomains every origin may; with them,
// only origins whose host is one of the domains or a proper subdomain of
// one (one trailing dot ignored), and, with credentials, not over plain
// HTTP unless the host is loopback. It does not allocate.
func (p *policy) predInScope(origin string) bool {
	if p.predDomains == nil {
		return true
	}
	i := strings.Index(origin, "://")
	if i <= 0 {
		return false
	}
	scheme, host := origin[:i], origin[i+3:]
	if host == "" || host[0] == '[' {
		return false // an IPv6 address is not under any domain name
	}
	if j := strings.IndexByte(host, ':'); j >= 0 {
		host = host[:j]
	}
	host = strings.TrimSuffix(host, ".")
	if p.credentials && origins.PlainScheme(scheme) && !origins.Loopback(host) {
		return false
	}
	for _, d := range p.predDomains {
		if underDomain(host, d) {
			return true
		}
	}
	return false
}

// underDomain reports whether host is d or a proper subdomain of d.
func underDomain(host, d string) bool {
	return host == d || len(host) > len(d) && host[len(host)-len(d)-1] == '.' && host[len(host)-len(d):] == d
}

// probeSuffixes are public suffixes under which anyone can get a site
// within minutes; New asks a credentialed predicate about an origin under
// each of them.
var probeSuffixes = []string{
	"com", "net", "org", "io", "co.uk", "com.au", "github.io", "gitlab.io", "herokuapp.com",
	"vercel.app", "netlify.app", "pages.dev", "workers.dev", "web.app", "firebaseapp.com",
	"appspot.com", "azurewebsites.net", "cloudfront.net", "s3.amazonaws.com", "blogspot.com",
	"ngrok.io", "glitch.me",
}

// probePredicate asks pred about origins nobody controls — random names,
// sites under public suffixes, look-alikes of the listed origins and of
// AllowOriginFuncDomains — and reports the first one it allows that is
// neither covered by an entry nor inside the domains. It is a check for
// common mistakes, not a proof: what the request path guarantees is the
// domain limit (predInScope).
func probePredicate(pred func(string) bool, p *policy) (string, bool) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	r := "bulwark-probe-" + hex.EncodeToString(b[:])
	probes := []string{
		"https://" + r + ".invalid",
		"http://" + r + ".example",
		"https://localhost." + r + ".net",
	}
	for _, ps := range probeSuffixes {
		probes = append(probes, "https://"+r+"."+ps)
	}
	hosts := make([]string, 0, len(p.exact)+len(p.patterns)+len(p.predDomains))
	for o := range p.exact {
		hosts = append(hosts, o[strings.Index(o, "://")+3:])
	}
	for _, s := range p.patterns {
		hosts = append(hosts, strings.TrimPrefix(s.Suffix, "."))
	}
	slices.Sort(hosts)
	hosts = append(hosts, p.predDomains...)
	for _, h := range hosts {
		if h[0] == '[' {
			continue // an IPv6 address has no look-alikes worth probing
		}
		h, _, _ = strings.Cut(h, ":")
		if h = strings.TrimSuffix(h, "."); h == "" {
			continue
		}
		probes = append(probes,
			"https://"+r+h,                // "evilexample.com"
			"https://"+h+"."+r+".invalid", // "example.com.evil.net"
			"https://"+h+"-"+r+".com",     // "example.com-evil.com"
			"https://"+r+"-"+strings.ReplaceAll(h, ".", "-")+".com",
			"https://"+strings.ReplaceAll(h, ".", "-")+"."+r+".com",
		)
		// A sibling under the same public suffix: "evil.co.uk" for
		// "example.co.uk", "evil.github.io" for "me.github.io".
		if ps, _ := publicsuffix.PublicSuffix(h); ps != h {
			probes = append(probes, "https://"+r+"."+ps)
		}
		// A sibling under the registrable domain: "evil.example.com" for
		// "app.example.com" (covered, and skipped, when the domains
		// include example.com).
		if reg, err := publicsuffix.EffectiveTLDPlusOne(h); err == nil && reg != h {
			probes = append(probes, "https://"+r+"."+reg, "https://"+reg)
		}
	}
	for _, o := range probes {
		if matchesEntry(p, o) || p.predDomains != nil && p.predInScope(o) {
			continue // the probe is legitimately covered
		}
		if askPredicate(pred, o) {
			return o, false
		}
	}
	return "", true
}

// askPredicate calls pred, counting a panic as an answer of "allowed" so
// that a predicate that cannot cope with strange origins is refused.
func askPredicate(pred func(string) bool, origin string) (allowed bool) {
	defer func() {
		if recover() != nil {
			allowed = true
		}
	}()
	return pred(origin)
}
