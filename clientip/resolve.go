package clientip

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// status is the outcome of reading one forwarding entry.
type status uint8

const (
	stOK      status = iota
	stUnknown        // "unknown", an obfuscated identifier, or no for=: stop, not an error
	stInvalid        // malformed: stop and flag
	stTooMany        // MaxHops trusted entries walked
)

// resolve returns the client address, whether the client used HTTPS, and an
// audit reason when something about the forwarding headers deserves a flag.
func (id *Identity) resolve(r *http.Request) (client netip.Addr, secure bool, flag string) {
	peer := parseRemote(r.RemoteAddr)
	secure = r.TLS != nil
	if !id.peerTrusted(peer) {
		return peer, secure, ""
	}
	found := false
	for _, src := range id.sources {
		lines := r.Header[src.key]
		if len(lines) == 0 {
			continue
		}
		addr, https, st := id.walk(src.kind, lines, peer)
		switch st {
		case stInvalid:
			flag = flagInvalid
		case stTooMany:
			if flag == "" {
				flag = flagTooLong
			}
		}
		secure = secure || https
		if !found {
			client, found = addr, true
		} else if addr != client {
			return peer, secure, flagDisagree
		}
	}
	if !found {
		client = peer
	}
	if id.useXFP && !secure {
		secure = forwardedProtoHTTPS(r.Header["X-Forwarded-Proto"])
	}
	return client, secure, flag
}

func (id *Identity) peerTrusted(peer netip.Addr) bool {
	if id.hops > 0 {
		return true
	}
	if !peer.IsValid() {
		return id.trustUnix
	}
	return id.inPrefixes(peer)
}

func (id *Identity) inPrefixes(a netip.Addr) bool {
	for _, p := range id.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// walk reads the forwarding entries in lines from the right. The result is
// the first untrusted address or, when the walk stops early, the nearest
// trusted address reached (cand, initially the peer).
func (id *Identity) walk(kind uint8, lines []string, peer netip.Addr) (netip.Addr, bool, status) {
	it := entries{lines: lines, li: len(lines) - 1, rest: lines[len(lines)-1], quoted: kind == kindForwarded}
	if kind == kindXRealIP {
		it.sep = 0 // one address per line
	} else {
		it.sep = ','
	}
	cand, candHTTPS := peer, false
	for hop := 1; hop <= MaxHops; hop++ {
		e, ok, balanced := it.next()
		if !balanced {
			return cand, candHTTPS, stInvalid
		}
		if !ok {
			return cand, candHTTPS, stOK
		}
		var (
			addr  netip.Addr
			https bool
			st    status
		)
		if kind == kindForwarded {
			addr, https, st = parseForwardedElement(e)
		} else {
			addr, st = parseXFFEntry(e)
		}
		if st != stOK {
			return cand, candHTTPS, st
		}
		if id.hops > 0 {
			if hop >= id.hops {
				return addr, https, stOK
			}
		} else if !id.inPrefixes(addr) {
			return addr, https, stOK
		}
		cand, candHTTPS = addr, https
	}
	return cand, candHTTPS, stTooMany
}

// entries iterates over the comma-separated entries of header lines from
// the last entry of the last line to the first of the first, skipping empty
// entries, without allocating.
type entries struct {
	lines  []string
	li     int
	rest   string
	sep    byte // 0: each line is one entry
	quoted bool // commas inside double quotes do not separate (Forwarded)
}

// next returns the next entry from the right; ok is false at the end, and
// balanced is false when an entry has an unterminated quoted string.
func (it *entries) next() (e string, ok, balanced bool) {
	for {
		for it.rest == "" {
			it.li--
			if it.li < 0 {
				return "", false, true
			}
			it.rest = it.lines[it.li]
		}
		i := -1
		switch {
		case it.sep == 0:
		case !it.quoted:
			i = strings.LastIndexByte(it.rest, it.sep)
		default:
			inQ := false
			for j := len(it.rest) - 1; j >= 0; j-- {
				c := it.rest[j]
				if c == '"' {
					inQ = !inQ
				} else if c == ',' && !inQ {
					i = j
					break
				}
			}
			if inQ {
				return "", false, false
			}
		}
		e = it.rest[i+1:]
		if i < 0 {
			it.rest = ""
		} else {
			it.rest = it.rest[:i]
		}
		if e = httpsyntax.TrimOWS(e); e != "" {
			return e, true, true
		}
	}
}

// normalize folds IPv4-mapped IPv6 to IPv4 and drops any zone, so that no
// alternative spelling of an address escapes a trusted-prefix check.
func normalize(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// parseIPv4 parses a dotted-quad IPv4 address exactly as netip.ParseAddr
// does (four decimal fields of at most 255, no leading zeros), only faster:
// it is the common case on the hot path.
func parseIPv4(s string) (netip.Addr, bool) {
	var (
		ip     [4]byte
		n      int // fields done
		val    int
		digits int
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.':
			if digits == 0 || n == 3 {
				return netip.Addr{}, false
			}
			ip[n] = byte(val)
			n, val, digits = n+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if n != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}

// parseRemote parses r.RemoteAddr ("ip:port", "[ipv6]:port" or a bare IP).
func parseRemote(s string) netip.Addr {
	if i := strings.LastIndexByte(s, ':'); i > 0 && digitPort(s[i+1:]) {
		if a, ok := parseIPv4(s[:i]); ok {
			return a
		}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr())
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a)
	}
	return netip.Addr{}
}

// parseXFFEntry parses one X-Forwarded-For or X-Real-IP entry: an IPv4 or
// IPv6 address, optionally bracketed (IPv6) and optionally with a port.
func parseXFFEntry(s string) (netip.Addr, status) {
	if a, ok := parseIPv4(s); ok {
		return a, stOK
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, stInvalid
		}
		if rest := s[end+1:]; rest != "" && (rest[0] != ':' || !digitPort(rest[1:])) {
			return netip.Addr{}, stInvalid
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, stInvalid
		}
		return normalize(a), stOK
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a), stOK
	}
	if i := strings.IndexByte(s, ':'); i > 0 && strings.IndexByte(s[i+1:], ':') < 0 && digitPort(s[i+1:]) {
		if a, ok := parseIPv4(s[:i]); ok {
			return a, stOK
		}
	}
	if strings.EqualFold(s, "unknown") {
		return netip.Addr{}, stUnknown
	}
	return netip.Addr{}, stInvalid
}

// parseForwardedElement reads the for= and proto= parameters of one
// RFC 7239 forwarded-element.
func parseForwardedElement(e string) (netip.Addr, bool, status) {
	var (
		forVal         string
		haveFor, https bool
		haveProto      bool
	)
	for e != "" {
		// Cut the next pair at a semicolon outside quotes (the element's
		// quotes are balanced: entries.next checked).
		end, inQ := len(e), false
		for j := 0; j < len(e); j++ {
			if c := e[j]; c == '"' {
				inQ = !inQ
			} else if c == ';' && !inQ {
				end = j
				break
			}
		}
		pair := httpsyntax.TrimOWS(e[:end])
		if end < len(e) {
			e = e[end+1:]
		} else {
			e = ""
		}
		if pair == "" {
			continue
		}
		eq := strings.IndexByte(pair, '=')
		if eq <= 0 {
			return netip.Addr{}, false, stInvalid
		}
		name, val := pair[:eq], pair[eq+1:]
		if len(val) > 0 && val[0] == '"' {
			if len(val) < 2 || val[len(val)-1] != '"' {
				return netip.Addr{}, false, stInvalid
			}
			val = val[1 : len(val)-1]
			if strings.ContainsAny(val, "\"\\") { // quoted-pairs never occur in addresses
				return netip.Addr{}, false, stInvalid
			}
		}
		switch {
		case strings.EqualFold(name, "for"):
			if haveFor {
				return netip.Addr{}, false, stInvalid
			}
			haveFor, forVal = true, val
		case strings.EqualFold(name, "proto"):
			if haveProto {
				return netip.Addr{}, false, stInvalid
			}
			haveProto, https = true, strings.EqualFold(val, "https")
		}
	}
	if !haveFor {
		return netip.Addr{}, false, stUnknown
	}
	a, st := parseNode(forVal)
	return a, https && st == stOK, st
}

// parseNode parses an RFC 7239 node: IPv4 or "[IPv6]", optionally with a
// port (digits, or an obfuscated "_port"); "unknown" and obfuscated
// identifiers ("_hidden") are reported as stUnknown.
func parseNode(v string) (netip.Addr, status) {
	if v == "" {
		return netip.Addr{}, stInvalid
	}
	if v[0] == '_' || len(v) >= 7 && strings.EqualFold(v[:7], "unknown") && (len(v) == 7 || v[7] == ':') {
		return netip.Addr{}, stUnknown
	}
	if v[0] == '[' {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, stInvalid
		}
		if rest := v[end+1:]; rest != "" && (rest[0] != ':' || !nodePort(rest[1:])) {
			return netip.Addr{}, stInvalid
		}
		a, err := netip.ParseAddr(v[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, stInvalid
		}
		return normalize(a), stOK
	}
	host := v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		host = v[:i]
		if !nodePort(v[i+1:]) {
			return netip.Addr{}, stInvalid
		}
	}
	a, ok := parseIPv4(host)
	if !ok {
		return netip.Addr{}, stInvalid
	}
	return a, stOK
}

func digitPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nodePort accepts an RFC 7239 node-port: 1*5DIGIT or "_" 1*(ALPHA / DIGIT
// / "." / "_" / "-").
func nodePort(s string) bool {
	if len(s) > 1 && s[0] == '_' {
		for i := 1; i < len(s); i++ {
			c := s[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return true
	}
	return digitPort(s)
}

// forwardedProtoHTTPS reports whether X-Forwarded-Proto's right-most value
// is "https". Proxies that overwrite the header leave one value; proxies
// that append add theirs on the right, so the right-most value is the one
// the trusted peer wrote, and anything to its left may be the client's.
func forwardedProtoHTTPS(lines []string) bool {
	if len(lines) == 0 {
		return false
	}
	v := lines[len(lines)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.EqualFold(httpsyntax.TrimOWS(v), "https")
}
