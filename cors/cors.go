package cors

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/internal/origin"
	"github.com/bulwark-go/bulwark/problem"
)

// Errors returned by New wrap one of these, so that a configuration linter
// can tell an insecure policy from a malformed one.
var (
	// ErrInsecure: the options would let arbitrary web sites read
	// responses meant for the user (for example "*" with credentials).
	ErrInsecure = errors.New("insecure CORS configuration")
	// ErrInvalid: an option is malformed (an origin with a path, a method
	// that is not a token, ...).
	ErrInvalid = errors.New("invalid CORS configuration")
)

// Reason codes of refused requests, in Decision.Reason and audit events.
const (
	ReasonOriginNotAllowed = "origin_not_allowed"      // Origin matches no entry
	ReasonNullOrigin       = "null_origin_not_allowed" // "Origin: null" without AllowNullOrigin
	ReasonMethodNotAllowed = "method_not_allowed"      // method not in AllowedMethods
	ReasonHeaderNotAllowed = "header_not_allowed"      // a requested header not in AllowedHeaders
	ReasonMalformed        = "malformed_cors_request"  // several Origin (unless "*") or Access-Control-Request-Method values, an abusive header list
)

// Kind classifies a request as CORS sees it.
type Kind uint8

// Request kinds.
const (
	// NotCORS: no Origin header (a same-origin GET or a non-browser client).
	NotCORS Kind = iota
	// Actual: a request carrying Origin that is not a preflight.
	Actual
	// Preflight: OPTIONS with Origin and Access-Control-Request-Method.
	Preflight
)

// String returns "none", "actual" or "preflight".
func (k Kind) String() string {
	switch k {
	case Actual:
		return "actual"
	case Preflight:
		return "preflight"
	}
	return "none"
}

// Decision is what the policy decided about one request. It is a value and
// computing it does not allocate.
type Decision struct {
	// Kind says whether the request is a preflight, an actual CORS request
	// or not a CORS request at all.
	Kind Kind
	// Allowed reports whether the response grants the cross-origin read
	// (carries Access-Control-Allow-Origin). For NotCORS it is true only
	// when every origin is allowed ("*"), whose header is then sent anyway.
	Allowed bool
	// Reason is one of the Reason codes when Kind is not NotCORS and
	// Allowed is false.
	Reason string

	acao []string // Access-Control-Allow-Origin value
	acah []string // Access-Control-Allow-Headers value of a preflight, nil for none
	pna  bool     // answer a Private Network Access preflight
}

// AllowOrigin returns the Access-Control-Allow-Origin value the response
// carries: the request's origin, "*", or "" when not allowed.
func (d Decision) AllowOrigin() string {
	if len(d.acao) == 0 {
		return ""
	}
	return d.acao[0]
}

// CORS is a compiled CORS policy. It is immutable after New and safe for
// concurrent use.
type CORS struct {
	base   policy
	routes []route // longest prefix first
}

type route struct {
	prefix string // cleaned, without trailing slash
	p      *policy
}

// policy is one compiled Options; every header value is built here once and
// assigned straight into response headers.
type policy struct {
	anyOrigin   bool
	allowNull   bool
	exact       map[string][]string // canonical origin → its Access-Control-Allow-Origin value
	exactList   [][]string          // the same values when there are few: a scan beats hashing
	patterns    []origin.Spec
	pred        func(string) bool
	predDomains []string // AllowOriginFuncDomains, canonical; nil for no limit
	credentials bool

	methods   []string // exact, byte-compared
	anyMethod bool
	headers   headerSet
	anyHeader bool
	pnaOK     bool
	status    int

	varyActual    []string
	varyPreflight []string
	acam          []string
	acah          []string
	aceh          []string
	maxAge        []string

	deny problem.Denier
}

// Constant header values, shared by every response: each slice has
// len == cap, so that a handler appending to the header copies it.
var (
	valTrue = []string{"true"}
	valStar = []string{"*"}
	valNull = []string{"null"}
)

// New checks opts and compiles them into a policy. It refuses insecure
// combinations with an error wrapping ErrInsecure, and malformed options
// with one wrapping ErrInvalid; both say how to fix the configuration.
func New(opts Options) (*CORS, error) {
	c := &CORS{}
	if err := compile(&c.base, opts, ""); err != nil {
		return nil, err
	}
	seen := make(map[string]string, len(opts.Routes))
	for key, ro := range opts.Routes {
		where := fmt.Sprintf("Routes[%q]", key)
		prefix, err := routePrefix(key)
		if err != nil {
			return nil, fmt.Errorf("cors: %s: %w: %v", where, ErrInvalid, err)
		}
		if other, dup := seen[prefix]; dup {
			return nil, fmt.Errorf("cors: Routes[%q] and Routes[%q] name the same prefix: %w", other, key, ErrInvalid)
		}
		seen[prefix] = key
		if len(ro.Routes) > 0 {
			return nil, fmt.Errorf("cors: %s: %w: routes cannot nest; list every prefix at the top level", where, ErrInvalid)
		}
		if ro.Audit == nil {
			ro.Audit = opts.Audit
		}
		if ro.ErrorHandler == nil {
			ro.ErrorHandler = opts.ErrorHandler
		}
		p := new(policy)
		if err := compile(p, ro, where+": "); err != nil {
			return nil, err
		}
		c.routes = append(c.routes, route{prefix: prefix, p: p})
	}
	slices.SortFunc(c.routes, func(a, b route) int {
		if d := len(b.prefix) - len(a.prefix); d != 0 {
			return d
		}
		return strings.Compare(a.prefix, b.prefix)
	})
	return c, nil
}

// routePrefix validates a Routes key and returns it cleaned, without a
// trailing slash.
func routePrefix(key string) (string, error) {
	if !strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("a route is a path prefix starting with '/'")
	}
	p := path.Clean(key)
	if p == "/" {
		return "", fmt.Errorf(`the route "/" is every path: set the top-level options instead`)
	}
	if p != key && p+"/" != key {
		return "", fmt.Errorf("route prefix is not a clean path (want %q)", p)
	}
	return p, nil
}

func compile(p *policy, o Options, where string) error {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("cors: %s%w: %s", where, ErrInvalid, fmt.Sprintf(format, a...))
	}
	insecure := func(format string, a ...any) error {
		return fmt.Errorf("cors: %s%w: %s", where, ErrInsecure, fmt.Sprintf(format, a...))
	}
	// name trims entry i of the list field (of method or header names,
	// noun): "*" is the wildcard, which credentialed requests take
	// literally (so AllowCredentials refuses it); anything else must be a
	// token.
	name := func(field, noun string, i int, v string) (string, error) {
		v = strings.TrimSpace(v)
		if v == "*" {
			if o.AllowCredentials {
				return "", insecure(`%s "*" with AllowCredentials: browsers treat "*" as a literal %s name on credentialed requests; list the %ss`, field, noun, noun)
			}
			return v, nil
		}
		if !httpsyntax.IsToken(v) {
			return "", invalid("%s[%d] %q is not a %s name", field, i, v, noun)
		}
		return v, nil
	}
	p.credentials = o.AllowCredentials
	p.allowNull = o.AllowNullOrigin
	p.pred = o.AllowOriginFunc
	p.pnaOK = o.AllowPrivateNetwork
	p.deny = problem.Denier{Guard: "cors", Audit: o.Audit, Handler: o.ErrorHandler}

	// Origins.
	p.exact = make(map[string][]string, len(o.AllowedOrigins))
	for i, raw := range o.AllowedOrigins {
		if strings.TrimSpace(raw) == "*" {
			if len(o.AllowedOrigins) != 1 || o.AllowOriginFunc != nil {
				return invalid(`AllowedOrigins: "*" already allows every origin; it must be the only entry, without AllowOriginFunc`)
			}
			if o.AllowCredentials {
				return insecure(`AllowedOrigins "*" with AllowCredentials would let every web site read your users' credentialed responses (and browsers refuse "Access-Control-Allow-Origin: *" on credentialed requests): list the exact origins you trust, e.g. "https://app.example.com", or set AllowCredentials to false`)
			}
			p.anyOrigin = true
			continue
		}
		spec, err := origin.ParseSpec(raw)
		if err != nil {
			return invalid("AllowedOrigins[%d] %q: %v", i, raw, err)
		}
		if section, ok := spec.PublicSuffixPattern(); ok {
			reads, hint := "read your API's responses", `; if you really mean every origin, say so with "*"`
			if o.AllowCredentials {
				reads, hint = "read your users' credentialed responses", ""
			}
			return insecure(`AllowedOrigins[%d] %q: %q is a public suffix (%s): anyone can register a site under it, so the pattern lets strangers' pages %s; list your own origins ("https://app.example.com"), or a wildcard under a domain you own ("https://*.example.com")%s`,
				i, raw, strings.TrimSuffix(spec.Host, "."), section, reads, hint)
		}
		if o.AllowCredentials && !spec.Trustworthy() {
			return insecure(`AllowedOrigins[%d] %q with AllowCredentials: a page served over plain %s:// can be rewritten by anyone on its users' network path (public Wi-Fi, an ISP, a proxy), who could then read their credentialed responses; list the site's TLS origin %q instead, or set AllowCredentials to false (loopback origins such as "http://localhost:3000", "http://127.0.0.1:8080" or "http://[::1]:8080" stay allowed for local development)`,
				i, raw, spec.Scheme, spec.Scheme+"s"+strings.TrimPrefix(spec.Canon, spec.Scheme))
		}
		if spec.Pattern {
			if !slices.ContainsFunc(p.patterns, func(s origin.Spec) bool { return s.Canon == spec.Canon }) {
				p.patterns = append(p.patterns, spec)
			}
			continue
		}
		p.exact[spec.Canon] = []string{spec.Canon}
	}
	if n := len(p.exact); n > 0 && n <= 8 {
		for _, v := range p.exact {
			p.exactList = append(p.exactList, v)
		}
		slices.SortFunc(p.exactList, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	}
	if o.AllowNullOrigin && o.AllowCredentials {
		return insecure(`AllowNullOrigin with AllowCredentials would let any web site read credentialed responses: every site can send "Origin: null" from a sandboxed iframe; set AllowNullOrigin to false, or AllowCredentials to false`)
	}
	if err := compilePredicate(p, o, invalid, insecure); err != nil {
		return err
	}

	// Methods.
	methods := o.AllowedMethods
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	for i, m := range methods {
		m, err := name("AllowedMethods", "method", i, m)
		if err != nil {
			return err
		}
		if m == "*" {
			p.anyMethod = true
			continue
		}
		switch u := strings.ToUpper(m); u {
		case "CONNECT", "TRACE", "TRACK":
			return invalid("AllowedMethods[%d] %q: browsers never send %s (a forbidden method in the Fetch standard)", i, m, u)
		case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
			m = u // fetch() upper-cases these
		}
		if !slices.Contains(p.methods, m) {
			p.methods = append(p.methods, m)
		}
	}
	if p.anyMethod {
		p.methods = nil
		p.acam = valStar
	} else {
		p.acam = []string{strings.Join(p.methods, ", ")}
	}

	// Request headers.
	p.headers.names = make(map[string]struct{}, len(o.AllowedHeaders))
	var canon []string
	for i, h := range o.AllowedHeaders {
		h, err := name("AllowedHeaders", "header", i, h)
		if err != nil {
			return err
		}
		if h == "*" {
			p.anyHeader = true
			continue
		}
		if len(h) > maxHeaderNameLen {
			return invalid("AllowedHeaders[%d]: header names longer than %d bytes are not supported", i, maxHeaderNameLen)
		}
		l := strings.ToLower(h)
		if _, dup := p.headers.names[l]; dup {
			continue
		}
		p.headers.names[l] = struct{}{}
		p.headers.maxLen = max(p.headers.maxLen, len(l))
		canon = append(canon, http.CanonicalHeaderKey(h))
	}
	if !p.anyHeader && len(canon) > 0 {
		p.acah = []string{strings.Join(canon, ", ")}
	}

	// Exposed headers.
	canon = canon[:0]
	for i, h := range o.ExposedHeaders {
		h, err := name("ExposedHeaders", "header", i, h)
		if err != nil {
			return err
		}
		if strings.EqualFold(h, "Set-Cookie") || strings.EqualFold(h, "Set-Cookie2") {
			return invalid("ExposedHeaders[%d] %q: browsers never expose it to scripts", i, h)
		}
		if h != "*" {
			h = http.CanonicalHeaderKey(h)
		}
		if !slices.Contains(canon, h) {
			canon = append(canon, h)
		}
	}
	if len(canon) > 0 {
		p.aceh = []string{strings.Join(canon, ", ")}
	}

	// Max-Age.
	switch {
	case o.MaxAge == 0:
		p.maxAge = []string{strconv.Itoa(int(DefaultMaxAge / time.Second))}
	case o.MaxAge < 0:
		p.maxAge = []string{"0"}
	default:
		p.maxAge = []string{strconv.FormatInt(int64((o.MaxAge+time.Second-1)/time.Second), 10)}
	}

	// Status.
	p.status = o.PreflightStatus
	if p.status == 0 {
		p.status = DefaultPreflightStatus
	}
	if p.status < 200 || p.status > 299 {
		return invalid("PreflightStatus %d: browsers fail a preflight without a 2xx status; use 204 or 200", o.PreflightStatus)
	}

	// Vary.
	p.varyActual = []string{"Origin"}
	if p.pnaOK {
		p.varyPreflight = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"}
	} else {
		p.varyPreflight = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
	}
	return nil
}

// matchesEntry reports whether origin matches an exact entry or a pattern.
func matchesEntry(p *policy, origin string) bool {
	if _, ok := p.exact[origin]; ok {
		return true
	}
	for i := range p.patterns {
		if p.patterns[i].Match(origin) {
			return true
		}
	}
	return false
}

// Handler returns next wrapped in the policy: a preflight is answered here
// and never reaches next; any other request gets its CORS headers (always
// Vary: Origin unless every origin is allowed) and goes on to next.
func (c *CORS) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("cors: Handler(nil)")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := c.policyFor(r)
		d := p.decide(r)
		if d.Kind == Preflight {
			p.answerPreflight(w, r, &d)
			return
		}
		p.applyActual(w.Header(), &d)
		next.ServeHTTP(w, r)
	})
}

// Decide classifies r and decides about it without writing anything: the
// whole decision Handler applies (which headers a response carries).
func (c *CORS) Decide(r *http.Request) Decision {
	return c.policyFor(r).decide(r)
}

// Check is the guard's decision: it returns r and, for a preflight the
// policy refuses, the 403 problem Handler answers it with. Every other
// request passes — CORS refuses nothing else: a cross-origin response the
// policy does not grant simply lacks Access-Control-Allow-Origin, and the
// browser keeps it from the page. It writes nothing.
func (c *CORS) Check(r *http.Request) (*http.Request, *problem.Problem) {
	if d := c.policyFor(r).decide(r); d.Kind == Preflight && !d.Allowed {
		return r, preflightProblem(r, d.Reason)
	}
	return r, nil
}

// policyFor picks the route policy for r's cleaned path.
func (c *CORS) policyFor(r *http.Request) *policy {
	if len(c.routes) == 0 || r.URL == nil {
		return &c.base
	}
	p := path.Clean(r.URL.Path) // allocates only for unclean paths
	for _, rt := range c.routes {
		if strings.HasPrefix(p, rt.prefix) && (len(p) == len(rt.prefix) || p[len(rt.prefix)] == '/') {
			return rt.p
		}
	}
	return &c.base
}

// decide is the whole decision; it does not allocate.
func (p *policy) decide(r *http.Request) Decision {
	origins := r.Header["Origin"]
	if len(origins) == 0 {
		if p.anyOrigin && p.methodAllowed(r.Method) {
			return Decision{Kind: NotCORS, Allowed: true, acao: valStar}
		}
		return Decision{Kind: NotCORS}
	}
	d := Decision{Kind: Actual}
	var acrm []string
	if r.Method == http.MethodOptions {
		if acrm = r.Header["Access-Control-Request-Method"]; acrm != nil {
			d.Kind = Preflight
		}
	}
	// "Every origin allowed" comes first: its answer does not depend on
	// the Origin value, so repeated Origin lines must not take away the
	// "*" that the same response carries for every other request (a
	// shared cache storing that response, which has no Vary, would then
	// serve it to real cross-origin readers).
	acao := valStar
	if !p.anyOrigin {
		if len(origins) != 1 {
			d.Reason = ReasonMalformed
			return d
		}
		var reason string
		if acao, reason = p.matchOrigin(origins); acao == nil {
			d.Reason = reason
			return d
		}
	}
	if d.Kind == Actual {
		if !p.methodAllowed(r.Method) {
			d.Reason = ReasonMethodNotAllowed
			return d
		}
		d.Allowed, d.acao = true, acao
		return d
	}
	if len(acrm) != 1 {
		d.Reason = ReasonMalformed
		return d
	}
	if !p.methodAllowed(acrm[0]) {
		d.Reason = ReasonMethodNotAllowed
		return d
	}
	acrh := r.Header["Access-Control-Request-Headers"]
	if len(acrh) > 0 {
		var reason string
		var any bool
		if p.anyHeader {
			if reason, any = validEchoList(acrh); any {
				d.acah = acrh[:len(acrh):len(acrh)]
			}
		} else if reason, any = p.headers.allows(acrh); any {
			d.acah = p.acah
		}
		if reason != "" {
			d.Reason, d.acah = reason, nil
			return d
		}
	}
	if p.pnaOK {
		if v := r.Header["Access-Control-Request-Private-Network"]; len(v) == 1 && v[0] == "true" {
			d.pna = true
		}
	}
	d.Allowed, d.acao = true, acao
	return d
}

// matchOrigin returns the Access-Control-Allow-Origin value for the single
// Origin value in origins, for a policy that does not allow every origin,
// or nil and a reason.
func (p *policy) matchOrigin(origins []string) ([]string, string) {
	o := origins[0]
	if o == "null" {
		if p.allowNull {
			return valNull, ""
		}
		return nil, ReasonNullOrigin
	}
	if p.exactList != nil {
		for _, v := range p.exactList {
			if v[0] == o {
				return v, ""
			}
		}
	} else if v, ok := p.exact[o]; ok {
		return v, ""
	}
	if len(o) > origin.MaxLen {
		return nil, ReasonOriginNotAllowed
	}
	for i := range p.patterns {
		if p.patterns[i].Match(o) {
			return origins[:1:1], ""
		}
	}
	if p.pred != nil && origin.IsSerialized(o) && p.predInScope(o) && p.pred(o) {
		return origins[:1:1], ""
	}
	return nil, ReasonOriginNotAllowed
}

func (p *policy) methodAllowed(m string) bool {
	if p.anyMethod {
		return httpsyntax.IsToken(m) && !forbiddenMethod(m)
	}
	for _, a := range p.methods {
		if a == m {
			return true
		}
	}
	return false
}

func forbiddenMethod(m string) bool {
	return strings.EqualFold(m, "CONNECT") || strings.EqualFold(m, "TRACE") || strings.EqualFold(m, "TRACK")
}

// addVary adds v to the Vary header without allocating when there is none.
func addVary(h http.Header, v []string) {
	if old := h["Vary"]; len(old) > 0 {
		h["Vary"] = append(old[:len(old):len(old)], v[0])
		return
	}
	h["Vary"] = v
}

func (p *policy) applyActual(h http.Header, d *Decision) {
	if !p.anyOrigin {
		addVary(h, p.varyActual)
	}
	if !d.Allowed {
		return
	}
	h["Access-Control-Allow-Origin"] = d.acao
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = valTrue
	}
	if p.aceh != nil {
		h["Access-Control-Expose-Headers"] = p.aceh
	}
}

func (p *policy) answerPreflight(w http.ResponseWriter, r *http.Request, d *Decision) {
	h := w.Header()
	addVary(h, p.varyPreflight)
	if !d.Allowed {
		p.deny.Deny(w, r, preflightProblem(r, d.Reason))
		return
	}
	h["Access-Control-Allow-Origin"] = d.acao
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = valTrue
	}
	h["Access-Control-Allow-Methods"] = p.acam
	if d.acah != nil {
		h["Access-Control-Allow-Headers"] = d.acah
	}
	h["Access-Control-Max-Age"] = p.maxAge
	if d.pna {
		h["Access-Control-Allow-Private-Network"] = valTrue
	}
	w.WriteHeader(p.status)
}

// preflightProblem is the 403 sent for a refused preflight. Its detail says
// which check failed but never what the policy allows; the internal error
// (logged, not sent) names the request's origin and method.
func preflightProblem(r *http.Request, reason string) *problem.Problem {
	var detail string
	switch reason {
	case ReasonOriginNotAllowed:
		detail = "CORS preflight refused: cross-origin requests from this origin are not allowed"
	case ReasonNullOrigin:
		detail = "CORS preflight refused: cross-origin requests from an opaque (null) origin are not allowed"
	case ReasonMethodNotAllowed:
		detail = "CORS preflight refused: the requested method is not allowed for cross-origin requests"
	case ReasonHeaderNotAllowed:
		detail = "CORS preflight refused: a requested header is not allowed for cross-origin requests"
	default:
		detail = "CORS preflight refused: malformed CORS preflight request"
	}
	return problem.New(http.StatusForbidden, problem.TypeForbidden, detail).
		WithReason(reason).
		WithErr(&preflightError{origin: r.Header["Origin"], method: r.Header["Access-Control-Request-Method"]})
}

// preflightError describes a refused preflight for the audit log; it is
// formatted only when a sink asks for it.
type preflightError struct{ origin, method []string }

func (e *preflightError) Error() string {
	return fmt.Sprintf("cors preflight from origin %q for method %q", clip(e.origin), clip(e.method))
}

// clip bounds attacker-controlled values written to the audit log.
func clip(v []string) string {
	s := strings.Join(v, ", ")
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}
