// Package origin parses, canonicalises and matches web origins
// (scheme://host[:port]) as the URL and Fetch standards serialize them:
// exact origins and "scheme://*.domain[:port]" wildcard patterns, with the
// Public Suffix List checks that keep a pattern from covering strangers'
// sites. The cors and csrf guards share it.
package origin

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// MaxLen bounds the Origin header values the matcher looks at: a
// serialized origin is a scheme, a host of at most 253 bytes and a port, so
// anything longer is not one.
const MaxLen = 512

// DefaultPort maps the schemes with a default port to it; an origin with
// the default port is serialized without it.
func DefaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// opaqueSchemes produce opaque origins: a browser sends "Origin: null" for
// pages loaded from them, so they never appear in an Origin header.
var opaqueSchemes = map[string]bool{"file": true, "data": true, "about": true, "blob": true, "javascript": true}

// Spec is a parsed AllowedOrigins entry: an exact origin or a
// wildcard-subdomain pattern.
type Spec struct {
	Canon   string // canonical serialized origin, or the canonical pattern
	Pattern bool   // a "scheme://*.domain[:port]" pattern
	Scheme  string // lower-case scheme
	Host    string // canonical host without port; for patterns the domain under the wildcard
	// For patterns: the origin must be prefix + subdomain labels + suffix.
	Prefix string // "https://"
	Suffix string // ".example.com" or ".example.com:8443"
}

// ParseSpec parses and normalises one AllowedOrigins entry. Scheme
// and host are lower-cased, a default port is dropped; a trailing dot is
// kept (example.com. is a different origin from example.com, as browsers
// treat it).
func ParseSpec(raw string) (Spec, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Spec{}, fmt.Errorf("empty origin")
	}
	if s == "*" {
		return Spec{}, fmt.Errorf(`"*" must be the only entry`)
	}
	if strings.EqualFold(s, "null") {
		return Spec{}, fmt.Errorf(`"null" is not listed in AllowedOrigins: set AllowNullOrigin instead (and know that sandboxed iframes, file: pages and data: URLs all share that origin)`)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return Spec{}, fmt.Errorf("origin contains a space, control or non-ASCII character; write international domain names in their punycode (xn--) form")
		}
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return Spec{}, fmt.Errorf(`not an origin: want scheme://host[:port], e.g. "https://app.example.com"`)
	}
	scheme := strings.ToLower(s[:i])
	if !validScheme(scheme) {
		return Spec{}, fmt.Errorf("invalid scheme %q", s[:i])
	}
	if opaqueSchemes[scheme] {
		return Spec{}, fmt.Errorf("%s: URLs have an opaque origin; browsers send \"Origin: null\" for them (see AllowNullOrigin)", scheme)
	}
	rest := s[i+3:]
	if j := strings.IndexAny(rest, "/?#\\"); j >= 0 {
		if rest[j] == '/' && j == len(rest)-1 {
			return Spec{}, fmt.Errorf("an origin has no path: drop the trailing slash (%q)", s[:len(s)-1])
		}
		return Spec{}, fmt.Errorf("an origin is scheme://host[:port] only, without path, query or fragment")
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return Spec{}, fmt.Errorf("an origin has no user information (user@host); browsers never send one")
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return Spec{}, err
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return Spec{}, fmt.Errorf("invalid port %q (want 1-65535)", port)
		}
		port = strconv.Itoa(n)
		if port == DefaultPort(scheme) {
			port = "" // browsers never send the default port
		}
	}
	if port != "" {
		port = ":" + port
	}
	if strings.HasPrefix(host, "*.") {
		base := strings.ToLower(host[2:])
		if err := validPatternBase(base); err != nil {
			return Spec{}, err
		}
		prefix := scheme + "://"
		return Spec{Canon: prefix + "*." + base + port, Pattern: true, Scheme: scheme, Host: base, Prefix: prefix, Suffix: "." + base + port}, nil
	}
	if strings.IndexByte(host, '*') >= 0 {
		return Spec{}, fmt.Errorf(`a wildcard is only supported as the whole leftmost label ("https://*.example.com" matches the proper subdomains of example.com); "*" alone allows every origin`)
	}
	h, err := canonicalHost(host)
	if err != nil {
		return Spec{}, err
	}
	return Spec{Canon: scheme + "://" + h + port, Scheme: scheme, Host: h}, nil
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// splitHostPort splits "host[:port]" or "[v6][:port]".
func splitHostPort(s string) (host, port string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("an origin needs a host")
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated IPv6 address")
		}
		var rest string
		host, rest = s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if rest[0] != ':' {
			return "", "", fmt.Errorf("unexpected %q after the IPv6 address", rest)
		}
		port = rest[1:]
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	} else {
		return s, "", nil
	}
	if port == "" {
		return "", "", fmt.Errorf("empty port: drop the colon or give a port")
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", "", fmt.Errorf("invalid port %q (want 1-65535)", port)
		}
	}
	if host == "" {
		return "", "", fmt.Errorf("an origin needs a host")
	}
	return host, port, nil
}

// canonicalHost lower-cases and checks a host: a domain name, a dotted IPv4
// address or a bracketed IPv6 address, serialized as the URL standard does.
func canonicalHost(h string) (string, error) {
	if h[0] == '[' {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("invalid IPv6 address %s", h)
		}
		return "[" + serializeIPv6(a.As16()) + "]", nil
	}
	h = strings.ToLower(h)
	if EndsInNumber(h) {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return "", fmt.Errorf("invalid IPv4 address %q (write it as four decimal numbers, e.g. 127.0.0.1)", h)
		}
		return a.String(), nil
	}
	if err := ValidDomain(h, true); err != nil {
		return "", err
	}
	return h, nil
}

// EndsInNumber reports whether the URL standard would parse host as an
// IPv4 address: its last label (ignoring one trailing dot) is a number.
func EndsInNumber(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		h = h[i+1:]
	}
	if h == "" {
		return false
	}
	if len(h) >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		return true
	}
	for i := 0; i < len(h); i++ {
		if h[i] < '0' || h[i] > '9' {
			return false
		}
	}
	return true
}

// ValidDomain checks a lower-case domain name: labels of letters, digits,
// '-' and '_', 1-63 bytes each, at most 253 bytes, and (when trailingDot)
// optionally one trailing dot.
func ValidDomain(h string, trailingDot bool) error {
	name := h
	if trailingDot {
		name = strings.TrimSuffix(h, ".")
	}
	if name == "" || len(name) > 253 {
		return fmt.Errorf("invalid host %q", h)
	}
	if !validLabels(name) {
		return fmt.Errorf("invalid host %q: want letters, digits, '-' and '_' in dot-separated labels of 1-63 characters", h)
	}
	return nil
}

// validLabels reports whether s is one or more dot-separated labels of
// [a-z0-9_-], each 1-63 bytes long. It is on the request path (wildcard
// matching) and does not allocate.
func validLabels(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			n++
			if n > 63 {
				return false
			}
		case c == '.':
			if n == 0 {
				return false
			}
			n = 0
		default:
			return false
		}
	}
	return n > 0
}

// validPatternBase checks the syntax of the domain under a wildcard: a
// domain name, not an address. Whether the domain is a public suffix
// ("*.com", "*.co.uk", "*.github.io") is checked by compile, which refuses
// it as insecure.
func validPatternBase(base string) error {
	if strings.IndexByte(base, '*') >= 0 {
		return fmt.Errorf(`only one wildcard, as the whole leftmost label, is supported (e.g. "https://*.example.com")`)
	}
	if base == "" || strings.HasPrefix(base, "[") || EndsInNumber(base) {
		return fmt.Errorf("a wildcard needs a domain name under it, not an IP address")
	}
	return ValidDomain(base, true)
}

// serializeIPv6 writes an IPv6 address as the URL standard does: lower-case
// hex pieces without leading zeros, the first longest run of two or more
// zero pieces compressed to "::".
func serializeIPv6(a [16]byte) string {
	var p [8]uint16
	for i := range p {
		p[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	start, length := -1, 1
	for i := 0; i < 8; {
		if p[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && p[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			b.WriteString("::")
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(p[i]), 16))
	}
	return b.String()
}

// Match reports whether origin is prefix + one or more valid
// subdomain labels + suffix: a proper subdomain of the pattern's domain,
// with the pattern's scheme and port. It does not allocate.
func (o *Spec) Match(origin string) bool {
	if len(origin) <= len(o.Prefix)+len(o.Suffix) ||
		origin[:len(o.Prefix)] != o.Prefix ||
		origin[len(origin)-len(o.Suffix):] != o.Suffix {
		return false
	}
	sub := origin[len(o.Prefix) : len(origin)-len(o.Suffix)]
	// The whole host (sub + base) must stay a plausible domain name.
	return len(origin)-len(o.Prefix) <= 260 && validLabels(sub)
}

// IsSerialized reports whether s has the form a browser serializes
// an origin in: a lower-case scheme, "://", a lower-case host (domain name,
// IPv4 or bracketed IPv6) and an optional non-default port without leading
// zeros. Predicates only ever see such strings. It does not allocate.
func IsSerialized(s string) bool {
	if len(s) > MaxLen {
		return false
	}
	i := strings.Index(s, "://")
	if i <= 0 || !validScheme(s[:i]) {
		return false
	}
	scheme, rest := s[:i], s[i+3:]
	if rest == "" {
		return false
	}
	var port string
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 2 {
			return false
		}
		for j := 1; j < end; j++ {
			c := rest[j]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
				return false
			}
		}
		switch r := rest[end+1:]; {
		case r == "":
		case r[0] == ':':
			port = r[1:]
			if port == "" {
				return false
			}
		default:
			return false
		}
	} else {
		host := rest
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			host, port = rest[:j], rest[j+1:]
			if port == "" {
				return false
			}
		}
		if !validLabels(strings.TrimSuffix(host, ".")) {
			return false
		}
	}
	if port == "" {
		return true
	}
	if len(port) > 5 || port[0] == '0' || port == DefaultPort(scheme) {
		return false
	}
	n := 0
	for j := 0; j < len(port); j++ {
		c := port[j]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// PublicSuffix reports whether domain (lower case, one trailing dot
// allowed) is a public suffix — a name under which anyone can register a
// site: a top-level domain ("com"), an ICANN suffix ("co.uk") or a private
// one ("github.io", "herokuapp.com") of the Public Suffix List, or any
// single label the list does not know (its default rule "*"). It returns
// where the list puts it, for error messages. "localhost" is not one: its
// subdomains are loopback names (see Loopback).
func PublicSuffix(domain string) (section string, ok bool) {
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

// Loopback reports whether a canonical host names the local machine,
// as the Secure Contexts standard counts it (a "potentially Trustworthy"
// origin even over http): localhost and its subdomains, 127.0.0.0/8 and
// [::1].
func Loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// PlainScheme reports whether scheme carries a page over the network
// without TLS, so that anyone on the path can inject script into it.
func PlainScheme(scheme string) bool { return scheme == "http" || scheme == "ws" }

// PublicSuffixPattern reports whether o is a wildcard over a public suffix
// ("https://*.co.uk"), which matches sites run by anyone.
func (o *Spec) PublicSuffixPattern() (section string, ok bool) {
	if !o.Pattern {
		return "", false
	}
	return PublicSuffix(o.Host)
}

// Trustworthy reports whether an allowed origin may read credentialed
// responses: not served over plain HTTP, unless from the local machine.
func (o *Spec) Trustworthy() bool {
	return !PlainScheme(o.Scheme) || Loopback(o.Host)
}
