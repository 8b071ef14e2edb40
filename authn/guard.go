package authn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Options configure a Guard: the authentication step of the request path.
// The zero value of every field but Authenticator is a sensible default.
type Options struct {
	// Authenticator identifies callers. Required. Combine several with
	// AnyOf / AllOf.
	Authenticator Authenticator `json:"-" yaml:"-"`
	// Realm names the protection space in WWW-Authenticate challenges.
	// Default "api".
	Realm string `json:"realm" yaml:"realm"`
	// Audit receives exactly one event per denial. Default: none.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes denials, so an application can shape its own 401
	// and 403 bodies. Default problem.Write (RFC 9457 problem+json).
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
	// Guard names the guard in audit events. Default "authn".
	Guard string `json:"guard" yaml:"guard"`
}

// Guard runs an Authenticator in front of handlers and records the
// principal in the request context. It is immutable after New and safe for
// concurrent use.
type Guard struct {
	auth      Authenticator
	realm     string
	challenge string   // the plain challenge: no error code
	schemes   []string // the Authorization schemes the authenticator reads
	deny      problem.Denier
}

// New validates opts and returns a Guard.
func New(opts Options) (*Guard, error) {
	if opts.Authenticator == nil {
		return nil, errors.New("authn: Options.Authenticator is required (e.g. a *jwt.Verifier, or authn.AnyOf(...))")
	}
	realm := opts.Realm
	if realm == "" {
		realm = "api"
	}
	guard := opts.Guard
	if guard == "" {
		guard = "authn"
	}
	g := &Guard{
		auth:  opts.Authenticator,
		realm: realm,
		deny:  problem.Denier{Guard: guard, Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	g.challenge = challengeOf(opts.Authenticator, realm)
	g.schemes = AuthorizationSchemes(opts.Authenticator)
	if g.challenge == "" {
		g.challenge = problem.Challenge("Bearer", realm)
	}
	return g, nil
}

// Realm returns the realm the guard's challenges name, so that handlers
// behind it (the refresh and logout handlers of package authn/jwt/refresh)
// can challenge with the same one.
func (g *Guard) Realm() string { return g.realm }

// Check is the decision of Require: it returns a request carrying the
// principal (read it with FromContext), or the problem to answer with —
// 401 with a WWW-Authenticate challenge when the request carries no
// credential or a bad one, 503 when a backing store is down. It writes
// nothing and leaves r as it was: the principal is recorded in a copy of
// its request state, so a guard evaluated in shadow authenticates nobody.
func (g *Guard) Check(r *http.Request) (*http.Request, *problem.Problem) {
	return g.check(r, false, true)
}

// CheckOptional is the decision of Optional: a request carrying the
// principal when r presents a valid credential, r as it is when it
// presents none, and the problem to answer with when it presents a bad one
// (or a backing store is down). Like Check, it leaves r as it was.
func (g *Guard) CheckOptional(r *http.Request) (*http.Request, *problem.Problem) {
	return g.check(r, true, true)
}

// require and optional are Check and CheckOptional for the guard's own
// handlers, which record the principal in the request state in place.
func (g *Guard) require(r *http.Request) (*http.Request, *problem.Problem) {
	return g.check(r, false, false)
}

func (g *Guard) optional(r *http.Request) (*http.Request, *problem.Problem) {
	return g.check(r, true, false)
}

func (g *Guard) check(r *http.Request, optional, fork bool) (*http.Request, *problem.Problem) {
	p, err := g.auth.Authenticate(r)
	switch {
	case err == nil && p != nil:
		if fork {
			r, _ = reqctx.Fork(r)
		}
		return WithPrincipal(r, p), nil
	case err != nil && !errors.Is(err, ErrNoCredentials):
		return r, g.refusal(err)
	}
	if p := g.unreadAuthorization(r); p != nil {
		return r, p
	}
	switch {
	case optional:
		return r, nil
	}
	return r, g.missing()
}

// Require wraps next so that only authenticated requests reach it. A
// request without credentials gets 401 with `WWW-Authenticate: Bearer
// realm="..."` (reason token_missing); an invalid one gets 401 with
// `error="invalid_token", error_description="..."` (RFC 6750 §3). The
// principal is recorded in the request; read it with FromContext.
func (g *Guard) Require(next http.Handler) http.Handler { return g.deny.Wrap(g.require, next) }

// Handler is Require, the Handler every guard has.
func (g *Guard) Handler(next http.Handler) http.Handler { return g.Require(next) }

// Optional wraps next so that a request without credentials passes
// anonymously (FromContext reports false), while a request that presents a
// credential must present a valid one: an invalid or expired token is
// still refused with 401, never downgraded to anonymous.
func (g *Guard) Optional(next http.Handler) http.Handler { return g.deny.Wrap(g.optional, next) }

// missing is the answer to a request without credentials: a challenge
// without an error code (RFC 6750 §3.1).
func (g *Guard) missing() *problem.Problem {
	return problem.Unauthorized(problem.TypeUnauthorized, g.challenge, "authentication is required").
		WithReason("token_missing")
}

// unreadAuthorization is the refusal of a request that presents an
// Authorization field no authenticator of the guard reads, when one of
// them reads Authorization at all: a credential was presented, so it is
// neither "no credential" nor, under Optional, anonymous. A value that
// is only a scheme ("Authorization: <key>") or does not start with a
// token is authorization_malformed; a scheme none reads is
// authorization_scheme_unsupported. Both carry the guard's challenge,
// which names the schemes it accepts.
func (g *Guard) unreadAuthorization(r *http.Request) *problem.Problem {
	if len(g.schemes) == 0 {
		return nil
	}
	vals := r.Header["Authorization"]
	if len(vals) == 0 {
		return nil
	}
	reason, detail := "authorization_malformed", "the request carries several Authorization headers"
	if len(vals) == 1 {
		scheme, creds, _ := strings.Cut(vals[0], " ")
		creds = strings.Trim(creds, " \t")
		switch {
		case containsFold(g.schemes, scheme):
			return nil // read, and found to hold no credential
		case creds == "" || !httpsyntax.IsToken(scheme):
			detail = "the Authorization header has no authentication scheme: send \"<scheme> <credentials>\""
		default:
			reason, detail = "authorization_scheme_unsupported", "the Authorization header's scheme is not accepted here"
		}
	}
	return problem.Unauthorized(problem.TypeUnauthorized, g.challenge, detail).WithReason(reason)
}

// refusal turns an authenticator's error into the problem to send, adding
// the RFC 6750 challenge for 401s and 400s that lack one.
func (g *Guard) refusal(err error) *problem.Problem {
	p, ok := problem.As(err)
	if !ok {
		if errors.Is(err, store.ErrUnavailable) {
			return problem.Unavailable(0, "authentication is temporarily unavailable").
				WithReason("authn_unavailable").WithErr(err)
		}
		p = problem.New(http.StatusUnauthorized, problem.TypeUnauthorized, "authentication failed").
			WithReason("authn_error").WithErr(err)
	}
	if p.Status == http.StatusUnauthorized && p.Type != problem.TypeInvalidToken && p.Header("WWW-Authenticate") == "" {
		return p.WithHeader("WWW-Authenticate", g.challenge)
	}
	return BearerChallenge(p, g.realm)
}

// BearerChallenge adds to p, the refusal of a bearer credential, the RFC
// 6750 §3 challenge it lacks: error="invalid_token" for a 401 of type
// problem.TypeInvalidToken, error="invalid_request" for a 400, with p's
// Detail as the error_description. A p that has a challenge, or another
// status, is returned as it is.
func BearerChallenge(p *problem.Problem, realm string) *problem.Problem {
	if p.Header("WWW-Authenticate") != "" {
		return p
	}
	switch {
	case p.Status == http.StatusUnauthorized && p.Type == problem.TypeInvalidToken:
		p.WithHeader("WWW-Authenticate", problem.Challenge("Bearer", realm, "error", "invalid_token", "error_description", p.Detail))
	case p.Status == http.StatusBadRequest:
		p.WithHeader("WWW-Authenticate", problem.Challenge("Bearer", realm, "error", "invalid_request", "error_description", p.Detail))
	}
	return p
}

func incomplete() error {
	return problem.New(http.StatusUnauthorized, problem.TypeUnauthorized,
		"this resource requires several credentials; some are missing").WithReason("credentials_incomplete")
}
