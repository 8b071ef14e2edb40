package jwt

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
)

// Where a token may be found.
const (
	FromHeader = "header"
	FromCookie = "cookie"
	// FromQuery reads the token from a query parameter, which leaks it
	// into logs and Referer headers: see the package documentation.
	FromQuery = "query"
)

// TokenSource is one place to look for a token. Sources are tried in
// order; the first that holds a token wins, and the principal records
// which kind it was (authn.Principal.Source: header, cookie or query), so
// that a CSRF guard can check cookie-authenticated unsafe requests.
type TokenSource struct {
	// From is FromHeader, FromCookie or FromQuery.
	From string `json:"from" yaml:"from"`
	// Name is the header, cookie or query parameter. Default for headers:
	// "Authorization"; required for cookies and query parameters.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Scheme is the authorization scheme a header value starts with
	// (case-insensitive); another scheme counts as no token. Default
	// "Bearer" for the Authorization header, none for other headers.
	Scheme string `json:"scheme,omitempty" yaml:"scheme,omitempty"`
}

// DefaultSources is where tokens are looked for by default: the
// Authorization header with the Bearer scheme.
var DefaultSources = []TokenSource{{From: FromHeader, Name: "Authorization", Scheme: "Bearer"}}

type source struct {
	from   string
	kind   authn.CredentialSource
	name   string // canonical header key, cookie or parameter name
	scheme string
}

func compileSources(in []TokenSource) ([]source, error) {
	if len(in) == 0 {
		in = DefaultSources
	}
	out := make([]source, 0, len(in))
	for i, s := range in {
		switch s.From {
		case FromHeader:
			name := s.Name
			if name == "" {
				name = "Authorization"
			}
			canon := textproto.CanonicalMIMEHeaderKey(name)
			scheme := s.Scheme
			if scheme == "" && canon == "Authorization" {
				scheme = "Bearer"
			}
			if strings.ContainsAny(scheme, " \t\"") {
				return nil, fmt.Errorf("jwt: source %d: invalid scheme %q", i, scheme)
			}
			out = append(out, source{from: FromHeader, kind: authn.SourceHeader, name: canon, scheme: scheme})
		case FromCookie, FromQuery:
			if s.Name == "" {
				return nil, fmt.Errorf("jwt: source %d: a %s source needs a name", i, s.From)
			}
			kind := authn.SourceCookie
			if s.From == FromQuery {
				kind = authn.SourceQuery
			}
			out = append(out, source{from: s.From, kind: kind, name: s.Name})
		default:
			return nil, fmt.Errorf("jwt: source %d: From must be %q, %q or %q, not %q", i, FromHeader, FromCookie, FromQuery, s.From)
		}
	}
	return out, nil
}

// extract returns the first token found and where it was found, "" when
// there is none, or a problem for a malformed request (400
// invalid_request, RFC 6750 §3.1).
func extract(r *http.Request, sources []source) (string, authn.CredentialSource, *problem.Problem) {
	for i := range sources {
		s := &sources[i]
		switch s.from {
		case FromHeader:
			vals := r.Header[s.name]
			if len(vals) == 0 {
				continue
			}
			if len(vals) > 1 {
				return "", 0, invalidRequest("the request carries several " + s.name + " headers")
			}
			v := vals[0]
			if s.scheme == "" {
				v = strings.TrimSpace(v)
				if v == "" {
					continue
				}
				return v, s.kind, nil
			}
			n := len(s.scheme)
			if len(v) < n || !strings.EqualFold(v[:n], s.scheme) {
				continue // another scheme: not ours
			}
			rest := v[n:]
			if rest != "" && rest[0] != ' ' {
				continue // e.g. "BearerX": another scheme
			}
			rest = strings.TrimLeft(rest, " ")
			rest = strings.TrimRight(rest, " \t")
			if rest == "" {
				return "", 0, invalidRequest("the " + s.scheme + " credentials are empty")
			}
			return rest, s.kind, nil
		case FromCookie:
			if tok, ok := cookieValue(r.Header["Cookie"], s.name); ok && tok != "" {
				return tok, s.kind, nil
			}
		case FromQuery:
			if tok := queryValue(r.URL, s.name); tok != "" {
				return tok, s.kind, nil
			}
		}
	}
	return "", 0, nil
}

// cookieValue finds a cookie without parsing every cookie into a slice.
func cookieValue(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
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

func queryValue(u *url.URL, name string) string {
	if u == nil || u.RawQuery == "" {
		return ""
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
				return ""
			}
			v = dec
		}
		return v
	}
	return ""
}

func invalidRequest(detail string) *problem.Problem {
	return problem.New(http.StatusBadRequest, problem.TypeBadRequest, detail).WithReason("token_invalid_request")
}
