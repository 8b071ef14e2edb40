package cors

import (
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// publicSuffix reports whether domain (lower case, one trailing dot
// allowed) is a public suffix — a name under which anyone can register a
// site: a top-level domain ("com"), an ICANN suffix ("co.uk") or a private
// one ("github.io", "herokuapp.com") of the Public Suffix List, or any
// single label the list does not know (its default rule "*"). It returns
// where the list puts it, for error messages. "localhost" is not one: its
// subdomains are loopback names (see loopbackHost).
func publicSuffix(domain string) (section string, ok bool) {
	d := strings.TrimSuffix(domain, ".")
	if d == "localhost" {
		return "", false
	}
	ps, icann := publicsuffix.PublicSuffix(d)
	if ps != d {
		return "", false
	}
	switch {
	case icann:
		return "in the ICANN section of the Public Suffix List", true
	case strings.IndexByte(d, '.') >= 0:
		return "in the private section of the Public Suffix List", true
	}
	return "a top-level name the Public Suffix List does not know, which its default rule makes public", true
}

// loopbackHost reports whether a canonical host names the local machine,
// as the Secure Contexts standard counts it (a "potentially trustworthy"
// origin even over http): localhost and its subdomains, 127.0.0.0/8 and
// [::1].
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// plainScheme reports whether scheme carries a page over the network
// without TLS, so that anyone on the path can inject script into it.
func plainScheme(scheme string) bool { return scheme == "http" || scheme == "ws" }

// publicSuffixPattern reports whether o is a wildcard over a public suffix
// ("https://*.co.uk"), which matches sites run by anyone.
func (o *originSpec) publicSuffixPattern() (section string, ok bool) {
	if !o.pattern {
		return "", false
	}
	return publicSuffix(o.host)
}

// trustworthy reports whether an allowed origin may read credentialed
// responses: not served over plain HTTP, unless from the local machine.
func (o *originSpec) trustworthy() bool {
	return !plainScheme(o.scheme) || loopbackHost(o.host)
}
