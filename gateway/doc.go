// Package gateway runs Bulwark's guards in front of any HTTP upstream, from
// one configuration file: `bulwark serve --config FILE`.
//
// # One path from config to guard
//
// The file (YAML, or JSON, which is read as the YAML it is; one schema,
// schema.json, generated from the Go types) decodes strictly — an unknown
// key, a duplicate key or a wrong type is an error naming file, line and
// column — straight into the guards' own Options types: clientip.Options,
// cors.Options, ratelimit.Options (whose Limit and KeySpec have text forms:
// "token_bucket", "ip+route"), jwt.VerifierOptions with jwt.KeyConfig keys
// and jwks.Options, authz.Options and authz.Rule, bodylimit.Options,
// headers.Options with csp.Options. Build hands each to its package's New,
// so validation, defaults and refusals are the library's own: there is one
// way to build a policy, not two. What Go alone can set (a key set, a
// store, an audit sink) the gateway supplies; a HeaderProfile, a Limiter
// and a JWT add to the embedded Options only what has no serialisable form
// there (the CSP, the store, the keys).
//
// Relative file paths in a file (certificates, keys, secret files) are
// relative to the file's own directory.
//
// Guards are named definitions (headers, cors, limits, authenticators)
// that policies reference; routes match ServeMux patterns ("GET
// api.example.com/v1/items/{id}") and name a policy and an upstream. A new
// authenticator kind joins as one field of Authenticator holding its
// package's Options; a new guard as one named map of Config and one field
// of Policy.
//
// # The request path
//
// Client identity (1), the access log, metrics and panic recovery wrap
// everything; then routing (a CORS preflight is routed by the method it
// asks about, so the route's CORS policy answers it), and per route:
// headers (2), the route's IP allow and deny lists, CORS (3), the body
// limit and pre-authentication rate limits (4), authentication (6) and
// principal-keyed limits, authorization (8), and the upstream. Explain
// prints that sequence for one request; Describe for every route.
//
// # Proxying
//
// httputil.ReverseProxy with Rewrite. X-Forwarded-For, X-Forwarded-Host,
// X-Forwarded-Proto and Forwarded carry the client the trust model
// resolved — never a client's chain passed on. The principal headers every
// policy names are removed from every request, on every route, before the
// authenticated principal is written into them. The request ID and a W3C
// traceparent (the client's when valid, else a new one) go upstream.
// Upstream copies of the headers the gateway's profile sets, and of the
// CORS headers where the gateway answers CORS, are dropped. Several URLs
// per upstream rotate round-robin; a URL whose round trip fails is skipped
// for unhealthy_for (passive health; with one URL nothing is skipped), and
// a request whose connection could not be made — never sent, so safe to
// resend whatever its method, when it has no body to replay — is retried
// on the next URL.
// Failures are 502 (unavailable) or 504 (timeout) problems. WebSocket
// upgrades pass through; server-sent events are flushed as they come.
//
// # Reloads and state
//
// Server re-reads the file on SIGHUP or when it changes. A valid file is
// built into a new Gateway that replaces the old atomically: requests in
// flight finish on the old one, which is closed once they have. Stateful
// guards — rate limiters (their in-memory counters), JWT verifiers (their
// caches, JWKS refreshers), the Redis client — whose definition hashes the
// same are carried over, so a reload does not reset anyone's limit. An
// invalid file is refused, the reason logged, and the old configuration
// keeps serving. The listen, admin and log sections take effect on restart.
//
// # Shadow mode
//
// A policy's shadow list names guards that evaluate (through their Check)
// but do not enforce: what they would refuse is audited as a "flag" event
// with shadow=true and counted in bulwark_shadow_denials_total, and the
// request passes. A rate limit in shadow still spends the tokens of the
// requests it admits.
//
// # Many replicas
//
// Limits with store "redis" and JWT revocation "redis" share state through
// the top-level redis section: replicas enforce one global limit. When
// Redis fails, each limit applies its own outage policy (fallback_local,
// fail_open, fail_closed), and decisions return to Redis when it answers
// again. /readyz fails while a required Redis does not answer.
//
// # Lint
//
// Lint checks a configuration for what is valid but insecure, each finding
// with a severity and a stable code (inline-secret, short-secret,
// cors-wildcard-credentials, jwt-no-alg-allowlist, jwt-exp-not-required,
// forwarded-trust-all, metrics-on-public-listener, admin-unauthenticated,
// login-no-rate-limit, …). Secrets are given by reference only: "${ENV}"
// or a *_file field; LintRules is open for the checks of guards to come.
package gateway
