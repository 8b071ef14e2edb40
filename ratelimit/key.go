package ratelimit

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// KeySpec says what a limit counts by. Every limit names its key explicitly:
//
//	ratelimit.ByIP()                         // the client IP (IPv6 by /64)
//	ratelimit.ByPrincipal()                  // the authenticated caller, else the IP
//	ratelimit.ByAPIKey("X-API-Key")          // a hash of the API key
//	ratelimit.ByHeader("X-Tenant")           // a header's value
//	ratelimit.ByRoute()                      // the matched route pattern
//	ratelimit.ByFunc(f)                      // anything else
//	ratelimit.Global()                       // every request together
//	ratelimit.Compose(ratelimit.ByRoute(), ratelimit.ByIP()) // per route and IP
//
// The package documentation (Keys) says how keys are built and what
// happens to a request whose key cannot be derived.
//
// The text form ("ip", "ip/24/48", "principal", "apikey:X-API-Key",
// "header:X-Tenant", "route", "global", parts joined by '+') is what
// configuration files use; see ParseKey. ByFunc keys have no text form.
//
// Allow and AllowN take their keys from the caller and do not use these;
// a limit still names one, so that every limiter can also guard requests.
type KeySpec struct {
	parts []keyPart
}

type keyKind uint8

const (
	kindIP keyKind = iota + 1
	kindPrincipal
	kindAPIKey
	kindHeader
	kindRoute
	kindFunc
	kindGlobal
)

type keyPart struct {
	kind   keyKind
	v4, v6 uint8  // IP prefix lengths (kindIP, kindPrincipal fallback)
	header string // canonical header name (kindAPIKey, kindHeader)
	fn     func(*http.Request) (string, bool)
}

// ByIP keys by the client IP that the client-identity guard resolved
// (package clientip; trusted proxies only), or by the connection's peer
// address when no identity guard ran. IPv6 clients are grouped by /64,
// since one client usually controls a whole /64.
func ByIP() KeySpec { return KeySpec{parts: []keyPart{{kind: kindIP, v4: 32, v6: 64}}} }

// ByIPPrefix keys by the client IP's prefix of v4Bits (IPv4) or v6Bits
// (IPv6) bits, e.g. ByIPPrefix(24, 48) to count whole networks together.
// Out-of-range lengths are clamped (IPv4 to 8–32, IPv6 to 16–128).
func ByIPPrefix(v4Bits, v6Bits int) KeySpec {
	return KeySpec{parts: []keyPart{{kind: kindIP, v4: uint8(min(max(v4Bits, 8), 32)), v6: uint8(min(max(v6Bits, 16), 128))}}}
}

// ByPrincipal keys by the authenticated caller's stable ID (set by an
// authentication guard); anonymous requests are keyed by client IP, as
// ByIP. Put the limiter after authentication.
func ByPrincipal() KeySpec { return KeySpec{parts: []keyPart{{kind: kindPrincipal, v4: 32, v6: 64}}} }

// ByAPIKey keys by the API key in the named request header (e.g.
// "X-API-Key"). The key is hashed with SHA-256 before it is used, so it is
// never stored or sent to Redis in the clear.
func ByAPIKey(header string) KeySpec {
	return KeySpec{parts: []keyPart{{kind: kindAPIKey, header: http.CanonicalHeaderKey(header)}}}
}

// ByHeader keys by the first value of the named request header. A client
// controls its headers: key by a header only when something trusted (a
// proxy, an authentication guard) sets or checks it, or compose it with
// ByIP.
func ByHeader(name string) KeySpec {
	return KeySpec{parts: []keyPart{{kind: kindHeader, header: http.CanonicalHeaderKey(name)}}}
}

// ByRoute keys by the route pattern that matched the request ("POST
// /api/login": r.Pattern inside a ServeMux, or what bulwark.SetRoute
// recorded). Before routing no pattern is known, and every request counts
// in one shared "unrouted" bucket — never by its path, which the client
// chooses: put the limiter inside the router (a route's own Policy).
func ByRoute() KeySpec { return KeySpec{parts: []keyPart{{kind: kindRoute}}} }

// ByFunc keys by what f returns; f returns false when it cannot derive a
// key (the request is then counted in the limit's shared bucket). f runs on
// every request: keep it cheap.
func ByFunc(f func(r *http.Request) (string, bool)) KeySpec {
	if f == nil {
		return KeySpec{}
	}
	return KeySpec{parts: []keyPart{{kind: kindFunc, fn: f}}}
}

// Global counts every request together, in one shared bucket per limit:
// a ceiling on the total (a report endpoint's 10 requests a second), not a
// fair share per client — compose it with a per-client limit for that.
func Global() KeySpec { return KeySpec{parts: []keyPart{{kind: kindGlobal}}} }

// Compose keys by all of keys together, e.g. Compose(ByRoute(), ByIP()) for
// a limit per route and client.
func Compose(keys ...KeySpec) KeySpec {
	var k KeySpec
	for _, x := range keys {
		k.parts = append(k.parts, x.parts...)
	}
	return k
}

// IsZero reports whether k says nothing (the zero Key).
func (k KeySpec) IsZero() bool { return len(k.parts) == 0 }

// String returns the key's text form, e.g. "route+ip".
func (k KeySpec) String() string {
	if k.IsZero() {
		return "none"
	}
	var b strings.Builder
	for i, p := range k.parts {
		if i > 0 {
			b.WriteByte('+')
		}
		switch p.kind {
		case kindIP:
			b.WriteString("ip")
			if p.v4 != 32 || p.v6 != 64 {
				fmt.Fprintf(&b, "/%d/%d", p.v4, p.v6)
			}
		case kindPrincipal:
			b.WriteString("principal")
		case kindAPIKey:
			b.WriteString("apikey:" + p.header)
		case kindHeader:
			b.WriteString("header:" + p.header)
		case kindRoute:
			b.WriteString("route")
		case kindFunc:
			b.WriteString("func")
		case kindGlobal:
			b.WriteString("global")
		}
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler; ByFunc keys, and keys
// whose text would not parse back, cannot be marshalled.
func (k KeySpec) MarshalText() ([]byte, error) {
	for _, p := range k.parts {
		if p.kind == kindFunc {
			return nil, errors.New("ratelimit: a ByFunc key has no text form")
		}
	}
	s := k.String()
	if back, err := ParseKey(s); err != nil || back.String() != s {
		return nil, fmt.Errorf("ratelimit: key %q has no text form (a header name with '+'?)", s)
	}
	return []byte(s), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseKey.
func (k *KeySpec) UnmarshalText(b []byte) error {
	x, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = x
	return nil
}

// ParseKey parses a key's text form: parts joined by '+', each one of "ip",
// "ip/V4BITS/V6BITS", "principal", "apikey:HEADER", "header:HEADER",
// "route" or "global". Example: "route+ip".
func ParseKey(s string) (KeySpec, error) {
	if len(s) > 256 {
		return KeySpec{}, errors.New("ratelimit: key spec longer than 256 bytes")
	}
	var k KeySpec
	for part := range strings.SplitSeq(s, "+") {
		p := strings.TrimSpace(part)
		name, arg, hasArg := strings.Cut(p, ":")
		name = strings.ToLower(name)
		switch {
		case name == "ip" && !hasArg:
			k.parts = append(k.parts, ByIP().parts...)
		case strings.HasPrefix(name, "ip/") && !hasArg:
			f := strings.Split(name, "/")
			if len(f) != 3 {
				return KeySpec{}, fmt.Errorf("ratelimit: key part %q: want ip/V4BITS/V6BITS, e.g. ip/24/48", p)
			}
			v4, err4 := strconv.Atoi(f[1])
			v6, err6 := strconv.Atoi(f[2])
			if err4 != nil || err6 != nil || v4 < 8 || v4 > 32 || v6 < 16 || v6 > 128 {
				return KeySpec{}, fmt.Errorf("ratelimit: key part %q: prefix lengths must be 8–32 (IPv4) and 16–128 (IPv6)", p)
			}
			k.parts = append(k.parts, ByIPPrefix(v4, v6).parts...)
		case name == "principal" && !hasArg:
			k.parts = append(k.parts, ByPrincipal().parts...)
		case name == "route" && !hasArg:
			k.parts = append(k.parts, ByRoute().parts...)
		case name == "global" && !hasArg:
			k.parts = append(k.parts, Global().parts...)
		case (name == "apikey" || name == "header") && hasArg:
			h := strings.TrimSpace(arg)
			if !validHeaderName(h) {
				return KeySpec{}, fmt.Errorf("ratelimit: key part %q: %q is not a valid header name", p, h)
			}
			if name == "apikey" {
				k.parts = append(k.parts, ByAPIKey(h).parts...)
			} else {
				k.parts = append(k.parts, ByHeader(h).parts...)
			}
		default:
			return KeySpec{}, fmt.Errorf("ratelimit: unknown key part %q (want ip, ip/V4/V6, principal, apikey:HEADER, header:HEADER, route or global, joined by '+')", p)
		}
	}
	return k, nil
}

func validHeaderName(h string) bool { return len(h) <= 128 && httpsyntax.IsToken(h) }

// maxRawKeyPart is the longest key value used as is; longer ones are
// replaced by a digest.
const maxRawKeyPart = 64

// appendKey appends the key for r to dst. It never fails: a part that
// cannot be derived appends its "missing" marker.
func (k *KeySpec) appendKey(dst []byte, r *http.Request) []byte {
	for i := range k.parts {
		if i > 0 {
			dst = append(dst, '|')
		}
		dst = k.parts[i].appendPart(dst, r)
	}
	return dst
}

func (p *keyPart) appendPart(dst []byte, r *http.Request) []byte {
	switch p.kind {
	case kindIP:
		return appendIP(dst, r, p.v4, p.v6)
	case kindPrincipal:
		if st := reqctx.From(r.Context()); st != nil && st.PrincipalID != "" {
			return appendSafe(append(dst, "p:"...), st.PrincipalID)
		}
		return appendIP(dst, r, p.v4, p.v6)
	case kindAPIKey:
		v := headerValue(r, p.header)
		if v == "" {
			return append(dst, "ak!"...)
		}
		return appendDigest(append(dst, "ak:"...), v)
	case kindHeader:
		v := headerValue(r, p.header)
		if v == "" {
			return append(dst, "h!"...)
		}
		return appendSafe(append(dst, "h:"...), v)
	case kindRoute:
		if p := reqctx.Pattern(r); p != "" {
			return appendSafe(append(dst, "rt:"...), p)
		}
		return append(dst, "rt!"...)
	case kindGlobal:
		return append(dst, "all"...)
	case kindFunc:
		v, ok := p.fn(r)
		if !ok {
			return append(dst, "f!"...)
		}
		return appendSafe(append(dst, "f:"...), v)
	}
	return dst
}

func headerValue(r *http.Request, canon string) string {
	if v := r.Header[canon]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// clientAddr is the client IP from the request state, else the peer.
func clientAddr(r *http.Request) netip.Addr {
	if st := reqctx.From(r.Context()); st != nil && st.ClientIP.IsValid() {
		return st.ClientIP
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a
}

func appendIP(dst []byte, r *http.Request, v4, v6 uint8) []byte {
	a := clientAddr(r)
	if !a.IsValid() {
		return append(dst, "ip!"...)
	}
	dst = append(dst, "ip:"...)
	if v4 == 32 && v6 == 64 {
		return clientip.AppendKey(dst, a)
	}
	a = a.Unmap()
	bits := int(v6)
	if a.Is4() {
		bits = int(v4)
	}
	p, _ := a.Prefix(bits)
	return p.AppendTo(dst)
}

// appendSafe appends v when it is short and printable, else its digest.
func appendSafe(dst []byte, v string) []byte {
	if len(v) <= maxRawKeyPart {
		ok := true
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c > 0x7e || c == '{' || c == '}' || c == '|' || c == '#' {
				ok = false
				break
			}
		}
		if ok {
			return append(dst, v...)
		}
	}
	return appendDigest(append(dst, '#'), v)
}

// appendDigest appends base64url(SHA-256(v)[:16]): 22 bytes.
func appendDigest(dst []byte, v string) []byte {
	// Sum256 neither keeps nor changes its input, so hashing the string's
	// bytes in place is safe and spares a copy.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(v), len(v)))
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}
