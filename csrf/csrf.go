package csrf

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/origin"
	"github.com/bulwark-go/bulwark/problem"
)

// Reason codes of refused requests, in audit events (Problem.Reason).
// They are stable: dashboards and alerts may switch on them.
const (
	ReasonCrossSite              = "csrf_cross_site"               // Sec-Fetch-Site: cross-site or same-site, Origin not trusted
	ReasonOriginMismatch         = "csrf_origin_mismatch"          // Origin neither the request's own nor trusted
	ReasonOriginMalformed        = "csrf_origin_malformed"         // Origin not a serialized origin (userinfo, path, several values, ...)
	ReasonFetchMetadataMalformed = "csrf_fetch_metadata_malformed" // Sec-Fetch-Site sent more than once
	ReasonRefererMismatch        = "csrf_referer_mismatch"         // no Origin; Referer neither the request's own origin nor trusted
	ReasonRefererMalformed       = "csrf_referer_malformed"        // no Origin; Referer not an absolute http(s) URL, or with userinfo
	ReasonTokenMissing           = "csrf_token_missing"            // no token in the header, the XSRF header or the form
	ReasonTokenExpired           = "csrf_token_expired"            // a genuine token older than Options.Timeout
	ReasonTokenInvalid           = "csrf_token_invalid"            // undecodable, or its signature matches no key
	ReasonSessionMismatch        = "csrf_session_mismatch"         // a genuine token bound to another session (or none here)
	ReasonXSRFMismatch           = "csrf_xsrf_cookie_mismatch"     // X-XSRF-Token differs from the XSRF-TOKEN cookie
	ReasonFormTooLarge           = "csrf_form_too_large"           // the form holds no token within Options.MaxFormBytes (413)
)

// Names of the token's carriers, as DESIGN fixes them.
const (
	// FieldName is the form field a token is read from.
	FieldName = "csrf_token"
	// HeaderName is the request header a token is read from, and the
	// response header Token writes it to.
	HeaderName = "X-CSRF-Token"
	// XSRFHeaderName is the header SPA frameworks (Angular, axios) copy
	// the XSRF-TOKEN cookie into.
	XSRFHeaderName = "X-XSRF-Token"
	// DefaultXSRFCookieName is the readable cookie those frameworks read.
	DefaultXSRFCookieName = "XSRF-TOKEN"
	// DefaultCookieName is the pre-session cookie's name over plain HTTP;
	// over HTTPS it is "__Host-" + the name.
	DefaultCookieName = "csrf"
	// DefaultTimeout is how long a token stays valid by default.
	DefaultTimeout = 12 * time.Hour
	// DefaultMaxFormBytes is how much of a form body Check reads, by
	// default, looking for the token field: 1 MiB.
	DefaultMaxFormBytes int64 = 1 << 20
	// MinKeyLen is the shortest HMAC key New accepts, in bytes.
	MinKeyLen = 32
)

// ErrInvalid is wrapped by every error New returns.
var ErrInvalid = errors.New("invalid CSRF configuration")

// Options configures a Guard. The zero value is not usable: set Keys, or
// OriginOnly.
type Options struct {
	// OriginOnly runs the origin check alone, without tokens: for JSON
	// APIs whose cookie-carrying callers have no forms (the demo's /api/*).
	// Keys, Binding and the cookie options are then not used.
	OriginOnly bool `json:"origin_only,omitempty" yaml:"origin_only,omitempty"`

	// TrustedOrigins are origins other than the request's own whose pages
	// may send unsafe requests: full origins "https://app.example.com"
	// (scheme, host and port all compared) or wildcard patterns
	// "https://*.example.com" with the syntax of package cors. A pattern
	// over a public suffix, and a plain-HTTP origin that is not loopback,
	// are refused. Default: none.
	TrustedOrigins []string `json:"trusted_origins,omitempty" yaml:"trusted_origins,omitempty"`

	// Keys are the HMAC-SHA-256 keys of the tokens, newest first: the
	// first signs, all verify, so a key is rotated by prepending the new
	// one and dropping the oldest after Timeout. Each at least 32 bytes
	// (from crypto/rand). Required unless OriginOnly.
	Keys [][]byte `json:"-" yaml:"-"`

	// Binding returns the value that binds tokens to the caller's session,
	// and whether there is a session: a per-session secret (the session
	// ID, or a random value stored in the session) that changes when the
	// session is renewed. Called by Check and Token. Without a session
	// (false, or a nil Binding) tokens are bound to a pre-session: a random
	// ID in the guard's own HttpOnly cookie, so a login form is protected
	// too.
	Binding func(r *http.Request) (value string, ok bool) `json:"-" yaml:"-"`

	// Timeout is how long a token stays valid after it is issued.
	// Default 12 h. Tokens are not single-use: any number of requests may
	// carry one until then.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`

	// SessionRoutes are the exact paths of routes that create a session
	// (a login form's target, "/session/login"): their unsafe requests run
	// both layers even when they carry no cookie at all, since a forged
	// cross-site login POST carries none (login CSRF). Exact match of the
	// request path: no prefixes, no patterns.
	SessionRoutes []string `json:"session_routes,omitempty" yaml:"session_routes,omitempty"`

	// Exempt are the exact paths of routes the guard lets through
	// unchecked (a webhook authenticated by its own signature). Exact match
	// of the request path — "/hooks/pay" exempts neither "/hooks/pay/" nor
	// "/hooks/pay/x" — so that an exemption never covers more than it says
	// (Go's CVE-2025-47910 was a pattern matching too much).
	Exempt []string `json:"exempt,omitempty" yaml:"exempt,omitempty"`

	// IssuePaths are the exact paths of pages whose safe requests (GET,
	// HEAD) receive a token without the handler asking: in the
	// X-CSRF-Token response header and, with XSRFCookie, the XSRF-TOKEN
	// cookie — for single-page apps, and for templates that call csrfField
	// after the page has started streaming out. Other pages get a token
	// when their handler calls Token.
	IssuePaths []string `json:"issue_paths,omitempty" yaml:"issue_paths,omitempty"`

	// XSRFCookie makes every issued token also set the readable (not
	// HttpOnly) XSRF-TOKEN cookie that Angular and axios copy into the
	// X-XSRF-Token header. Default false: the header is then not
	// accepted either.
	XSRFCookie bool `json:"xsrf_cookie,omitempty" yaml:"xsrf_cookie,omitempty"`
	// XSRFCookieName renames that cookie. Default "XSRF-TOKEN".
	XSRFCookieName string `json:"xsrf_cookie_name,omitempty" yaml:"xsrf_cookie_name,omitempty"`

	// CookieName is the pre-session cookie's name. Default "csrf"; over
	// HTTPS the name carries the "__Host-" prefix (Secure, Path=/, no
	// Domain), which a sibling subdomain cannot overwrite.
	CookieName string `json:"cookie_name,omitempty" yaml:"cookie_name,omitempty"`
	// CookieSameSite is the pre-session and XSRF-TOKEN cookies' SameSite
	// attribute: "lax" (default) or "strict".
	CookieSameSite string `json:"cookie_same_site,omitempty" yaml:"cookie_same_site,omitempty"`

	// MaxFormBytes bounds how much of a urlencoded or multipart body
	// Check reads looking for the csrf_token field; the handler still
	// reads the whole body. Default 1 MiB. A form whose token is not found
	// within it is refused with 413 (send the token in X-CSRF-Token, or
	// put the field first).
	MaxFormBytes int64 `json:"max_form_bytes,omitempty" yaml:"max_form_bytes,omitempty"`

	// Audit receives one event per refused request. Default: no audit.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes the refusals. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Guard is a compiled CSRF policy; build it with New. It is immutable and
// safe for concurrent use.
type Guard struct {
	originOnly bool
	exact      []string // trusted origins, canonical
	patterns   []origin.Spec
	keys       []*keyState
	binding    func(*http.Request) (string, bool)
	timeout    time.Duration
	timeoutSec int64
	session    map[string]struct{}
	exempt     map[string]struct{}
	issue      map[string]struct{}
	xsrf       bool
	xsrfName   string
	cookie     string // plain-HTTP pre-session cookie name
	hostCookie string // "__Host-" + cookie
	sameSite   http.SameSite
	maxForm    int64
	deny       problem.Denier
}

// keyState is one HMAC key with a pool of keyed hashes: hmac.New costs
// three allocations, Reset on a pooled one none.
type keyState struct {
	pool sync.Pool
}

func newKey(k []byte) *keyState {
	key := append([]byte(nil), k...)
	ks := &keyState{}
	ks.pool.New = func() any { return &mac{h: hmac.New(sha256.New, key)} }
	return ks
}

// New validates opts and compiles them into a Guard. It refuses weak or
// missing keys, malformed or insecure trusted origins and inexact route
// lists, with a message that says how to fix them.
func New(opts Options) (*Guard, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("csrf: %w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	g := &Guard{
		originOnly: opts.OriginOnly,
		binding:    opts.Binding,
		xsrf:       opts.XSRFCookie,
		deny:       problem.Denier{Guard: "csrf", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	for i, raw := range opts.TrustedOrigins {
		if strings.TrimSpace(raw) == "*" {
			return nil, bad(`TrustedOrigins[%d]: "*" would trust every web site, which disables the origin check; list the origins you trust, e.g. "https://app.example.com"`, i)
		}
		spec, err := origin.ParseSpec(raw)
		if err != nil {
			return nil, bad("TrustedOrigins[%d] %q: %v", i, raw, err)
		}
		if section, ok := spec.PublicSuffixPattern(); ok {
			return nil, bad("TrustedOrigins[%d] %q: %q is a public suffix (%s): anyone can register a site under it; trust your own origins, or a wildcard under a domain you own (\"https://*.example.com\")",
				i, raw, strings.TrimSuffix(spec.Host, "."), section)
		}
		if !spec.Trustworthy() {
			return nil, bad("TrustedOrigins[%d] %q: a page served over plain %s:// can be rewritten by anyone on its users' network path, who could then send requests in their name; trust its TLS origin %q instead (loopback origins such as \"http://localhost:3000\" stay allowed)",
				i, raw, spec.Scheme, spec.Scheme+"s"+strings.TrimPrefix(spec.Canon, spec.Scheme))
		}
		if spec.Pattern {
			g.patterns = append(g.patterns, spec)
		} else {
			g.exact = append(g.exact, spec.Canon)
		}
	}
	var err error
	if g.session, err = exactPaths("SessionRoutes", opts.SessionRoutes); err != nil {
		return nil, bad("%v", err)
	}
	if g.exempt, err = exactPaths("Exempt", opts.Exempt); err != nil {
		return nil, bad("%v", err)
	}
	if g.issue, err = exactPaths("IssuePaths", opts.IssuePaths); err != nil {
		return nil, bad("%v", err)
	}
	for p := range g.session {
		if _, ok := g.exempt[p]; ok {
			return nil, bad("%q is both a SessionRoute and Exempt: a login route must stay checked (login CSRF)", p)
		}
	}
	if opts.OriginOnly {
		switch {
		case len(opts.Keys) > 0 || opts.Binding != nil:
			return nil, bad("OriginOnly uses no tokens: drop Keys and Binding, or set OriginOnly to false")
		case len(g.session) > 0:
			return nil, bad("OriginOnly with SessionRoutes: a login route needs tokens too (a cross-site login POST without any header would pass); set OriginOnly to false")
		case opts.XSRFCookie || len(g.issue) > 0:
			return nil, bad("OriginOnly issues no tokens: drop XSRFCookie and IssuePaths, or set OriginOnly to false")
		}
		return g, nil
	}
	if len(opts.Keys) == 0 {
		return nil, bad("Keys is empty: give at least one HMAC key of %d random bytes or more (crypto/rand), or set OriginOnly for an API without forms", MinKeyLen)
	}
	for i, k := range opts.Keys {
		if len(k) < MinKeyLen {
			return nil, bad("Keys[%d] is %d bytes; use at least %d random bytes (crypto/rand)", i, len(k), MinKeyLen)
		}
		for j := range i {
			if hmac.Equal(k, opts.Keys[j]) {
				return nil, bad("Keys[%d] repeats Keys[%d]", i, j)
			}
		}
		g.keys = append(g.keys, newKey(k))
	}
	switch {
	case opts.Timeout < 0:
		return nil, bad("Timeout is negative; use a positive duration, or 0 for the default (%v)", DefaultTimeout)
	case opts.Timeout == 0:
		g.timeout = DefaultTimeout
	case opts.Timeout < time.Minute:
		return nil, bad("Timeout %v is shorter than a minute: users could not fill a form in time; tokens are timestamped in seconds", opts.Timeout)
	default:
		g.timeout = opts.Timeout
	}
	g.timeoutSec = int64(g.timeout / time.Second)
	g.xsrfName = opts.XSRFCookieName
	if g.xsrfName == "" {
		g.xsrfName = DefaultXSRFCookieName
	} else if !opts.XSRFCookie {
		return nil, bad("XSRFCookieName is set without XSRFCookie")
	}
	g.cookie = opts.CookieName
	if g.cookie == "" {
		g.cookie = DefaultCookieName
	}
	for _, n := range []string{g.cookie, g.xsrfName} {
		if !validCookieName(n) || strings.HasPrefix(n, "__") {
			return nil, bad("cookie name %q: want letters, digits, '-' and '_', not starting with \"__\" (the __Host- prefix is added over HTTPS)", n)
		}
	}
	if g.cookie == g.xsrfName {
		return nil, bad("CookieName and XSRFCookieName must differ")
	}
	g.hostCookie = "__Host-" + g.cookie
	switch strings.ToLower(opts.CookieSameSite) {
	case "", "lax":
		g.sameSite = http.SameSiteLaxMode
	case "strict":
		g.sameSite = http.SameSiteStrictMode
	default:
		return nil, bad(`CookieSameSite %q: want "lax" or "strict" (the pre-session cookie never needs to travel on cross-site requests)`, opts.CookieSameSite)
	}
	switch {
	case opts.MaxFormBytes < 0:
		return nil, bad("MaxFormBytes is negative; use a size in bytes, or 0 for the default (%d)", DefaultMaxFormBytes)
	case opts.MaxFormBytes == 0:
		g.maxForm = DefaultMaxFormBytes
	default:
		g.maxForm = opts.MaxFormBytes
	}
	return g, nil
}

func exactPaths(field string, list []string) (map[string]struct{}, error) {
	m := make(map[string]struct{}, len(list))
	for i, p := range list {
		switch {
		case !strings.HasPrefix(p, "/"):
			return nil, fmt.Errorf("%s[%d] %q: want an exact request path starting with '/'", field, i, p)
		case strings.ContainsAny(p, "*{}?# \t"):
			return nil, fmt.Errorf("%s[%d] %q: want an exact request path; patterns, wildcards, queries and methods are not supported (each path is matched exactly)", field, i, p)
		case path.Clean(p) != p && path.Clean(p)+"/" != p:
			return nil, fmt.Errorf("%s[%d] %q is not a clean path (want %q)", field, i, p, path.Clean(p))
		}
		m[p] = struct{}{}
	}
	return m, nil
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// safeMethod reports the methods that must not change state (RFC 9110
// §9.2.1) and so are never checked: GET, HEAD, OPTIONS.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Check is the guard's decision. A safe method passes; so does a request
// to an Exempt path, and one that carries no cookie at all unless its path
// is a SessionRoute. Anything else must pass the origin check and then
// (unless OriginOnly) carry a valid token bound to its session. When the
// token came from a form, the returned request's body replays what Check
// read, so the handler sees the whole body; otherwise r is returned.
func (g *Guard) Check(r *http.Request) (*http.Request, *problem.Problem) {
	if safeMethod(r.Method) {
		return r, nil
	}
	p := r.URL.Path
	if len(g.exempt) > 0 {
		if _, ok := g.exempt[p]; ok {
			return r, nil
		}
	}
	creates := false
	if len(g.session) > 0 {
		_, creates = g.session[p]
	}
	if !creates && len(r.Header["Cookie"]) == 0 {
		return r, nil
	}
	if pr := g.checkOrigin(r); pr != nil {
		return r, pr
	}
	if g.originOnly {
		return r, nil
	}
	return g.checkToken(r)
}

// Handler returns next behind Check, answering every refusal with a 403
// problem (413 for a form too large to find the token in) and one audit
// event. It also makes Token work in next, and issues a token on the
// IssuePaths.
func (g *Guard) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("csrf: Handler(nil)")
	}
	if g.originOnly {
		return g.deny.Wrap(g.Check, next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, pr := g.Check(r)
		if pr != nil {
			g.deny.Deny(w, r, pr)
			return
		}
		r = g.attach(w, r)
		if safeMethod(r.Method) && len(g.issue) > 0 {
			if _, ok := g.issue[r.URL.Path]; ok {
				Token(r)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// refuse builds a refusal: 403, type csrf, a client-safe detail and the
// reason code.
func refuse(reason, detail string) *problem.Problem {
	return problem.Forbidden(problem.TypeCSRF, detail).WithReason(reason).With("reason", reason)
}
