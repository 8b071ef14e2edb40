package apikey

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
)

// extract returns the key the request carries and where it found it
// (SourceUnknown: none), or the refusal of an unusable one. Sources are
// tried in order: the header, the Authorization scheme, the cookie, the
// query parameter; the first that holds a key wins. It allocates nothing
// unless a query value needs unescaping.
func (a *Authenticator) extract(r *http.Request) (string, authn.CredentialSource, *problem.Problem) {
	if a.header != "" {
		if vals := r.Header[a.header]; len(vals) > 0 {
			if len(vals) > 1 {
				return "", 0, refuse(reasonAmbiguous, nil)
			}
			if v := trimOWS(vals[0]); v != "" {
				return v, authn.SourceHeader, nil
			}
		}
	}
	if a.scheme != "" {
		found := ""
		n := 0
		for _, v := range r.Header["Authorization"] {
			cred, ok := a.credentials(v)
			if !ok {
				continue
			}
			n++
			found = cred
		}
		switch {
		case n > 1:
			return "", 0, refuse(reasonAmbiguous, nil)
		case n == 1 && found == "":
			return "", 0, refuse(reasonEmpty, nil)
		case n == 1:
			return found, authn.SourceHeader, nil
		}
	}
	if a.cookie != "" {
		if v, ok := cookieValue(r.Header["Cookie"], a.cookie); ok && v != "" {
			return v, authn.SourceCookie, nil
		}
	}
	if a.query != "" {
		if v, ok := queryValue(r.URL, a.query); ok {
			if v == "" {
				return "", 0, refuse(reasonMalformed, nil)
			}
			return v, authn.SourceQuery, nil
		}
	}
	return "", authn.SourceUnknown, nil
}

// credentials returns the credentials of an Authorization value in the
// authenticator's scheme (case-insensitive), and whether it is that
// scheme ("ApiKeyX ..." is another scheme).
func (a *Authenticator) credentials(v string) (string, bool) {
	n := len(a.scheme)
	if len(v) < n || !strings.EqualFold(v[:n], a.scheme) {
		return "", false
	}
	rest := v[n:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	return trimOWS(rest), true
}

// trimOWS trims RFC 9110 optional whitespace (spaces and tabs).
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// cookieValue finds a cookie without parsing every cookie into a slice.
func cookieValue(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(trimOWS(part), "=")
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

// queryValue returns the first value of the query parameter name, and
// whether it is present; a value that does not unescape counts as an
// empty one (refused as malformed).
func queryValue(u *url.URL, name string) (string, bool) {
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
