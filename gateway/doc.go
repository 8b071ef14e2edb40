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
// Errors from values with their own text parsers (durations such as
// connect_timeout, enums such as a limit's algorithm) carry the position
// of the first value the message quotes. Quote URLs inside flow
// collections: in {urls: [http://127.0.0.1:8000]} YAML reads the URL as a
// mapping ("http": "//127.0.0.1:8000"); write {urls: ["http://127.0.0.1:8000"]}.
//
// Relative file paths in a file (certificates, keys, secret files) are
// relative to the file's own directory.
//
// Guards are named definitions (headers, cors, limits, authenticators,
// csrf, abuse) that policies reference; routes match ServeMux patterns
// ("GET api.example.com/v1/items/{id}") and name a policy and an upstream.
// A new authenticator kind joins as one field of Authenticator holding its
// package's Options; a new guard as one named map of Config and one field
// of Policy.
//
// # Authenticators
//
// One kind per definition: jwt, apikey (apikey.Options; records from a
// file in the package's record format, or the shared Redis store of
// package rediskeys; hashing secrets by reference), basic (basic.Options,
// a users file), introspect (introspect.Options; with an issuer and no
// endpoint, discovered), mtls (mtls.Options; without trusted_proxies, the
// RFC 9440 headers are believed from client_ip's trusted proxies, never
// with trusted_hops), session (session.Options; store memory, redis, or
// cookie with keys by reference). any_of and all_of compose other
// definitions (authn.AnyOf, authn.AllOf; a cycle is an error); all_of's
// principal is its first member's. An all_of holding an mtls member wraps
// its jwt members in mtls.CertificateBound, so that a token bound to a
// client certificate (RFC 8705 §3, cnf x5t#S256) is accepted with that
// certificate only; elsewhere a bound token is refused
// (token_binding_unchecked). A policy's authn_optional lets
// requests without credentials through, per route.
//
// # Sessions: who logs in
//
// The gateway fronts an upstream, so someone must create sessions. The
// gateway does, itself: a route with session {action: login} answers a
// form POST of username and password, checked against a basic
// authenticator's users file (constant work for unknown users), logs the
// session in with a new ID and answers 303. The upstream never sees a
// password or a session ID (the session and CSRF cookies are removed from
// proxied requests) and learns the user from principal headers, which
// clients cannot spoof. The alternative — an upstream response header
// that the gateway turns into a session — was left out: it would let any
// upstream bug, or any upstream route echoing a header, log in as anyone.
// A login route must name a CSRF guard (its path joins the guard's
// session routes: login CSRF is checked without a cookie); action logout
// ends the session server-side.
//
// # CSRF and abuse
//
// A policy's csrf names a guard (csrf.Options, keys by reference). On a
// route whose policy authenticates by session (or that is a session
// route), tokens are bound to that session: Binding returns the stored
// session's CSRFBinding, renewed at login, and a visitor without a stored
// session gets the guard's pre-session cookie, so browsing stores no
// anonymous sessions. upstream_header hands a fresh token to the upstream
// for its forms. Abuse detectors (abuse.Options; sources in text form,
// see ParseSource; store memory or redis) run at step 5 (policy abuse)
// or right after authentication (principal_abuse, the
// bulwark.Policy.PostAuthAbuse position); one keyed by principal is
// refused at step 5. A route's order: headers, IP lists, CORS, body
// limit, rate limits, session load, abuse, authn, principal limits,
// principal abuse, CSRF, authz, upstream.
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
// authenticated principal is written into them — under any spelling: case
// ignored and '_' taken for '-', since CGI, WSGI, PHP-FPM and nginx (with
// underscores_in_headers) read X_Auth_Subject as X-Auth-Subject. A
// route's strip_credentials removes the client's credentials too
// (Authorization, X-API-Key, the API-key header, cookie and query
// parameter of its authenticators); it is off by default, for upstreams
// that check the token themselves, and the lint notes routes that forward
// a credential the gateway consumed (credentials-forwarded, info). The request ID and a W3C
// traceparent (the client's when valid, else a new one) go upstream.
// Upstream copies of the headers the gateway's profile sets, and of the
// CORS headers where the gateway answers CORS, are dropped. Several URLs
// per upstream rotate round-robin; a URL whose round trip fails is skipped
// for unhealthy_for (passive health; with one URL nothing is skipped), and
// a request whose connection could not be made — never sent, so safe to
// resend whatever its method, when it has no body to replay — is retried
// on the next URL.
// Every failed attempt, retried or not, counts in
// bulwark_upstream_errors_total. Failures are 502 (unavailable) or 504
// (timeout) problems. A failure on the client's side — a body over the
// route's limit without a Content-Length (413), or cut short (400) — is
// neither counted as an upstream error nor marks an upstream down. WebSocket
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
// Limits, abuse detectors and sessions with store "redis", API keys with
// store "redis", introspection with shared_cache "redis" and JWT
// revocation "redis" share state through the top-level redis section:
// replicas enforce one global limit and one abuse count, and a session
// created on one replica is valid (and ended) on all. When
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
// login-no-rate-limit, session-insecure-cookie, session-samesite-none,
// cookie-auth-no-csrf, csrf-trusted-origin-wildcard, apikey-in-query,
// basic-over-plaintext, introspect-cache-long, abuse-spoofable-key, …).
// Secrets are given by reference only: "${ENV}" or a *_file field;
// LintRules is open for the checks of guards to come. serve runs the same
// lint, secrets resolved: an error finding refuses the configuration (at
// start, and on reload, where the old one keeps serving); warnings are
// logged once per load. Before binding any listener, serve checks the
// listener and admin sections whole (CheckListeners, which `bulwark check
// --resolve` runs too).
//
// forwarded-trust-all weighs the public address space trusted_proxies
// cover, ranges merged: more than a /8 of public IPv4
// (MaxTrustedPublicIPv4; private, loopback, link-local, shared,
// multicast and reserved ranges do not count) or a /32 of global unicast
// IPv6 is an error — a client inside that space chooses its own IP.
// example-material warns about a listener key marked EXAMPLE ONLY
// (examples/gateway/internal-service/, published with the repository).
package gateway
