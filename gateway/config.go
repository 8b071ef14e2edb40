package gateway

import (
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/apikey/rediskeys"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/authn/introspect"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
	"github.com/bulwark-go/bulwark/authn/mtls"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/session"
)

// Config is the gateway's configuration file, YAML or JSON (one schema,
// schema.json). Guard sections decode straight into the guards' own Options
// types: what a library user fills in Go, an operator writes here.
type Config struct {
	// Listen is the public listener. Required.
	Listen Listener `json:"listen" yaml:"listen" jsonschema:"required"`
	// Admin is the admin listener serving /healthz, /readyz and /metrics,
	// never the public one. Default 127.0.0.1:9090.
	Admin Admin `json:"admin,omitempty" yaml:"admin,omitempty"`
	// ClientIP is the client-identity step (1): trusted proxies, request
	// ID. It also decides the X-Forwarded-* and Forwarded headers sent
	// upstream. Default: no proxy trusted.
	ClientIP clientip.Options `json:"client_ip,omitempty" yaml:"client_ip,omitempty"`
	// Redis is the shared store of every guard definition that names it
	// (rate limits with store "redis", JWT revocation), so that many
	// replicas enforce one limit. Default: none.
	Redis *Redis `json:"redis,omitempty" yaml:"redis,omitempty"`
	// Log configures the access log and the audit log.
	Log Log `json:"log,omitempty" yaml:"log,omitempty"`

	// Upstreams are the named backends routes send requests to.
	Upstreams map[string]Upstream `json:"upstreams" yaml:"upstreams" jsonschema:"required"`
	// Headers are named security header profiles (headers.Options plus
	// their CSP). A policy without one gets the API profile.
	Headers map[string]HeaderProfile `json:"headers,omitempty" yaml:"headers,omitempty"`
	// CORS are named CORS policies (cors.Options).
	CORS map[string]cors.Options `json:"cors,omitempty" yaml:"cors,omitempty"`
	// Limits are named rate limiters (ratelimit.Options and a store).
	Limits map[string]Limiter `json:"limits,omitempty" yaml:"limits,omitempty"`
	// Authenticators are named authenticators; each sets exactly one kind
	// (or composes others with any_of / all_of).
	Authenticators map[string]Authenticator `json:"authenticators,omitempty" yaml:"authenticators,omitempty"`
	// CSRF are named CSRF guards (csrf.Options and their keys), step 7.
	// A route whose policy names one and authenticates by session binds
	// its tokens to that session.
	CSRF map[string]CSRF `json:"csrf,omitempty" yaml:"csrf,omitempty"`
	// Abuse are named abuse detectors (abuse.Options with their sources
	// in text form), run at step 5 (policy abuse) or right after
	// authentication (policy principal_abuse).
	Abuse map[string]AbuseDetector `json:"abuse,omitempty" yaml:"abuse,omitempty"`
	// Authorization is the role model (role → permissions, the admin
	// role) every policy's authz rule is checked against.
	Authorization authz.Options `json:"authorization,omitempty" yaml:"authorization,omitempty"`
	// Policies are named sequences of guards, in request-path order.
	Policies map[string]Policy `json:"policies" yaml:"policies" jsonschema:"required"`
	// Routes map requests to a policy and an upstream; a request matching
	// no route gets a 404 problem.
	Routes []Route `json:"routes" yaml:"routes" jsonschema:"required"`
}

// Listener is the public listener.
type Listener struct {
	// Addr is host:port. Required.
	Addr string `json:"addr" yaml:"addr" jsonschema:"required"`
	// TLS terminates TLS; certificates are reloaded when their files change.
	// Default: plain HTTP.
	TLS *ServerTLS `json:"tls,omitempty" yaml:"tls,omitempty"`
	// ReadHeaderTimeout bounds reading a request's headers (slow-loris
	// protection). Default 10s.
	ReadHeaderTimeout time.Duration `json:"read_header_timeout,omitempty" yaml:"read_header_timeout,omitempty"`
	// ReadTimeout bounds reading a whole request, body included. Default:
	// none (uploads of any duration; the body limit bounds the size).
	ReadTimeout time.Duration `json:"read_timeout,omitempty" yaml:"read_timeout,omitempty"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty"`
	// MaxHeaderBytes caps the request line and headers. Default 64 KiB.
	MaxHeaderBytes int `json:"max_header_bytes,omitempty" yaml:"max_header_bytes,omitempty"`
	// ShutdownTimeout is how long a shutdown waits for in-flight requests.
	// Default 30s.
	ShutdownTimeout time.Duration `json:"shutdown_timeout,omitempty" yaml:"shutdown_timeout,omitempty"`
}

// ServerTLS is a listener's certificate and, for mTLS, its client CA.
type ServerTLS struct {
	// CertFile and KeyFile hold the PEM certificate chain and key.
	// Required; re-read when either file changes.
	CertFile string `json:"cert_file" yaml:"cert_file" jsonschema:"required"`
	KeyFile  string `json:"key_file" yaml:"key_file" jsonschema:"required"`
	// ClientCAFile, when set, requires clients to present a certificate
	// signed by one of its CAs (mTLS). Default: no client certificates.
	ClientCAFile string `json:"client_ca_file,omitempty" yaml:"client_ca_file,omitempty"`
}

// Admin is the admin listener.
type Admin struct {
	// Addr is host:port. Default "127.0.0.1:9090"; "off" disables it.
	Addr string `json:"addr,omitempty" yaml:"addr,omitempty"`
	// Token is a bearer token reference ("${ENV}") required on every admin
	// request; TokenFile names a file holding it. Required, or TLS with a
	// client CA, when Addr is not a loopback address.
	Token     string `json:"token,omitempty" yaml:"token,omitempty"`
	TokenFile string `json:"token_file,omitempty" yaml:"token_file,omitempty"`
	// TLS serves the admin listener over TLS; with ClientCAFile, mTLS.
	TLS *ServerTLS `json:"tls,omitempty" yaml:"tls,omitempty"`
}

// Redis is the shared store.
type Redis struct {
	// URL is a redis:// or rediss:// URL; a password in it must come from
	// a reference ("redis://:${REDIS_PASSWORD}@host:6379/0"). Required.
	URL string `json:"url" yaml:"url" jsonschema:"required"`
	// Prefix prefixes every key. Default "bulwark:gw:".
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// Timeout bounds every command; past it a guard applies its outage
	// policy. Default 150ms.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Required makes /readyz fail while Redis does not answer. Default
	// false.
	Required bool `json:"required,omitempty" yaml:"required,omitempty"`
}

// Log configures logging.
type Log struct {
	// AccessLog writes one JSON line per request to stderr. Default false.
	AccessLog bool `json:"access_log,omitempty" yaml:"access_log,omitempty"`
	// AuditFile receives one JSON line per security event ("-" or empty:
	// stderr).
	AuditFile string `json:"audit_file,omitempty" yaml:"audit_file,omitempty"`
}

// Upstream is one backend, served by one or more URLs.
type Upstream struct {
	// URLs are the backend's base URLs (http or https), used round-robin;
	// one that fails is skipped for UnhealthyFor. Required.
	URLs []string `json:"urls" yaml:"urls" jsonschema:"required"`
	// TLS configures connections to https URLs. Default: system roots.
	TLS *UpstreamTLS `json:"tls,omitempty" yaml:"tls,omitempty"`
	// ConnectTimeout bounds the TCP (and TLS) handshake. Default 5s.
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty" yaml:"connect_timeout,omitempty"`
	// ResponseHeaderTimeout bounds the wait for the response headers after
	// the request was written; past it the client gets 504. Default 30s.
	ResponseHeaderTimeout time.Duration `json:"response_header_timeout,omitempty" yaml:"response_header_timeout,omitempty"`
	// IdleTimeout closes idle pooled connections. Default 90s.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty"`
	// MaxIdleConnsPerHost bounds the idle pool per URL. Default 256.
	MaxIdleConnsPerHost int `json:"max_idle_conns_per_host,omitempty" yaml:"max_idle_conns_per_host,omitempty"`
	// UnhealthyFor is how long a URL that failed (connection refused, a
	// timeout) is skipped. Default 10s.
	UnhealthyFor time.Duration `json:"unhealthy_for,omitempty" yaml:"unhealthy_for,omitempty"`
	// PreserveHost sends the client's Host header rather than the URL's.
	// Default false.
	PreserveHost bool `json:"preserve_host,omitempty" yaml:"preserve_host,omitempty"`
}

// UpstreamTLS is the client side of TLS to an upstream.
type UpstreamTLS struct {
	// CAFile holds the PEM CAs trusted for the upstream's certificate.
	// Default: the system roots.
	CAFile string `json:"ca_file,omitempty" yaml:"ca_file,omitempty"`
	// CertFile and KeyFile are the gateway's client certificate, for
	// upstreams that require mTLS. Default: none.
	CertFile string `json:"cert_file,omitempty" yaml:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty" yaml:"key_file,omitempty"`
	// ServerName overrides the name verified in the certificate.
	ServerName string `json:"server_name,omitempty" yaml:"server_name,omitempty"`
}

// HeaderProfile is a security header profile: headers.Options (its zero
// value is the API profile) with the CSP in serialisable form.
type HeaderProfile struct {
	headers.Options `yaml:",inline"`
	// CSP is the enforced Content-Security-Policy. Default: the profile's
	// ("default-src 'none'; frame-ancestors 'none'").
	CSP *csp.Options `json:"csp,omitempty" yaml:"csp,omitempty"`
	// CSPReportOnly is sent as Content-Security-Policy-Report-Only.
	CSPReportOnly *csp.Options `json:"csp_report_only,omitempty" yaml:"csp_report_only,omitempty"`
}

// Limiter is a rate limiter: ratelimit.Options (limits, outage policy, …)
// and where its state lives.
type Limiter struct {
	ratelimit.Options `yaml:",inline"`
	// Store is "memory" (the default; per replica) or "redis" (shared by
	// every replica; needs the top-level redis section).
	Store string `json:"store,omitempty" yaml:"store,omitempty" jsonschema:"enum=memory,enum=redis"`
}

// Authenticator is one named authenticator. Exactly one kind is set; each
// kind is its package's Options (with, where the Options hold something
// that has no text form — a store, a key — a thin wrapper adding only
// that). AnyOf and AllOf compose other named authenticators instead.
type Authenticator struct {
	// JWT verifies bearer JWTs.
	JWT *JWT `json:"jwt,omitempty" yaml:"jwt,omitempty"`
	// APIKey checks API keys (package authn/apikey) against a file of
	// records or the shared Redis store.
	APIKey *APIKey `json:"apikey,omitempty" yaml:"apikey,omitempty"`
	// Basic checks HTTP Basic credentials against a users file or table
	// (package authn/basic). It is also what a session login route checks
	// passwords against.
	Basic *basic.Options `json:"basic,omitempty" yaml:"basic,omitempty"`
	// Introspect asks an authorization server about opaque tokens (RFC
	// 7662, package authn/introspect); with issuer and no endpoint, the
	// endpoint is discovered (package authn/discovery).
	Introspect *Introspect `json:"introspect,omitempty" yaml:"introspect,omitempty"`
	// MTLS authenticates TLS client certificates (package authn/mtls).
	// Without trusted_proxies, the RFC 9440 headers are believed from the
	// client_ip section's trusted proxies.
	MTLS *mtls.Options `json:"mtls,omitempty" yaml:"mtls,omitempty"`
	// Session authenticates browser sessions (package session).
	Session *Session `json:"session,omitempty" yaml:"session,omitempty"`
	// AnyOf accepts a request when one of the named authenticators does,
	// tried in order (authn.AnyOf).
	AnyOf []string `json:"any_of,omitempty" yaml:"any_of,omitempty"`
	// AllOf accepts a request only when every named authenticator does
	// (authn.AllOf), e.g. a client certificate and an API key.
	AllOf []string `json:"all_of,omitempty" yaml:"all_of,omitempty"`
}

// APIKey is an API key authenticator: apikey.Options with its hashing
// secrets by reference and its store.
type APIKey struct {
	apikey.Options `yaml:",inline"`
	// Secrets are the HMAC secrets keys are hashed under, newest first,
	// by reference only ("${APIKEY_SECRET}"); SecretFiles name files
	// holding them (appended after Secrets). At least one is required.
	Secrets     []string `json:"secrets,omitempty" yaml:"secrets,omitempty"`
	SecretFiles []string `json:"secret_files,omitempty" yaml:"secret_files,omitempty"`
	// Store is "file" (the default: RecordsFile, in memory) or "redis"
	// (package rediskeys on the top-level redis section, shared by every
	// replica; manage keys with `bulwark apikey`).
	Store string `json:"store,omitempty" yaml:"store,omitempty" jsonschema:"enum=file,enum=redis"`
	// RecordsFile is a file of key records (a JSON array or JSON Lines,
	// the format `bulwark apikey new` prints). Required with store "file".
	RecordsFile string `json:"records_file,omitempty" yaml:"records_file,omitempty"`
	// Redis tunes the Redis store's cache and key prefix.
	Redis *rediskeys.Options `json:"redis,omitempty" yaml:"redis,omitempty"`
}

// Introspect is an introspection authenticator: introspect.Options, with
// the answers optionally shared through the top-level redis section.
type Introspect struct {
	introspect.Options `yaml:",inline"`
	// SharedCache is "" (each replica caches its own answers) or "redis"
	// (answers shared by every replica).
	SharedCache string `json:"shared_cache,omitempty" yaml:"shared_cache,omitempty" jsonschema:"enum=redis"`
}

// Session is a session authenticator: session.Options with where sessions
// live.
type Session struct {
	session.Options `yaml:",inline"`
	// Store is "memory" (the default; per replica), "redis" (shared by
	// every replica; needs the top-level redis section) or "cookie"
	// (encrypted cookies: no server state, but a copied cookie works until
	// it times out; see package session).
	Store string `json:"store,omitempty" yaml:"store,omitempty" jsonschema:"enum=memory,enum=redis,enum=cookie"`
	// CookieKeys are the AES-256-GCM keys of store "cookie", newest first,
	// by reference only ("${SESSION_KEY}"); CookieKeyFiles name files
	// holding them. Each at least 32 bytes.
	CookieKeys     []string `json:"cookie_keys,omitempty" yaml:"cookie_keys,omitempty"`
	CookieKeyFiles []string `json:"cookie_key_files,omitempty" yaml:"cookie_key_files,omitempty"`
}

// CSRF is a CSRF guard: csrf.Options with its keys by reference. On a
// route authenticated by a session, tokens are bound to that session
// (Session.CSRFBinding); elsewhere to the guard's pre-session cookie.
type CSRF struct {
	csrf.Options `yaml:",inline"`
	// Keys are the token HMAC keys, newest first, by reference only
	// ("${CSRF_KEY}"); KeyFiles name files holding them. Required unless
	// origin_only.
	Keys     []string `json:"keys,omitempty" yaml:"keys,omitempty"`
	KeyFiles []string `json:"key_files,omitempty" yaml:"key_files,omitempty"`
	// UpstreamHeader, when set, sends a fresh token for the request's
	// session upstream in this request header (client copies removed), so
	// that server-rendered pages can put it in their forms' csrf_token
	// field. Default none.
	UpstreamHeader string `json:"upstream_header,omitempty" yaml:"upstream_header,omitempty"`
}

// AbuseDetector is an abuse guard: abuse.Options with its sources in text
// form and its store. Sources: "client", "client/24/64" (the client's
// network), "principal", "global", "basic-user", "header:NAME",
// "apikey:HEADER", "json:a,b" (JSON body members), "card:NUMBER,MONTH,YEAR"
// (the card fingerprint), and "A | B" (the first that has a value).
type AbuseDetector struct {
	abuse.Options `yaml:",inline"`
	// Key is whose attempts are counted. Default "client".
	Key string `json:"key,omitempty" yaml:"key,omitempty"`
	// Fingerprint is what is counted distinct. Required.
	Fingerprint string `json:"fingerprint" yaml:"fingerprint" jsonschema:"required"`
	// Views are further counts over the same attempts.
	Views []AbuseView `json:"views,omitempty" yaml:"views,omitempty"`
	// Store is "memory" (the default; per replica) or "redis" (counts
	// shared by every replica).
	Store string `json:"store,omitempty" yaml:"store,omitempty" jsonschema:"enum=memory,enum=redis"`
	// Secret is the HMAC secret by reference ("${ABUSE_SECRET}"); or set
	// secret_env or secret_file.
	Secret string `json:"secret,omitempty" yaml:"secret,omitempty"`
}

// AbuseView is an abuse.View with its sources in text form.
type AbuseView struct {
	abuse.View `yaml:",inline"`
	// Key is whose attempts are counted. Required.
	Key string `json:"key" yaml:"key" jsonschema:"required"`
	// Value is what is counted distinct. Required.
	Value string `json:"value" yaml:"value" jsonschema:"required"`
}

// JWT is a JWT verifier: jwt.VerifierOptions with its keys in serialisable
// form — static keys (jwt.KeyConfig) and/or a remote JWKS (jwks.Options).
type JWT struct {
	jwt.VerifierOptions `yaml:",inline"`
	// Keys are static verification keys; secrets by reference only
	// (secret: "${ENV}", secret_file, pem_file, jwk_file).
	Keys []jwt.KeyConfig `json:"keys,omitempty" yaml:"keys,omitempty"`
	// JWKS fetches keys from a remote JWKS document.
	JWKS *jwks.Options `json:"jwks,omitempty" yaml:"jwks,omitempty"`
	// Revocation is where revoked token IDs are looked up: "" (none),
	// "memory" or "redis" (one list shared by every replica).
	Revocation string `json:"revocation,omitempty" yaml:"revocation,omitempty"`
}

// Policy is the guards a route's requests meet, in request-path order. Every
// guard is named by a definition (or, for the body limit and authorization
// rule, given inline).
type Policy struct {
	// Headers names a header profile. Default: the API profile.
	Headers string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// CORS names a CORS policy. Default: no CORS (cross-origin reads
	// refused by browsers).
	CORS string `json:"cors,omitempty" yaml:"cors,omitempty"`
	// BodyLimit caps request bodies. Default 1 MiB.
	BodyLimit *bodylimit.Options `json:"body_limit,omitempty" yaml:"body_limit,omitempty"`
	// RateLimits names limiters run before authentication (keyed by IP,
	// route, header).
	RateLimits []string `json:"rate_limits,omitempty" yaml:"rate_limits,omitempty"`
	// Authn names authenticators; a request passes with any of them.
	Authn []string `json:"authn,omitempty" yaml:"authn,omitempty"`
	// AuthnOptional lets requests without credentials through anonymously
	// (bad credentials are still refused). Default false.
	AuthnOptional bool `json:"authn_optional,omitempty" yaml:"authn_optional,omitempty"`
	// Realm names the protection space in challenges. Default "api".
	Realm string `json:"realm,omitempty" yaml:"realm,omitempty"`
	// Abuse names abuse detectors run before authentication (step 5:
	// keyed by client, header, body member).
	Abuse []string `json:"abuse,omitempty" yaml:"abuse,omitempty"`
	// PrincipalLimits names limiters run after authentication (keyed by
	// principal).
	PrincipalLimits []string `json:"principal_limits,omitempty" yaml:"principal_limits,omitempty"`
	// PrincipalAbuse names abuse detectors run right after authentication
	// (keyed by principal or API key).
	PrincipalAbuse []string `json:"principal_abuse,omitempty" yaml:"principal_abuse,omitempty"`
	// CSRF names the CSRF guard of unsafe requests (step 7). Required on
	// routes authenticated by a cookie (a session, or a token or API key
	// read from a cookie) and on session login routes.
	CSRF string `json:"csrf,omitempty" yaml:"csrf,omitempty"`
	// Authz is the rule callers must satisfy (roles, permissions, scopes).
	Authz *authz.Rule `json:"authz,omitempty" yaml:"authz,omitempty"`
	// PrincipalHeaders are sent upstream with the authenticated principal;
	// every incoming copy of them is removed first, on every route.
	PrincipalHeaders *PrincipalHeaders `json:"principal_headers,omitempty" yaml:"principal_headers,omitempty"`
	// Shadow lists guards evaluated without enforcing: what they would
	// refuse is audited and counted, and the request passes. Names:
	// "ip_filter", "cors", "body_limit", "rate_limits", "abuse", "authn",
	// "principal_limits", "principal_abuse", "csrf", "authz".
	Shadow []string `json:"shadow,omitempty" yaml:"shadow,omitempty"`
}

// PrincipalHeaders name the request headers carrying the principal upstream.
type PrincipalHeaders struct {
	Subject string `json:"subject,omitempty" yaml:"subject,omitempty"` // e.g. X-Auth-Subject
	Method  string `json:"method,omitempty" yaml:"method,omitempty"`   // e.g. X-Auth-Method ("jwt")
	Roles   string `json:"roles,omitempty" yaml:"roles,omitempty"`     // comma-separated
	Scopes  string `json:"scopes,omitempty" yaml:"scopes,omitempty"`   // space-separated
}

// Route sends matching requests through a policy to an upstream.
type Route struct {
	// Match is a net/http ServeMux pattern: "[METHOD ][HOST]/PATH", e.g.
	// "GET api.example.com/v1/items/{id}" or "/static/". Required.
	Match string `json:"match" yaml:"match" jsonschema:"required"`
	// Upstream names the backend. Required, unless Session makes the
	// gateway answer the route itself.
	Upstream string `json:"upstream,omitempty" yaml:"upstream,omitempty"`
	// Policy names the policy. Required.
	Policy string `json:"policy" yaml:"policy" jsonschema:"required"`
	// StripPrefix is removed from the path before proxying. Default none.
	StripPrefix string `json:"strip_prefix,omitempty" yaml:"strip_prefix,omitempty"`
	// AllowIPs, when set, admits only clients in these prefixes (client IP
	// as resolved by client_ip); DenyIPs refuses clients in them, first.
	AllowIPs []string `json:"allow_ips,omitempty" yaml:"allow_ips,omitempty"`
	DenyIPs  []string `json:"deny_ips,omitempty" yaml:"deny_ips,omitempty"`
	// StripCredentials removes the client's credentials before proxying:
	// Authorization, X-API-Key, and the header, cookie and query parameter
	// any API-key authenticator of the policy reads (under any spelling of
	// the header names, as principal headers are). The session and CSRF
	// cookies are always removed. Default false: an upstream that checks
	// the token itself still gets it; the lint notes routes that forward a
	// credential an authenticator consumed (credentials-forwarded).
	StripCredentials bool `json:"strip_credentials,omitempty" yaml:"strip_credentials,omitempty"`
	// Session makes the gateway answer this route itself, in place of an
	// upstream, after the policy's guards: a form login that creates a
	// session, or a logout that ends it.
	Session *SessionEndpoint `json:"session,omitempty" yaml:"session,omitempty"`
}

// SessionEndpoint is a login or logout the gateway answers itself.
//
// Login takes a form-encoded POST of username and password, checks them
// with a basic authenticator's users (the same constant-work check as HTTP
// Basic: unknown users cost what wrong passwords do), logs the session in
// (a new session ID: no fixation) and answers 303 to Redirect; bad
// credentials are a 401 problem. Its policy must name a CSRF guard (the
// route's path joins the guard's session routes: login CSRF) and should
// rate-limit it. Logout ends the session server-side and answers 303.
type SessionEndpoint struct {
	// Action is "login" or "logout". Required.
	Action string `json:"action" yaml:"action" jsonschema:"required,enum=login,enum=logout"`
	// Session names the session authenticator. Required.
	Session string `json:"session" yaml:"session" jsonschema:"required"`
	// Users names the basic authenticator whose users may log in.
	// Required for login.
	Users string `json:"users,omitempty" yaml:"users,omitempty"`
	// Redirect is where a successful login or a logout sends the browser
	// (a local path). Default "/".
	Redirect string `json:"redirect,omitempty" yaml:"redirect,omitempty"`
	// Remember sets "remember me" sessions when the form's remember field
	// is "on". Default false: browser-session logins only.
	Remember bool `json:"remember,omitempty" yaml:"remember,omitempty"`
}
