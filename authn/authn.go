package authn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/problem"
)

// ErrNoCredentials is returned by an Authenticator when the request carries
// no credential of its kind. It is not a failure: Require answers it with a
// plain challenge (RFC 6750 §3.1: no error code), Optional lets the request
// through anonymously, and AnyOf tries the next authenticator.
var ErrNoCredentials = errors.New("authn: no credentials")

// An Authenticator identifies the caller of a request.
//
// Authenticate returns the principal when the request carries a valid
// credential; ErrNoCredentials (errors.Is) when it carries none of the
// authenticator's kind; and otherwise an error that is, or wraps, a
// *problem.Problem describing the refusal with a client-safe detail and an
// audit reason code (401 for a bad credential, 503 when a backing store is
// down). Errors that carry no problem are answered with a generic 401.
//
// Authenticate must not write to the response and must be safe for
// concurrent use. The returned principal may be shared between requests
// (authenticators cache them): treat it as read-only.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// A Challenger is an Authenticator that names its HTTP authentication
// scheme, so that a 401 carries the right WWW-Authenticate challenge.
// Challenge returns the challenge without parameters other than the realm,
// e.g. `Bearer realm="api"` or `Basic realm="api", charset="UTF-8"`.
// Authenticators that do not implement it are challenged as Bearer.
type Challenger interface {
	Challenge(realm string) string
}

// An AuthorizationReader is an Authenticator that reads the Authorization
// header field, and names the schemes it reads there ("Bearer", "Basic",
// "ApiKey"; none when it reads no Authorization field). AnyOf uses it to
// tell one credential read by two members from two credentials, and
// Guard to refuse an Authorization field that no authenticator reads
// (reasons authorization_malformed, authorization_scheme_unsupported)
// rather than treat it as no credential. The authenticators of packages
// jwt, apikey, basic and introspect implement it.
type AuthorizationReader interface {
	AuthorizationSchemes() []string
}

// AuthorizationSchemes returns the Authorization schemes au reads: its
// own when it is an AuthorizationReader, else none.
func AuthorizationSchemes(au Authenticator) []string {
	if ar, ok := au.(AuthorizationReader); ok {
		return ar.AuthorizationSchemes()
	}
	return nil
}

func unionSchemes(sets [][]string) []string {
	var out []string
	for _, ss := range sets {
		for _, s := range ss {
			if !containsFold(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// AnyOf returns an Authenticator that accepts a request when one of auths
// does and none refuses it.
//
// Every member is asked. A member that finds no credential of its kind
// (ErrNoCredentials) has no say. When any member finds a credential and
// refuses it, the request is refused with the first such error in member
// order — even when another member accepted another credential: a request
// presenting several credentials must present only good ones, so that a
// bad credential is never silently masked, in either order. Otherwise the
// principal is the first member's that accepted. When no member finds a
// credential the result is ErrNoCredentials.
//
// Members that read the same credential — the Authorization header field
// in one scheme, say a jwt.Verifier and an introspection authenticator
// both reading Bearer (see AuthorizationReader) — are alternatives for
// that one credential, not several credentials: the first of them that
// accepts it decides it (later ones are not asked), and their refusals
// count only when none of them accepts it.
//
// Cost: members that find no credential return at once, but a request
// carrying two credentials (a bearer token and an API key) pays for both
// checks. Put the cheapest checks first; the order also decides which
// refusal is reported.
func AnyOf(auths ...Authenticator) Authenticator {
	a := anyOf{members: append([]Authenticator(nil), auths...)}
	a.schemes = make([][]string, len(a.members))
	for i, au := range a.members {
		a.schemes[i] = AuthorizationSchemes(au)
	}
	return &a
}

type anyOf struct {
	members []Authenticator
	schemes [][]string // each member's AuthorizationSchemes
}

func (a *anyOf) Authenticate(r *http.Request) (*Principal, error) {
	scheme := requestScheme(r, a.schemes)
	var (
		p        *Principal
		refusal  error // the first refusal that counts, at index at
		at       = len(a.members)
		shared   error // the first refusal of the shared credential, at sharedAt
		sharedAt int
		sharedOK bool // a member accepted the shared credential
	)
	for i, au := range a.members {
		inShared := scheme != "" && containsFold(a.schemes[i], scheme)
		if inShared && sharedOK {
			continue // that credential is decided
		}
		q, err := au.Authenticate(r)
		switch {
		case err == nil && q != nil:
			if p == nil {
				p = q
			}
			if inShared {
				sharedOK = true
			}
		case err == nil || errors.Is(err, ErrNoCredentials):
		case inShared:
			if shared == nil {
				shared, sharedAt = err, i
			}
		case refusal == nil:
			refusal, at = err, i
		}
	}
	if shared != nil && !sharedOK && sharedAt < at {
		refusal = shared
	}
	if refusal != nil {
		return nil, refusal
	}
	if p == nil {
		return nil, ErrNoCredentials
	}
	return p, nil
}

// requestScheme returns the scheme of r's one Authorization field when
// more than one of the members read it (a credential they share), else "".
func requestScheme(r *http.Request, schemes [][]string) string {
	v := r.Header["Authorization"]
	if len(v) != 1 {
		return ""
	}
	s, _, _ := strings.Cut(v[0], " ")
	n := 0
	for _, ss := range schemes {
		if containsFold(ss, s) {
			n++
		}
	}
	if n < 2 {
		return ""
	}
	return s
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Challenge joins the challenges of the members (RFC 9110 §11.6.1 allows
// several in one header field).
func (a *anyOf) Challenge(realm string) string {
	return joinChallenges(realm, a.members)
}

// AuthorizationSchemes implements AuthorizationReader: the members'.
func (a *anyOf) AuthorizationSchemes() []string { return unionSchemes(a.schemes) }

// AllOf returns an Authenticator that accepts a request only when every one
// of auths does (for example a client certificate and a token). The
// principal is the first authenticator's, with Method set to the methods
// joined by "+" ("mtls+jwt"); the others' principals are in its Claims under
// "authn.all" ([]*Principal, in order); its Source is the first ambient
// one (SourceCookie, SourceTLS: see CredentialSource.Ambient) among the
// members', so that a CSRF check sees it. When no authenticator finds a
// credential the result is ErrNoCredentials; when only some do, the request
// is refused (401, reason "credentials_incomplete").
func AllOf(auths ...Authenticator) Authenticator {
	return allOf(append([]Authenticator(nil), auths...))
}

type allOf []Authenticator

func (a allOf) Authenticate(r *http.Request) (*Principal, error) {
	if len(a) == 0 {
		return nil, ErrNoCredentials
	}
	ps := make([]*Principal, 0, len(a))
	missing := 0
	for _, au := range a {
		p, err := au.Authenticate(r)
		switch {
		case err == nil && p != nil:
			ps = append(ps, p)
		case err == nil || errors.Is(err, ErrNoCredentials):
			missing++
		default:
			return nil, err
		}
	}
	if missing == len(a) {
		return nil, ErrNoCredentials
	}
	if missing > 0 {
		return nil, incomplete()
	}
	first := *ps[0]
	methods := make([]string, len(ps))
	for i, p := range ps {
		methods[i] = p.Method
		if p.Source.Ambient() && !first.Source.Ambient() {
			first.Source = p.Source // one ambient credential makes the request CSRF-prone
		}
	}
	first.Method = strings.Join(methods, "+")
	first.ID = ""
	claims := make(map[string]any, len(first.Claims)+1)
	for k, v := range first.Claims {
		claims[k] = v
	}
	claims["authn.all"] = ps
	first.Claims = claims
	return &first, nil
}

// Challenge joins the challenges of the members.
func (a allOf) Challenge(realm string) string {
	return joinChallenges(realm, a)
}

// AuthorizationSchemes implements AuthorizationReader: the members'.
func (a allOf) AuthorizationSchemes() []string {
	sets := make([][]string, len(a))
	for i, au := range a {
		sets[i] = AuthorizationSchemes(au)
	}
	return unionSchemes(sets)
}

func joinChallenges(realm string, auths []Authenticator) string {
	var parts []string
	for _, au := range auths {
		c := challengeOf(au, realm)
		if c != "" && !containsString(parts, c) {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, ", ")
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// challengeOf returns au's challenge, Bearer when it does not say.
func challengeOf(au Authenticator, realm string) string {
	if c, ok := au.(Challenger); ok {
		return c.Challenge(realm)
	}
	return problem.Challenge("Bearer", realm)
}
