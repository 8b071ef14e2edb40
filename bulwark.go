package bulwark

import (
	"net/http"

	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

// Middleware is the shape of every guard's Handler method and of every
// field of Policy: plain net/http middleware, accepted by any router's Use.
type Middleware = func(http.Handler) http.Handler

// A Checker is the decision every guard that can deny offers beside its
// Handler (problem.Checker): Check never writes a response and never
// changes the request it is given; it returns the request to pass on,
// carrying what the guard learned, and the problem the guard would answer
// with, or nil. clientip.Identity, cors.CORS, bodylimit.Cap,
// ratelimit.Limiter, authn.Guard (Check for Require, CheckOptional for
// Optional) and authz.Requirement implement it.
type Checker = problem.Checker

// Chain returns middleware applying mws in the order given: the first sees
// the request first. Nil entries are skipped, so optional steps can be
// left out without an adapter.
func Chain(mws ...Middleware) Middleware {
	return func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			if mws[i] != nil {
				h = mws[i](h)
			}
		}
		return h
	}
}

// Policy names the guard (or a Chain of several) for each step of the
// request path; Handler composes them in the documented order. Leave a
// step nil to skip it. Fields take any guard's Handler (or, for
// authentication, its Require or Optional), e.g.
//
//	bulwark.Policy{Identity: id.Handler, Authn: guard.Require, Authz: az.RequireScope("read")}
//
// Leave a step out by leaving its field nil, not by a nil guard: lim.Handler
// of a nil *ratelimit.Limiter is a non-nil function that fails on the first
// request.
type Policy struct {
	Identity       Middleware // 1. client IP + request ID (clientip)
	AccessLog      Middleware // one structured line per request (accesslog)
	Metrics        Middleware // request counters and latency (metrics)
	Recovery       Middleware // panics become 500 problems, seen by the log and metrics
	Headers        Middleware // 2. security headers + CSP (headers)
	CORS           Middleware // 3. CORS; preflights answered here (cors)
	BodyLimit      Middleware // 4. request body size cap, 413 (bodylimit)
	PreAuthLimits  Middleware // 4. rate limits by IP, header, or route inside the router (ratelimit)
	Abuse          Middleware // 5. abuse detection keyed before authentication: client IP, header, body field (abuse)
	Authn          Middleware // 6. authentication → Principal (authn)
	PostAuthLimits Middleware // 6. rate limits by principal or API key (ratelimit)
	PostAuthAbuse  Middleware // 6. abuse detection keyed by principal or API key (abuse.Principal)
	CSRF           Middleware // 7. CSRF, for cookie-authenticated unsafe methods
	Authz          Middleware // 8. authorization (authz)
}

// Handler wraps h in the policy's guards, in request-path order, and
// records the route pattern a ServeMux h matches (RecordRoute). It is
// itself Middleware: pass policy.Handler to a router's Use.
func (p Policy) Handler(h http.Handler) http.Handler {
	// Identity runs before the access log, metrics and recovery so that
	// all three can read the request ID and client IP; recovery runs inside
	// the log and metrics so that a recovered panic counts as the 500 it
	// became.
	return Chain(p.Identity, p.AccessLog, p.Metrics, p.Recovery, p.Headers, p.CORS, p.BodyLimit,
		p.PreAuthLimits, p.Abuse, p.Authn, p.PostAuthLimits, p.PostAuthAbuse, p.CSRF, p.Authz)(RecordRoute(h))
}

// RecordRoute wraps a router that reports its match in r.Pattern, as
// net/http's ServeMux does (Go 1.22 patterns), so that the pattern reaches
// the access log and metrics outside it: once the router has served the
// request, its pattern is recorded in the request state, unless a router
// nested inside (or SetRoute) recorded one first. Wrap the router itself:
// a middleware between the two that replaces the request (WithContext)
// hides the pattern. Policy.Handler does this for you.
func RecordRoute(router http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		router.ServeHTTP(w, r)
		if r.Pattern != "" {
			if st := reqctx.From(r.Context()); st != nil && st.Route == "" {
				st.Route = r.Pattern
			}
		}
	})
}

// SetRoute records pattern as r's route, for routers other than ServeMux:
// call it from a middleware that runs inside the router once it knows the
// pattern (chi: chi.RouteContext(r.Context()).RoutePattern() after next
// returns; gin: c.FullPath(); echo: c.Path(), except when echo runs its
// NotFound or MethodNotAllowed handler, for which c.Path() may name the
// nearest route). The modules under examples/ show each, tested. It
// records into the request state that the
// identity guard, the access log or the metrics attached; without any of
// them, nothing reads it and SetRoute does nothing.
func SetRoute(r *http.Request, pattern string) {
	if st := reqctx.From(r.Context()); st != nil {
		st.Route = pattern
	}
}

// Route returns the best name for r's route: the pattern recorded by
// RecordRoute or SetRoute, else r.Pattern, else the URL path, cut to 256
// bytes and with unprintable bytes escaped, since a client chose it.
func Route(r *http.Request) string { return reqctx.RouteOf(r) }
