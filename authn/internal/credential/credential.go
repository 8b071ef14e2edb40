// Package credential reads the credentials a request carries — an
// Authorization header field, a cookie, a query parameter — by one set of
// rules for every authenticator of package authn (jwt, apikey, basic,
// introspect). It returns values and outcomes, never problems: each
// authenticator keeps its own reasons and statuses.
//
// The Authorization rules are RFC 9110 §11.4's: credentials = auth-scheme
// [ 1*SP ( token68 / #auth-param ) ]. The scheme ends at the first space
// and is compared case-insensitively ("bearer" is "Bearer"; "BearerX" is
// another scheme); the spaces after it and any trailing whitespace are not
// part of the credentials. Checking the credentials' own syntax (token68,
// base64, a size limit) is the caller's: the reasons differ.
package credential

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// Field returns the value of the header field key (in canonical form, as
// http.Header stores it) and how many fields of that name the request
// carries: 0 (v is ""), 1 (v is its value) or more — ambiguous, which
// every authenticator refuses rather than pick one.
func Field(h http.Header, key string) (v string, n int) {
	vals := h[key]
	if len(vals) == 1 {
		return vals[0], 1
	}
	return "", len(vals)
}

// Split splits an Authorization value at its first space: the
// auth-scheme, and the credentials without the spaces that follow the
// scheme or the whitespace (spaces, tabs) that ends the value. A value
// without a space is all scheme, with empty credentials.
func Split(v string) (scheme, creds string) {
	scheme, rest, _ := strings.Cut(v, " ")
	return scheme, strings.TrimRight(strings.TrimLeft(rest, " "), " \t")
}

// Scheme returns the credentials of the Authorization value v, and
// whether v is in scheme (case-insensitive). A value in scheme may have
// empty credentials ("Bearer", "Bearer   "): the caller refuses those.
func Scheme(v, scheme string) (creds string, ok bool) {
	s, creds := Split(v)
	if !strings.EqualFold(s, scheme) {
		return "", false
	}
	return creds, true
}

// Outcome is what Authorization found.
type Outcome int

const (
	// None: no field, or one in another scheme — not this
	// authenticator's credentials.
	None Outcome = iota
	// Found: one field in the scheme, with non-empty credentials.
	Found
	// Several: more than one field of that name; which one the client
	// meant is unknowable, so the request is malformed.
	Several
	// Empty: one field in the scheme, without credentials.
	Empty
)

// Authorization reads the credentials in scheme of the one header field
// key (usually "Authorization"): Found with the credentials, or None,
// Several or Empty. Several is decided before the scheme is looked at:
// two fields are refused even when only one is in scheme.
func Authorization(h http.Header, key, scheme string) (creds string, o Outcome) {
	v, n := Field(h, key)
	switch {
	case n == 0:
		return "", None
	case n > 1:
		return "", Several
	}
	creds, ok := Scheme(v, scheme)
	switch {
	case !ok:
		return "", None
	case creds == "":
		return "", Empty
	}
	return creds, Found
}

// Cookie returns the value of the first cookie called name in the Cookie
// header fields lines, unquoted, and whether there is one. It parses no
// other cookie and allocates nothing.
func Cookie(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(httpsyntax.TrimOWS(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// Query returns the first value of the query parameter name, unescaped,
// and whether the parameter is present. A value that does not unescape
// is returned as "" (present, but unusable). It allocates only to
// unescape.
func Query(u *url.URL, name string) (string, bool) {
	if u == nil || u.RawQuery == "" {
		return "", false
	}
	q := u.RawQuery
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(part, "=")
		if k != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			dec, err := url.QueryUnescape(v)
			if err != nil {
				return "", true
			}
			v = dec
		}
		return v, true
	}
	return "", false
}
