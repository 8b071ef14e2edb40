package abuse

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// A Source reads one value from a request: the key a view counts under
// (whose attempts) or the value it counts distinct (what they tried). Build
// it with Client, ClientPrefix, Principal, APIKey, Header, JSONField, Card,
// Func or Global. Whatever it reads is HMAC'd before it is stored or
// compared: the guard's store keys and members are HMACs, and its events
// name a key only by its handle (the audit event carries the client IP,
// as every guard's does; see the package doc, "Secrets and privacy").
type Source struct {
	name string
	json []string // JSON body members it reads
	form []string // urlencoded form fields it reads
	get  func(dst []byte, r *http.Request, in *input) ([]byte, bool)
	// cache lets the guard keep this source's raw values, with their HMAC,
	// in its bounded client cache (keyCache): only for values derived from
	// the client's address, never for secrets or card data.
	cache bool
}

// String names the source, for the gateway's configuration and logs.
func (s Source) String() string { return s.name }

func (s Source) valid() bool { return s.get != nil }

// clientAddr is the client the identity guard resolved, else the peer.
func clientAddr(r *http.Request) (netip.Addr, bool) {
	a := clientip.FromContext(r.Context())
	if !a.IsValid() {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap(), true
}

// Client keys by the client: the address the identity guard resolved (the
// peer without one), IPv6 grouped by /64 as the rate limits group it
// (clientip.RequestKey). A request whose client cannot be told counts as
// UnknownClient.
func Client() Source {
	return Source{name: "client", cache: true, get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		a, ok := clientAddr(r)
		if !ok {
			return append(dst, UnknownClient...), true
		}
		return clientip.AppendKey(dst, a), true
	}}
}

// ClientPrefix is the client's network: its IPv4 address cut to v4 bits,
// its IPv6 address to v6 bits (say 24 and 64). As the counted value of a
// view keyed by a card, it counts the networks a card is tried from.
func ClientPrefix(v4, v6 int) Source {
	return Source{name: "client/" + strconv.Itoa(v4) + "/" + strconv.Itoa(v6), cache: true, get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		a, ok := clientAddr(r)
		if !ok {
			return dst, false
		}
		bits := v6
		if a.Is4() {
			bits = v4
		}
		p, err := a.Prefix(bits)
		if err != nil {
			return dst, false
		}
		return p.AppendTo(dst), true
	}}
}

// Principal keys by the authenticated caller's stable ID (set by an
// authentication guard): use it after authentication (Policy.PostAuthAbuse).
// An anonymous request has no value: the view skips it.
func Principal() Source {
	return Source{name: "principal", get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		if st := reqctx.From(r.Context()); st != nil && st.PrincipalID != "" {
			return append(dst, st.PrincipalID...), true
		}
		return dst, false
	}}
}

// APIKey keys by the API key in the named header (e.g. "X-API-Key"); like
// every value, it is HMAC'd, never stored.
func APIKey(header string) Source {
	s := Header(header)
	s.name = "apikey:" + http.CanonicalHeaderKey(header)
	return s
}

// Header reads the first value of the named header (a device ID, say). A
// client controls its headers: key by one only when something trusted
// sets or checks it.
func Header(name string) Source {
	name = http.CanonicalHeaderKey(name)
	return Source{name: "header:" + name, get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		v := r.Header[name]
		if len(v) == 0 || v[0] == "" {
			return dst, false
		}
		return append(dst, v[0]...), true
	}}
}

// JSONField reads top-level members of the JSON request body (strings as
// their text, other values as their JSON), joined unambiguously; a
// missing member, or a body that is not a JSON object, gives no value. The
// body is read once for all of a guard's sources, under the body cap, and
// replayed for the handler (bind.Peek), in one pass that validates it as
// encoding/json does and skips what the guard does not watch. A body that
// names a watched member twice, or in another case, is refused with
// bind's 400 (duplicate_field, field_name_case) and counts nothing: the
// guard and the handler must not read one body two ways.
func JSONField(names ...string) Source {
	names = append([]string(nil), names...)
	return Source{name: "json:" + strings.Join(names, ","), json: names, get: func(dst []byte, _ *http.Request, in *input) ([]byte, bool) {
		for _, n := range names {
			v, ok := in.field(n)
			if !ok || v == "" {
				return dst, false
			}
			dst = strconv.AppendInt(dst, int64(len(v)), 10)
			dst = append(dst, ':')
			dst = append(dst, v...)
		}
		return dst, true
	}}
}

// FormField reads a field of an application/x-www-form-urlencoded request
// body (an HTML form's): its first value, when not empty. The login form's
// user name, FirstOf(JSONField("username"), FormField("username")), makes
// one credential-stuffing detector for a JSON login and a form login. The
// body is read under the body cap and replayed for the handler
// (bind.PeekForm); a multipart body is not read.
func FormField(name string) Source {
	return Source{name: "form:" + name, form: []string{name}, get: func(dst []byte, _ *http.Request, in *input) ([]byte, bool) {
		if in == nil || in.form == nil {
			return dst, false
		}
		v := in.form.Get(name)
		if v == "" {
			return dst, false
		}
		return append(dst, v...), true
	}}
}

// Card is the bottle post's card fingerprint: the last four digits of the
// card number in the JSON member number, and the expiry in month and year
// (a one- or two-digit month and a two- or four-digit year are the same
// expiry). Other digits, the CVV, the amount are left out, so a customer
// retrying one card with another CVV or address still counts once.
func Card(number, month, year string) Source {
	return Source{name: "card:" + number + "," + month + "," + year, json: []string{number, month, year}, get: func(dst []byte, _ *http.Request, in *input) ([]byte, bool) {
		num, ok1 := in.field(number)
		mm, ok2 := in.field(month)
		yy, ok3 := in.field(year)
		if !ok1 || !ok2 || !ok3 {
			return dst, false
		}
		var last [4]byte
		n := 0
		for i := len(num) - 1; i >= 0 && n < 4; i-- {
			if c := num[i]; c >= '0' && c <= '9' {
				n++
				last[4-n] = c
			}
		}
		m, err1 := strconv.Atoi(mm)
		y, err2 := strconv.Atoi(yy)
		if n < 4 || err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 {
			return dst, false
		}
		if y < 100 {
			y += 2000
		}
		dst = append(dst, last[:]...)
		dst = append(dst, '|')
		dst = strconv.AppendInt(dst, int64(m), 10)
		dst = append(dst, '/')
		return strconv.AppendInt(dst, int64(y), 10), true
	}}
}

// Func reads any value: fn returns it, or false when the request has none
// (the view then skips the request). name labels it in configuration.
func Func(name string, fn func(*http.Request) (string, bool)) Source {
	return Source{name: "func:" + name, get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		v, ok := fn(r)
		if !ok {
			return dst, false
		}
		return append(dst, v...), true
	}}
}

// Global is one key for every request the guard sees: the key of a
// route-wide view (mount the guard per route).
func Global() Source {
	return Source{name: "global", cache: true, get: func(dst []byte, _ *http.Request, _ *input) ([]byte, bool) {
		return append(dst, '*'), true
	}}
}

// BasicAuthUser reads the user name of an Authorization: Basic header: the
// fingerprint of a login route that takes HTTP Basic credentials.
func BasicAuthUser() Source {
	return Source{name: "basic-user", get: func(dst []byte, r *http.Request, _ *input) ([]byte, bool) {
		u, _, ok := r.BasicAuth()
		if !ok || u == "" {
			return dst, false
		}
		return append(dst, u...), true
	}}
}

// FirstOf reads the first of sources that has a value: one detector for a
// login that takes a JSON body on one route and Basic credentials on
// another, FirstOf(JSONField("username"), BasicAuthUser()), or a form login
// as well, with FormField("username").
func FirstOf(sources ...Source) Source {
	sources = append([]Source(nil), sources...)
	s := Source{name: "first-of"}
	for _, src := range sources {
		s.name += ":" + src.name
		s.json = append(s.json, src.json...)
		s.form = append(s.form, src.form...)
	}
	s.get = func(dst []byte, r *http.Request, in *input) ([]byte, bool) {
		for _, src := range sources {
			if out, ok := src.get(dst, r, in); ok {
				return out, true
			}
		}
		return dst, false
	}
	return s
}
