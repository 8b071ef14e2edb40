package jwt

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/internal/credential"
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
			if s.scheme == "" {
				v, n := credential.Field(r.Header, s.name)
				if n > 1 {
					return "", 0, invalidRequest("the request carries several " + s.name + " headers")
				}
				if v = strings.TrimSpace(v); v != "" {
					return v, s.kind, nil
				}
				continue
			}
			tok, o := credential.Authorization(r.Header, s.name, s.scheme)
			switch o {
			case credential.Several:
				return "", 0, invalidRequest("the request carries several " + s.name + " headers")
			case credential.Empty:
				return "", 0, invalidRequest("the " + s.scheme + " credentials are empty")
			case credential.Found:
				return tok, s.kind, nil
			}
		case FromCookie:
			if tok, ok := credential.Cookie(r.Header["Cookie"], s.name); ok && tok != "" {
				return tok, s.kind, nil
			}
		case FromQuery:
			if tok, _ := credential.Query(r.URL, s.name); tok != "" {
				return tok, s.kind, nil
			}
		}
	}
	return "", 0, nil
}

func invalidRequest(detail string) *problem.Problem {
	return problem.New(http.StatusBadRequest, problem.TypeBadRequest, detail).WithReason("token_invalid_request")
}
