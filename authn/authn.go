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

// AnyOf returns an Authenticator that accepts a request when one of auths
// does, trying them in order.
//
// An authenticator that finds no credential of its kind (ErrNoCredentials)
// passes the request to the next one. An authenticator that finds a
// credential and refuses it ends the search with its error: a request that
// presents an invalid token is refused even if it also carries a valid API
// key, so that a bad credential is never silently masked. When none of
// auths finds a credential the result is ErrNoCredentials.
func AnyOf(auths ...Authenticator) Authenticator {
	return anyOf(append([]Authenticator(nil), auths...))
}

type anyOf []Authenticator

func (a anyOf) Authenticate(r *http.Request) (*Principal, error) {
	for _, au := range a {
		p, err := au.Authenticate(r)
		if err == nil && p != nil {
			return p, nil
		}
		if err != nil && !errors.Is(err, ErrNoCredentials) {
			return nil, err
		}
	}
	return nil, ErrNoCredentials
}

// Challenge joins the challenges of the members (RFC 9110 §11.6.1 allows
// several in one header field).
func (a anyOf) Challenge(realm string) string {
	return joinChallenges(realm, a)
}

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
