package clientip

import (
	"net/http"
	"net/netip"
)

// Key returns the rate-limiting key for addr: the address itself (as a
// /32) for IPv4, including IPv4-mapped IPv6, and its /64 for IPv6, since one
// IPv6 client usually controls a whole /64. It returns the zero Prefix for
// the zero Addr.
func Key(addr netip.Addr) netip.Prefix {
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	addr = normalize(addr)
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32)
	}
	p, _ := addr.Prefix(64)
	return p
}

// AppendKey appends the text of Key(addr) to dst, without allocating when
// dst has room: "198.51.100.7" for IPv4, "2001:db8:1:2::/64" for IPv6.
// Nothing is appended for the zero Addr.
func AppendKey(dst []byte, addr netip.Addr) []byte {
	if !addr.IsValid() {
		return dst
	}
	addr = normalize(addr)
	if addr.Is4() {
		return addr.AppendTo(dst)
	}
	p, _ := addr.Prefix(64)
	return p.AppendTo(dst)
}

// RequestKey returns the text of Key for r's client: the address
// Identity.Handler resolved, else the connection's peer (r.RemoteAddr) —
// the client ratelimit.ByIP counts. It returns "" when neither is known.
// Every guard that counts per client keys by it, never by the address's
// own text, so that an IPv6 client rotating its interface ID inside one
// /64 stays one client for all of them.
func RequestKey(r *http.Request) string {
	a := FromContext(r.Context())
	if !a.IsValid() {
		a = parseRemote(r.RemoteAddr)
	}
	var buf [48]byte // "ffff:ffff:ffff:ffff::/64" is 24 bytes
	return string(AppendKey(buf[:0], a))
}
