// Package bulwark assembles Bulwark's guards into one request path.
//
// Bulwark is a security toolkit for Go HTTP APIs: every guard is built once
// from an options struct, and every denial is an RFC 9457 problem+json
// response (package problem) with exactly one audit event (package audit).
//
// # One shape for every guard
//
// Each guard package has an Options struct and New(Options) (*T, error),
// which does all the validation: an insecure or malformed option is an
// error that says how to fix it, and nothing panics later. The guard's
// Handler method is plain middleware, func(http.Handler) http.Handler, so
// it fits any router's Use and every field of Policy. Every guard that can
// deny also has the decision without the response, Check (see Checker): a
// caller can evaluate a guard, see what it would refuse and still let the
// request pass (a gateway's shadow mode), or act on the refusal itself.
// Guards whose outcome carries more than pass or refuse say so with a typed
// Decide (ratelimit.Decision, cors.Decision).
//
// Where a package holds more than one guard, its constructors say what they
// make (csp.NewCollector, refresh.NewSliding). Authentication has two
// handlers, Require (also its Handler) and Optional, each with its Check;
// authorization's guards are authz.Requirements, built by one Authorizer
// that holds the role model. Package abuse's Guard counts before the
// handler and, for outcome-aware detectors, hears from it after
// (abuse.Report).
//
// The zero value of every optional field selects the default its comment
// states. Options that a configuration file may set carry json and yaml
// tags, so that a file decodes straight into them; fields only Go can set
// (functions, interfaces, clients, audit sinks, a built *csp.CSP) are
// tagged "-". recovery.Options, accesslog.Options, metrics.Options,
// refresh.HandlerOptions and jwt.JWKSOptions have no tags.
// Every guard that can deny, and recovery, has Audit (an audit.Sink;
// default: no audit) and ErrorHandler (a problem.Handler; default
// problem.Write).
//
// # The request path
//
// A request meets the guards in one fixed order; each may answer instead of
// passing the request on:
//
//  1. client identity (package clientip): the client IP, trusting
//     Forwarded / X-Forwarded-For only from configured trusted proxies, and
//     a request ID echoed in X-Request-ID
//  2. security headers and CSP (package headers, headers/csp), on every
//     response, errors included
//  3. CORS (package cors); preflights are answered here, before routing
//  4. limits known before authentication: the body size cap (package
//     bodylimit), and rate limits keyed by client IP, route or a header
//     (package ratelimit)
//  5. abuse detection keyed by what is known before authentication
//     (distinct-value velocity such as card testing, keyed by client IP,
//     a header or a body field; package abuse)
//  6. authentication (package authn; JWT in package authn/jwt, the token
//     lifecycle in authn/jwt/refresh, remote key sets in authn/jwt/jwks)
//     → a Principal in the request context; then rate limits keyed by
//     principal or API key, and abuse detection keyed by them
//     (Policy.PostAuthAbuse, abuse.Principal)
//  7. CSRF, for cookie-authenticated unsafe methods
//  8. authorization: roles, scopes, permissions, ownership (package authz)
//  9. the handler (strict JSON input: package bind), or the upstream
//
// Around all of it: panic recovery (package recovery), an optional access
// log (package accesslog) and metrics (package metrics). Policy composes
// guards in exactly this order, so that an application cannot, say,
// authenticate before rate limiting by IP or run CSRF checks before the
// caller is known. Use one Policy around the router for the steps every
// route shares (identity, headers, CORS, body cap, IP limits) and one per
// route group inside it for the rest (authentication, principal limits,
// CSRF, authorization); the demo (package demo) does exactly that.
//
// Why this order: identity first, because every later guard keys, logs or
// trusts by it; headers second, so that even a 429 or a CORS failure
// carries them; CORS before the guards that deny (only a malformed
// forwarding header from a trusted proxy is refused sooner), so that
// browsers can read the denial; cheap IP-keyed limits before expensive
// signature checks, so a flood costs little; authentication before the
// limits and checks that need to know who is calling.
//
// State lives in stores (package store: memstore in process, redisstore
// shared by replicas); passwords are hashed with package password.
//
// # Routes
//
// The access log, the metrics and ratelimit.ByRoute label a request with
// the route pattern that served it ("GET /users/{id}"), not its path.
// Policy.Handler records the pattern of a net/http ServeMux for you (see
// RecordRoute); other routers say it with SetRoute. A request no route
// matched is "unmatched" in the metrics, one shared bucket for ByRoute, and
// its path in the access log.
//
// # Packages
//
// The guards, in request-path order:
//
//   - [github.com/bulwark-go/bulwark/clientip]: the client IP behind trusted proxies, request IDs
//   - [github.com/bulwark-go/bulwark/headers] and [github.com/bulwark-go/bulwark/headers/csp]:
//     security headers, Content-Security-Policy with nonces, violation reports
//   - [github.com/bulwark-go/bulwark/cors]: cross-origin requests and preflights
//   - [github.com/bulwark-go/bulwark/bodylimit]: the request body cap
//   - [github.com/bulwark-go/bulwark/ratelimit] and [github.com/bulwark-go/bulwark/ratelimit/redislimit]:
//     rate limits, in memory or shared through Redis
//   - [github.com/bulwark-go/bulwark/abuse]: distinct-value detectors (credential stuffing, card testing)
//   - [github.com/bulwark-go/bulwark/authn]: the authentication guard and its authenticators:
//     [github.com/bulwark-go/bulwark/authn/jwt] (tokens), [github.com/bulwark-go/bulwark/authn/jwt/refresh]
//     (rotation, revocation), [github.com/bulwark-go/bulwark/authn/jwt/jwks] (remote key sets),
//     [github.com/bulwark-go/bulwark/authn/discovery] (OpenID provider metadata),
//     [github.com/bulwark-go/bulwark/authn/introspect] (opaque tokens, RFC 7662),
//     [github.com/bulwark-go/bulwark/authn/apikey] and [github.com/bulwark-go/bulwark/authn/apikey/rediskeys]
//     (API keys), [github.com/bulwark-go/bulwark/authn/basic] (HTTP Basic),
//     [github.com/bulwark-go/bulwark/authn/mtls] (client certificates),
//     [github.com/bulwark-go/bulwark/session] (cookie sessions)
//   - [github.com/bulwark-go/bulwark/csrf]: cross-site request forgery
//   - [github.com/bulwark-go/bulwark/authz]: roles, scopes, permissions, ownership
//   - [github.com/bulwark-go/bulwark/bind]: strict JSON input and validation
//
// Around them: [github.com/bulwark-go/bulwark/recovery] (panics),
// [github.com/bulwark-go/bulwark/accesslog], [github.com/bulwark-go/bulwark/metrics],
// and [github.com/bulwark-go/bulwark/panel], a live admin page of what the
// guards decide. Underneath: [github.com/bulwark-go/bulwark/problem] (RFC 9457
// responses), [github.com/bulwark-go/bulwark/audit] (security events),
// [github.com/bulwark-go/bulwark/password] (argon2id within a memory budget),
// and the stores: [github.com/bulwark-go/bulwark/store],
// [github.com/bulwark-go/bulwark/store/memstore],
// [github.com/bulwark-go/bulwark/store/redisstore] and their conformance
// suite [github.com/bulwark-go/bulwark/store/storetest].
//
// Above them all, [github.com/bulwark-go/bulwark/gateway] builds the same
// guards from a YAML or JSON file and puts them in front of any upstream
// (`bulwark serve`).
package bulwark
