package demo

import (
	"fmt"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/recovery"
)

// build assembles the guards and routes: one policy around the router for
// the steps every route shares (client identity, logs and metrics,
// recovery, headers, CORS, the body cap), and, inside it, one policy per
// /api route group for the rest, in the request path's order: the per-IP
// limit (step 4), authentication (6) and the per-client limit after it,
// the cross-origin check for cookie-carrying requests (7), authorization
// (8). Every guard is built here, once, before the first request.
func (a *App) build() (http.Handler, error) {
	identity, err := clientip.New(clientip.Options{TrustedProxies: a.cfg.TrustedProxies, Audit: a.audit})
	if err != nil {
		return nil, fmt.Errorf("demo: trusted proxies: %w", err)
	}
	rec, err := recovery.New(recovery.Options{Logger: a.logger, Audit: a.audit})
	if err != nil {
		return nil, err
	}
	if a.cors, err = cors.New(cors.Options{
		AllowedOrigins:   a.cfg.CORSOrigins,
		AllowCredentials: true,
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-API-Key", "X-CSRF-Token", "X-XSRF-Token", "X-Custom-Header"},
		ExposedHeaders:   exposedHeaders,
		MaxAge:           10 * time.Minute,
		Audit:            a.audit,
	}); err != nil {
		return nil, fmt.Errorf("demo: CORS: %w", err)
	}
	if a.headers, err = headers.New(headers.API()); err != nil {
		return nil, err
	}
	log, err := accesslog.New(accesslog.Options{Logger: a.logger})
	if err != nil {
		return nil, err
	}
	bodies, err := bodylimit.New(bodylimit.Options{MaxBytes: 64 << 10, Audit: a.audit})
	if err != nil {
		return nil, err
	}
	// CSP reports: per client 1/s, burst 5; overall 10/s, burst 20. One
	// limiter, so a refused client spends none of the global quota.
	reportLimit, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.TokenBucket(5, 1).Named("csp-client").By(ratelimit.ByIP()),
			ratelimit.TokenBucket(20, 10).Named("csp").By(ratelimit.Global()),
		},
		MaxKeys: 4096,
	})
	if err != nil {
		return nil, err
	}
	reports, err := csp.NewCollector(csp.CollectorOptions{Limiter: reportLimit, Audit: a.audit})
	if err != nil {
		return nil, err
	}
	if a.auth, err = a.newAuth(); err != nil {
		return nil, err
	}
	if err := a.registerOutageMetrics(); err != nil {
		return nil, err
	}
	x := a.auth
	// Step 7 on /api/*, where the only cookie is auth_token and there are
	// no forms: the CSRF guard's origin check alone. The CORS origins, which
	// may make credentialed calls, are its trusted origins.
	if a.apiCSRF, err = csrf.New(csrf.Options{OriginOnly: true, TrustedOrigins: a.cfg.CORSOrigins, Audit: a.audit}); err != nil {
		return nil, err
	}
	crossOrigin := a.apiCSRF
	// The HTML app: sessions, and both CSRF layers on /session/* and /app/*.
	if a.web, err = a.newWebApp(); err != nil {
		return nil, err
	}
	wa := a.web

	// The /api group: every route counts against the per-IP limit, then
	// authenticates as the route says, counts against the per-client
	// bucket (keyed by the principal it found, else the IP), and refuses
	// cookie-carrying cross-origin unsafe requests.
	public := bulwark.Policy{PreAuthLimits: x.ipLimit.Handler, PostAuthLimits: x.apiLimit.Handler, CSRF: crossOrigin.Handler}
	optional, required := public, public
	optional.Authn, required.Authn = x.guard.Optional, x.guard.Require
	login := public
	login.PreAuthLimits = bulwark.Chain(x.ipLimit.Handler, x.loginLimit.Handler)
	login.Abuse = a.LoginAbuse
	checkout := public
	checkout.Abuse = x.cardTest.Handler
	allowed := func(authz bulwark.Middleware) bulwark.Policy { p := required; p.Authz = authz; return p }
	either := func(authz bulwark.Middleware) bulwark.Policy {
		p := public
		p.Authn = x.either.Require
		p.Authz = authz
		return p
	}

	mux := http.NewServeMux()
	route := func(pattern string, p bulwark.Policy, h http.Handler) { mux.Handle(pattern, p.Handler(h)) }
	tokenHandlers := refresh.HandlerOptions{Audit: a.audit, Realm: x.guard.Realm()}
	route("GET /api/public", public, http.HandlerFunc(a.public))
	route("POST /api/login", login, http.HandlerFunc(a.login))
	route("POST /api/checkout", checkout, http.HandlerFunc(a.checkout))
	route("GET /api/basic", login, http.HandlerFunc(a.basicLogin)) // the login's limit and detectors: one budget of guesses
	route("POST /api/refresh", public, x.refresher.RefreshHandler(tokenHandlers))
	route("POST /api/logout", required, x.refresher.LogoutHandler(tokenHandlers))
	route("GET /api/protected", required, http.HandlerFunc(a.protected))
	route("GET /api/admin/users", allowed(x.authz.RequirePermission("users:read")), http.HandlerFunc(a.adminUsers))
	route("DELETE /api/users/{id}", allowed(x.authz.RequirePermission("users:delete")), http.HandlerFunc(a.deleteUser))
	route("GET /api/items", either(x.authz.RequireScope("read")), http.HandlerFunc(a.listItems))
	route("POST /api/items", either(x.authz.RequireScope("write")), http.HandlerFunc(a.createItem))
	route("GET /api/posts", optional, http.HandlerFunc(a.listPosts))
	route("GET /api/posts/{id}", required, http.HandlerFunc(a.getPost))
	route("PUT /api/posts/{id}", required, http.HandlerFunc(a.updatePost)) // owner or admin: checked once the post is loaded
	route("DELETE /api/posts/{id}", required, http.HandlerFunc(a.deletePost))
	// The security panel, for role admin only: it names clients and shows
	// what the guards refuse. Never mount a panel without authn and authz.
	admin := public
	admin.Authn, admin.Authz = wa.either.Require, x.authz.RequireRole("admin") // a bearer token (or auth_token cookie), else the session
	route("GET /admin/security", admin, a.panel)

	// The HTML app (not under /api): the session is loaded (step 6, outside
	// the guards that read it), then the CSRF guard runs both layers on
	// unsafe requests (7). Their problems and redirects keep the site's API
	// header profile; the code that renders a page (webApp.render) switches
	// that response to the HTML profile (a nonce CSP).
	page := bulwark.Policy{Authn: wa.sessions.Handler, CSRF: wa.csrf.Handler}
	formLogin := page
	formLogin.PreAuthLimits = wa.limit.Handler // its own window: 5 per IP per 5 minutes
	formLogin.Abuse = a.LoginAbuse             // the credential-stuffing detector of /api/login
	loggedIn := page
	loggedIn.Authn = bulwark.Chain(wa.sessions.Handler, wa.user.Require)
	me := bulwark.Policy{Authn: loggedIn.Authn}
	logout := bulwark.Policy{Authn: wa.sessions.Handler, CSRF: wa.csrf.Handler}
	route("GET /app", page, http.HandlerFunc(wa.app))
	route("POST /app/notes", loggedIn, http.HandlerFunc(wa.addNote))
	route("POST /session/login", formLogin, http.HandlerFunc(wa.login))
	route("GET /session/me", me, http.HandlerFunc(wa.me))
	route("POST /session/logout", logout, http.HandlerFunc(wa.logout))

	mux.HandleFunc("GET /{$}", a.overview)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", a.metrics.Exposition())
	mux.HandleFunc("GET /config/security", a.securityConfig)
	mux.HandleFunc("GET /secure-headers", a.secureHeaders)
	mux.Handle("GET /.well-known/jwks.json", x.jwks)
	mux.Handle("POST /csp-reports", reports)

	site := bulwark.Policy{
		Identity:  identity.Handler,
		AccessLog: log.Handler,
		Metrics:   a.metrics.Handler,
		Recovery:  rec.Handler,
		Headers:   a.headers.Handler,
		CORS:      a.cors.Handler,
		BodyLimit: bodies.Handler,
	}
	return site.Handler(&router{mux: mux, deny: a.deny("router")}), nil
}

// exposedHeaders are the response headers a browser script may read.
var exposedHeaders = []string{"RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
	"X-RateLimit-Reset", "Retry-After", "X-Request-ID", "X-Refreshed-Token"}

// Endpoints lists the reference API, for GET / and the start-up banner.
var Endpoints = []string{
	"GET  /                      this overview",
	"GET  /secure-headers        the security header preset (every response carries it)",
	"GET  /api/public            no authentication",
	"POST /api/login             {username, password} → access + refresh token (5 attempts per IP per 5 min)",
	"POST /api/checkout          {card_number, exp_month, exp_year, cvv, amount, email} → approved (nothing is charged; 4th distinct card per IP per hour → 403)",
	"GET  /api/basic             HTTP Basic (realm bulwark-demo); shares the login's limit and detectors",
	"POST /api/refresh           {refresh_token} → a new pair; each refresh token works once",
	"POST /api/logout            Bearer token (+ {refresh_token}) → 204; both revoked",
	"GET  /api/protected         JWT from Authorization: Bearer or cookie auth_token",
	"GET  /api/admin/users       permission users:read (role admin)",
	"DELETE /api/users/{id}      permission users:delete (role admin)",
	"GET  /api/items             scope read, by JWT or X-API-Key (demo keys: " + ReadAPIKey + ", " + WriteAPIKey + ")",
	"POST /api/items             {name}; scope write, by JWT or X-API-Key",
	"GET  /api/posts             optional authentication: more fields when logged in",
	"GET/PUT/DELETE /api/posts/{id}  any login reads; owner or admin changes",
	"GET  /app                   the HTML app: a login form, then your notes (open it in a browser)",
	"POST /session/login         form login (username, password, csrf_token) → session cookie, 303 to /app (5 attempts per IP per 5 min)",
	"GET  /session/me            the session's user, or 401",
	"POST /session/logout        CSRF-protected; ends the session server-side, 303 to /app",
	"POST /app/notes             CSRF-protected, logged in; form field text → a note, 303 to /app",
	"GET  /admin/security        live security panel (role admin: Bearer token, auth_token cookie or session)",
	"GET  /.well-known/jwks.json the demo's public signing key",
	"POST /csp-reports           CSP violation reports (application/csp-report, application/reports+json)",
	"GET  /healthz               liveness",
	"GET  /readyz                readiness: the token store answers; when its Redis state began",
	"GET  /metrics               Prometheus metrics",
	"GET  /config/security       effective security configuration (secrets redacted)",
}

func (a *App) overview(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "Bulwark security demo",
		"warning": "demo mode: fixed, public credentials; never expose this to a network you do not control",
		"features": map[string]string{
			"security_headers": "API and HTML header profiles, HSTS on HTTPS, a typed CSP builder with nonces",
			"cors":             "exact origins with credentials, preflights answered before routing",
			"rate_limiting":    "token bucket per client on /api/*, sliding window on logins",
			"jwt_auth":         "hardened verification, refresh-token rotation with reuse detection, revocation",
			"api_keys":         "X-API-Key or Authorization: ApiKey beside JWT on /api/items; the fixed demo keys are static keys for the demo only — real keys have Bulwark's prefixed, checksummed format, stored as HMAC hashes",
			"problem_details":  "every error is RFC 9457 application/problem+json",
			"client_identity":  "client IP from trusted proxies only, request IDs",
			"sessions":         "server-side sessions (memory or Redis) behind an HttpOnly SameSite=Lax cookie, renewed at login, destroyed at logout: GET /app",
			"csrf":             "origin check (Fetch Metadata, Origin, Referer) on cookie-carrying /api/* requests; plus session-bound, masked tokens on /session/* and /app/*",
		},
		"endpoints": Endpoints,
	})
}

func (a *App) public(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"message": "This is a public endpoint", "authenticated": false})
}

func (a *App) secureHeaders(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "This response carries the API header profile; so does every response, errors included",
		"headers": a.headers.Describe().Headers,
		"notes": map[string]string{
			"Strict-Transport-Security": "sent on HTTPS requests only (directly, or through a trusted proxy)",
			"X-XSS-Protection":          "0: the legacy XSS auditor is gone from browsers and its 1; mode=block could be abused to remove page content; CSP replaces it",
		},
	})
}

func (a *App) securityConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.describe())
}

// describe returns the effective security configuration, without secrets.
func (a *App) describe() map[string]any {
	storage := "memory"
	if a.cfg.RedisURL != "" {
		storage = "redis"
	}
	cors := a.cors.Describe()
	return map[string]any{
		"storage":      storage,
		"cors_origins": cors.AllowedOrigins,
		"cors":         cors,
		"headers":      a.headers.Describe(),
		"jwt":          a.auth.verifier.Describe(),
		"api_keys":     "X-API-Key or Authorization: ApiKey; records hold only HMAC-SHA-256 hashes under a secret drawn at start; the demo keys are static (legacy) keys, for the demo only",
		"csrf": map[string]any{
			"api": "unsafe /api/* requests that carry cookies must be same-origin (Sec-Fetch-Site, else Origin, else Referer) or come from a CORS origin, " +
				"checked after authentication; requests without cookies (bearer tokens) are not CSRF-prone",
			"api_guard": a.apiCSRF.Describe(),
			"app": "unsafe /session/* and /app/* requests pass the same origin check and carry a valid token (csrf_token field, X-CSRF-Token, or X-XSRF-Token equal to the XSRF-TOKEN cookie) " +
				"bound to the session (a pre-session cookie before login); POST /session/login is checked even without cookies (login CSRF)",
			"app_guard": a.web.csrf.Describe(),
		},
		"sessions": a.web.describe(),
		"secrets":  "the signing, fingerprint and CSRF keys from BULWARK_DEMO_SIGNING_SEED, BULWARK_DEMO_FINGERPRINT_KEY, BULWARK_DEMO_CSRF_KEY (or *_FILE) when set, never written to Redis; else drawn from crypto/rand at start (shared through Redis with --redis: a demo-only fallback); never shown",
		"csp_reports": map[string]string{
			"path":       "/csp-reports",
			"per_client": "1 report/s, burst 5 (client IP, /64 for IPv6), at most 4096 clients tracked",
			"global":     "10 reports/s, burst 20",
		},
		"rate_limits": map[string]string{
			"ip":    "token bucket, capacity 200, refill 20/s, per client IP (/64 for IPv6), on /api/* before authentication: refused authentications count",
			"api":   "token bucket, capacity 100, refill 10/s, per principal (client IP when anonymous), on /api/* after authentication",
			"login": "sliding window, 5 attempts of any outcome per client IP per 5 minutes, on POST /api/login and GET /api/basic together; fails closed (503) when Redis cannot decide",
		},
		"abuse": map[string]any{
			"guards":              []any{a.auth.stuffing.Describe(), a.auth.cardTest.Describe()}, // read from the guards themselves
			"credential_stuffing": "more than 5 distinct usernames failing from one client IP (/64 for IPv6) within an hour → 403",
			"account_targeted":    "more than 5 distinct client IPs (/64 for IPv6) failing for one username within an hour → audit flag",
			"card_testing":        "POST /api/checkout: more than 3 distinct cards (HMAC of last four + expiry) from one client IP (/64 for IPv6) within an hour, restarted by every attempt (blocked ones too) → 403 for every checkout from it",
			"card_networks":       "one card from more than 3 client networks (/24, /64) within an hour → audit flag (never a block: anyone can name a card)",
			"email_cards":         "more than 3 distinct cards for one email within an hour → audit flag (never a block)",
			"route_cards":         "more than 100 distinct cards on POST /api/checkout within a minute → one audit alert per minute (bulwark_security_events_total{reason=\"card-testing:route-cards\"})",
			"fingerprints":        "the guards' store keys and members are HMAC-SHA256 under the demo's fingerprint key (raw cards, usernames and addresses are never stored by them); audit events carry the client IP like every guard's, and a flag names its key by a handle (12 hex characters of the key's HMAC); a flag view flags at its threshold, then once per further distinct value",
		},
		"passwords": fmt.Sprintf("argon2id (m=19456 KiB, t=2, p=1); at most %d checks at once (%d MiB), a wait of up to %v for a turn, then 503 with Retry-After",
			a.auth.passwords.MaxConcurrent(), a.auth.passwords.MemoryBudget()>>20, password.DefaultMaxWait),
		"trusted_proxies": a.cfg.TrustedProxies,
		"outage":          a.describeOutage(),
	}
}
