package headers

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/respwriter"
)

// Off, as the value of a string option, leaves that header out.
const Off = "off"

// Canonical names of the headers a Profile manages.
const (
	HeaderHSTS                = "Strict-Transport-Security"
	HeaderContentTypeOptions  = "X-Content-Type-Options"
	HeaderFrameOptions        = "X-Frame-Options"
	HeaderReferrerPolicy      = "Referrer-Policy"
	HeaderPermissionsPolicy   = "Permissions-Policy"
	HeaderCOOP                = "Cross-Origin-Opener-Policy"
	HeaderCORP                = "Cross-Origin-Resource-Policy"
	HeaderCOEP                = "Cross-Origin-Embedder-Policy"
	HeaderCacheControl        = "Cache-Control"
	HeaderXSSProtection       = "X-Xss-Protection"
	HeaderCrossDomainPolicies = "X-Permitted-Cross-Domain-Policies"
	HeaderReportingEndpoints  = "Reporting-Endpoints"
	HeaderCSP                 = csp.HeaderCSP
	HeaderCSPReportOnly       = csp.HeaderCSPReportOnly
)

// managed lists every header a Profile may send. A Profile deletes the ones
// it does not send from a non-empty header map, so that an inner Profile
// (say, HTML() on /app) fully replaces an outer one (Strict() on every
// response) instead of mixing with it.
var managed = []string{
	HeaderHSTS, HeaderContentTypeOptions, HeaderFrameOptions, HeaderReferrerPolicy,
	HeaderPermissionsPolicy, HeaderCOOP, HeaderCORP, HeaderCOEP, HeaderCacheControl,
	HeaderXSSProtection, HeaderCrossDomainPolicies, HeaderReportingEndpoints,
	HeaderCSP, HeaderCSPReportOnly,
}

// DefaultRemoveHeaders are removed from every response unless
// Options.RemoveHeaders says otherwise: they advertise the server stack
// and its version, which helps only an attacker matching exploits.
var DefaultRemoveHeaders = []string{
	"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version",
	"X-Runtime", "X-Generator",
}

// Year is one year, the HSTS max-age the preload list requires.
const Year = 365 * 24 * time.Hour

// HSTS configures Strict-Transport-Security (RFC 6797), sent on requests
// that arrived over HTTPS only (see the package documentation).
type HSTS struct {
	// MaxAge is how long browsers remember to use HTTPS only, in whole
	// seconds. Default one year.
	MaxAge time.Duration `json:"max_age" yaml:"max_age"`
	// IncludeSubDomains extends the policy to every subdomain. Default
	// false (true in Strict).
	IncludeSubDomains bool `json:"include_subdomains" yaml:"include_subdomains"`
	// Preload consents to inclusion in browsers' built-in HSTS list; it
	// requires IncludeSubDomains and a MaxAge of at least one year, and is
	// hard to undo (removal takes months). Default false.
	Preload bool `json:"preload" yaml:"preload"`
	// Off sends no Strict-Transport-Security header. Default false.
	Off bool `json:"off" yaml:"off"`
}

// Options configure a Profile. The zero value is the API profile: every
// field's zero value selects the secure default stated in its comment.
// String options take Off to leave their header out. Options doubles as
// configuration, except CSP and CSPReportOnly, which are built with csp.New.
// X-XSS-Protection has no option: it is always "0" (see the package
// documentation for why).
type Options struct {
	// HSTS configures Strict-Transport-Security. Default max-age one year,
	// no includeSubDomains, no preload.
	HSTS HSTS `json:"hsts" yaml:"hsts"`
	// XContentTypeOptions is "nosniff" or Off. Default "nosniff".
	XContentTypeOptions string `json:"x_content_type_options" yaml:"x_content_type_options"`
	// FrameOptions is X-Frame-Options: "DENY", "SAMEORIGIN" or Off. It must
	// agree with the CSP's frame-ancestors ('none' ↔ DENY, 'self' ↔
	// SAMEORIGIN). Default: derived from frame-ancestors — DENY when it is
	// 'none' or absent, SAMEORIGIN for 'self', no header when it lists
	// other origins (X-Frame-Options cannot express them).
	FrameOptions string `json:"frame_options" yaml:"frame_options"`
	// ReferrerPolicy is one Referrer-Policy token. "unsafe-url" and
	// "no-referrer-when-downgrade" are refused: they send full URLs (paths
	// and query strings) to other sites. Default "no-referrer".
	ReferrerPolicy string `json:"referrer_policy" yaml:"referrer_policy"`
	// PermissionsPolicy maps features to allowlists. Default (nil):
	// DenyAll(). An empty non-nil policy sends no header.
	PermissionsPolicy PermissionsPolicy `json:"permissions_policy" yaml:"permissions_policy"`
	// COOP is Cross-Origin-Opener-Policy: "same-origin",
	// "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"
	// or Off. Default "same-origin".
	COOP string `json:"coop" yaml:"coop"`
	// CORP is Cross-Origin-Resource-Policy: "same-origin", "same-site",
	// "cross-origin" or Off. It restricts no-cors embedding only; CORS
	// fetches are governed by the cors package. Default "same-origin".
	CORP string `json:"corp" yaml:"corp"`
	// COEP is Cross-Origin-Embedder-Policy: "require-corp",
	// "credentialless", "unsafe-none", or "" for none. Default: none
	// ("require-corp" in Strict).
	COEP string `json:"coep" yaml:"coep"`
	// CacheControl is the Cache-Control value, or Off. Handlers may
	// override it for cacheable public responses (Handler sets it before
	// calling them). Default "no-store".
	CacheControl string `json:"cache_control" yaml:"cache_control"`
	// XPermittedCrossDomainPolicies is for Adobe clients (Flash, Acrobat)
	// reading crossdomain.xml: "none", "master-only", "by-content-type",
	// or "" for no header. Default: no header ("none" in Strict).
	XPermittedCrossDomainPolicies string `json:"x_permitted_cross_domain_policies" yaml:"x_permitted_cross_domain_policies"`
	// RemoveHeaders are deleted from responses: those set before the Profile
	// runs are deleted then; those a handler or proxied upstream sets
	// later are deleted only with RemoveOnWrite (or by StripHeaders in a
	// reverse proxy's ModifyResponse). Default (nil): DefaultRemoveHeaders.
	// An empty non-nil list removes nothing.
	RemoveHeaders []string `json:"remove_headers" yaml:"remove_headers"`
	// RemoveOnWrite wraps the ResponseWriter so that RemoveHeaders are also
	// deleted when the handler writes its response, catching headers the
	// handler set. It costs one allocation per request. Default false.
	RemoveOnWrite bool `json:"remove_on_write" yaml:"remove_on_write"`
	// CSP is the enforced Content-Security-Policy. Default (nil):
	// "default-src 'none'; frame-ancestors 'none'", right for JSON.
	CSP *csp.CSP `json:"-" yaml:"-"`
	// DisableCSP sends no enforced CSP, whatever CSP holds (for an
	// application whose handlers set their own). Default false.
	DisableCSP bool `json:"disable_csp" yaml:"disable_csp"`
	// CSPReportOnly is sent beside CSP as
	// Content-Security-Policy-Report-Only, for a staged rollout of a
	// stricter policy; a nonce is shared with CSP. Default: none.
	CSPReportOnly *csp.CSP `json:"-" yaml:"-"`
	// ReportingEndpoints maps endpoint group names to report URLs (absolute
	// https, or a path on this site) for the Reporting-Endpoints header;
	// every CSP report-to group must be defined here. Default: none.
	ReportingEndpoints map[string]string `json:"reporting_endpoints" yaml:"reporting_endpoints"`
}

// Profile sends a fixed set of security headers on every response, and
// deletes the managed headers it does not send (see the package
// documentation). Every value is built once by New. It is immutable and
// safe for concurrent use.
type Profile struct {
	static   []field  // sent on every response
	hsts     []string // sent on HTTPS only; nil when off
	clear    []string // RemoveHeaders + managed headers not sent
	remove   []string // RemoveHeaders (canonical)
	csp      *csp.Headers
	onWrite  func(http.Header) // StripHeaders, with RemoveOnWrite; else nil
	describe map[string]string
}

type field struct {
	name string
	val  []string
}

// apiCSP is the default enforced policy: a JSON response loads nothing
// and may not be framed.
var apiCSP = mustCSP(csp.Options{DefaultSrc: []string{csp.None}, FrameAncestors: []string{csp.None}})

func mustCSP(o csp.Options) *csp.CSP {
	p, err := csp.New(o)
	if err != nil {
		panic(err)
	}
	return p
}

// New validates o and builds every header value once. Errors say what is
// wrong and how to fix it.
func New(o Options) (*Profile, error) {
	p := &Profile{describe: map[string]string{}}
	add := func(name, value string) {
		p.static = append(p.static, field{name, []string{value}})
		p.describe[name] = value
	}

	// HSTS.
	if !o.HSTS.Off {
		v, err := hstsValue(o.HSTS)
		if err != nil {
			return nil, err
		}
		p.hsts = []string{v}
		p.describe[HeaderHSTS] = v
	}

	// X-Content-Type-Options.
	switch strings.ToLower(o.XContentTypeOptions) {
	case "", "nosniff":
		add(HeaderContentTypeOptions, "nosniff")
	case Off:
	default:
		return nil, fmt.Errorf("headers: XContentTypeOptions %q: the only value is nosniff (or %q)", o.XContentTypeOptions, Off)
	}

	// CSP and frame options.
	var enforce *csp.CSP
	if !o.DisableCSP {
		enforce = o.CSP
		if enforce == nil {
			enforce = apiCSP
		}
	}
	xfo, err := frameOptions(o.FrameOptions, enforce)
	if err != nil {
		return nil, err
	}
	if xfo != "" {
		add(HeaderFrameOptions, xfo)
	}

	// Referrer-Policy.
	rp, err := referrerPolicy(o.ReferrerPolicy)
	if err != nil {
		return nil, err
	}
	if rp != "" {
		add(HeaderReferrerPolicy, rp)
	}

	// Permissions-Policy.
	pp := o.PermissionsPolicy
	if pp == nil {
		pp = DenyAll()
	}
	if len(pp) > 0 {
		v, err := pp.render()
		if err != nil {
			return nil, err
		}
		add(HeaderPermissionsPolicy, v)
	}

	// Cross-origin isolation headers.
	for _, c := range []struct {
		name, value, def string
		allowed          []string
	}{
		{HeaderCOOP, o.COOP, "same-origin", []string{"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"}},
		{HeaderCORP, o.CORP, "same-origin", []string{"same-origin", "same-site", "cross-origin"}},
		{HeaderCOEP, o.COEP, Off, []string{"require-corp", "credentialless", "unsafe-none"}},
		{HeaderCrossDomainPolicies, o.XPermittedCrossDomainPolicies, Off, []string{"none", "master-only", "by-content-type"}},
	} {
		v := strings.ToLower(c.value)
		if v == "" {
			v = c.def
		}
		if v == Off {
			continue
		}
		if !slices.Contains(c.allowed, v) {
			return nil, fmt.Errorf("headers: %s %q: use one of %s, or %q to leave it out", c.name, c.value, strings.Join(c.allowed, ", "), Off)
		}
		add(c.name, v)
	}

	// Cache-Control.
	switch cc := o.CacheControl; {
	case cc == "":
		add(HeaderCacheControl, "no-store")
	case strings.EqualFold(cc, Off):
	case !validHeaderValue(cc):
		return nil, fmt.Errorf("headers: CacheControl %q contains a control character", cc)
	default:
		add(HeaderCacheControl, cc)
	}

	// X-XSS-Protection: always 0 (see the package documentation).
	add(HeaderXSSProtection, "0")

	// Reporting-Endpoints.
	if len(o.ReportingEndpoints) > 0 {
		v, err := reportingEndpoints(o.ReportingEndpoints)
		if err != nil {
			return nil, err
		}
		add(HeaderReportingEndpoints, v)
	}
	for _, c := range []*csp.CSP{enforce, o.CSPReportOnly} {
		if c == nil || c.ReportTo() == "" {
			continue
		}
		if _, ok := o.ReportingEndpoints[c.ReportTo()]; !ok {
			return nil, fmt.Errorf("headers: the CSP reports to group %q, which ReportingEndpoints does not define; add ReportingEndpoints[%q] = \"https://…/csp-reports\"", c.ReportTo(), c.ReportTo())
		}
	}
	if hs := csp.NewHeaders(enforce, o.CSPReportOnly); hs.UsesNonce() {
		p.csp = hs
		if enforce != nil {
			p.describe[HeaderCSP] = enforce.String()
		}
		if o.CSPReportOnly != nil {
			p.describe[HeaderCSPReportOnly] = o.CSPReportOnly.String()
		}
	} else {
		// Fixed policies join the other pre-built values.
		if enforce != nil {
			add(HeaderCSP, enforce.String())
		}
		if o.CSPReportOnly != nil {
			add(HeaderCSPReportOnly, o.CSPReportOnly.String())
		}
	}

	// Removal.
	remove := o.RemoveHeaders
	if remove == nil {
		remove = DefaultRemoveHeaders
	}
	for _, name := range remove {
		if !csp.IsToken(name) {
			return nil, fmt.Errorf("headers: RemoveHeaders: %q is not a header name", name)
		}
		c := http.CanonicalHeaderKey(name)
		if slices.Contains(managed, c) {
			return nil, fmt.Errorf("headers: RemoveHeaders: %s is a header this package sends; set its option to %q instead", c, Off)
		}
		if !slices.Contains(p.remove, c) {
			p.remove = append(p.remove, c)
		}
	}
	p.clear = slices.Clone(p.remove)
	for _, name := range managed {
		if _, sent := p.describe[name]; !sent {
			p.clear = append(p.clear, name)
		}
	}
	if o.RemoveOnWrite && len(p.remove) > 0 {
		p.onWrite = p.StripHeaders // one func value for all requests
	}
	return p, nil
}

func hstsValue(h HSTS) (string, error) {
	age := h.MaxAge
	if age == 0 {
		age = Year
	}
	if age < time.Second {
		return "", fmt.Errorf("headers: HSTS MaxAge %v is below one second; use at least a year (headers.Year), or HSTS.Off to send none", h.MaxAge)
	}
	if h.Preload {
		var missing []string
		if !h.IncludeSubDomains {
			missing = append(missing, "IncludeSubDomains: true")
		}
		if age < Year {
			missing = append(missing, fmt.Sprintf("MaxAge of at least one year (headers.Year, 31536000 s; have %d s)", int64(age/time.Second)))
		}
		if len(missing) > 0 {
			return "", fmt.Errorf("headers: HSTS Preload requires %s, as the preload list checks; set %s, or drop Preload", strings.Join(missing, " and "), map[bool]string{true: "them", false: "it"}[len(missing) > 1])
		}
	}
	v := "max-age=" + strconv.FormatInt(int64(age/time.Second), 10)
	if h.IncludeSubDomains {
		v += "; includeSubDomains"
	}
	if h.Preload {
		v += "; preload"
	}
	return v, nil
}

func frameOptions(v string, policy *csp.CSP) (string, error) {
	var fa []string
	if policy != nil {
		fa = policy.FrameAncestors()
	}
	faIs := func(s string) bool { return len(fa) == 1 && fa[0] == s }
	switch strings.ToUpper(v) {
	case "":
		switch {
		case fa == nil || faIs(csp.None):
			return "DENY", nil
		case faIs(csp.Self):
			return "SAMEORIGIN", nil
		}
		return "", nil
	case "DENY":
		if fa != nil && !faIs(csp.None) {
			return "", fmt.Errorf("headers: FrameOptions DENY contradicts the CSP's frame-ancestors %s; make frame-ancestors 'none', or leave FrameOptions empty to derive it", strings.Join(fa, " "))
		}
		return "DENY", nil
	case "SAMEORIGIN":
		if fa != nil && !faIs(csp.Self) {
			return "", fmt.Errorf("headers: FrameOptions SAMEORIGIN contradicts the CSP's frame-ancestors %s; make frame-ancestors 'self', or leave FrameOptions empty to derive it", strings.Join(fa, " "))
		}
		return "SAMEORIGIN", nil
	case "OFF":
		return "", nil
	}
	return "", fmt.Errorf("headers: FrameOptions %q: use DENY or SAMEORIGIN (ALLOW-FROM is obsolete: list origins in the CSP's frame-ancestors), or %q", v, Off)
}

var referrerTokens = []string{
	"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin",
	"origin", "origin-when-cross-origin",
}

func referrerPolicy(v string) (string, error) {
	l := strings.ToLower(v)
	switch {
	case l == "":
		return "no-referrer", nil
	case l == Off:
		return "", nil
	case l == "unsafe-url" || l == "no-referrer-when-downgrade":
		return "", fmt.Errorf("headers: ReferrerPolicy %q sends full URLs (paths and query strings, which may hold tokens) to other sites; use strict-origin-when-cross-origin or no-referrer", v)
	case slices.Contains(referrerTokens, l):
		return l, nil
	}
	return "", fmt.Errorf("headers: ReferrerPolicy %q: use one of %s, or %q", v, strings.Join(referrerTokens, ", "), Off)
}

func reportingEndpoints(m map[string]string) (string, error) {
	names := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for i, name := range names {
		u := m[name]
		if !csp.IsToken(name) || strings.ToLower(name) != name {
			return "", fmt.Errorf("headers: ReportingEndpoints: %q is not a valid endpoint name (lower-case letters, digits, -_.*)", name)
		}
		if !validHeaderValue(u) || strings.ContainsAny(u, "\"\\ ") {
			return "", fmt.Errorf("headers: ReportingEndpoints[%q]: %q contains a character not allowed in a URL", name, u)
		}
		pu, err := url.Parse(u)
		switch {
		case err != nil:
			return "", fmt.Errorf("headers: ReportingEndpoints[%q]: %q is not a URL", name, u)
		case pu.Scheme == "" && pu.Host == "" && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
		case pu.Scheme == "https" && pu.Host != "":
		default:
			return "", fmt.Errorf("headers: ReportingEndpoints[%q]: %q must be an https URL or a path on this site (browsers send reports to secure endpoints only)", name, u)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(u)
		b.WriteByte('"')
	}
	return b.String(), nil
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isSecure reports whether r arrived over HTTPS: the client-identity
// guard's verdict when it ran (it honours X-Forwarded-Proto from trusted
// proxies only), else whether the connection itself is TLS.
func isSecure(r *http.Request) bool {
	if st := reqctx.From(r.Context()); st != nil {
		return st.Secure
	}
	return r.TLS != nil
}

// Apply sets the headers on w for request r and returns the request to pass
// on: r itself, or, with a CSP nonce, r with the nonce in its context (read
// it with csp.Nonce). It is the Handler's body, for callers that compose
// their own pipeline (such as package gateway).
func (p *Profile) Apply(w http.ResponseWriter, r *http.Request) *http.Request {
	h := w.Header()
	if len(h) != 0 {
		for _, name := range p.clear {
			delete(h, name)
		}
	}
	for i := range p.static {
		h[p.static[i].name] = p.static[i].val
	}
	if p.hsts != nil {
		if isSecure(r) {
			h[HeaderHSTS] = p.hsts
		} else {
			// Not sent on plain HTTP, so not left there by an earlier
			// middleware either (HSTS.Off policies have it in clear).
			delete(h, HeaderHSTS)
		}
	}
	if p.csp != nil {
		return p.csp.Apply(h, r)
	}
	return r
}

// Handler returns middleware that sets the headers before calling next,
// so they are on every response next writes, problem responses of later
// guards included. A handler may still override a value (Cache-Control
// for a cacheable resource) with w.Header().Set; it must not modify the
// shared value slices in place.
func (p *Profile) Handler(next http.Handler) http.Handler {
	if p.onWrite != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = p.Apply(w, r)
			next.ServeHTTP(&respwriter.Writer{ResponseWriter: w, BeforeHeader: p.onWrite}, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, p.Apply(w, r))
	})
}

// StripHeaders deletes RemoveHeaders from h. Use it where a response's
// headers come from elsewhere, such as httputil.ReverseProxy's
// ModifyResponse (resp.Header).
func (p *Profile) StripHeaders(h http.Header) {
	for _, name := range p.remove {
		delete(h, name)
	}
}

// Description is a Profile as New compiled it: what it sends, when, and
// what it deletes. It is meant for display (the demo's /config/security)
// and logs, and encodes to JSON as is; its lists are never nil.
type Description struct {
	// Headers are the headers the profile sends, by canonical name:
	// Strict-Transport-Security on HTTPS requests only, a per-request CSP
	// nonce as 'nonce-{per-request}'.
	Headers map[string]string `json:"headers"`
	// HTTPSOnly names the headers of Headers sent on HTTPS requests only,
	// and deleted on plain HTTP (Strict-Transport-Security).
	HTTPSOnly []string `json:"https_only"`
	// CSPNonce reports whether responses carry a per-request CSP nonce.
	CSPNonce bool `json:"csp_nonce"`
	// Removed are the headers deleted from every response
	// (Options.RemoveHeaders), canonical.
	Removed []string `json:"removed"`
	// RemoveOnWrite reports whether Removed headers that the handler sets
	// are deleted too, when it writes its response.
	RemoveOnWrite bool `json:"remove_on_write"`
	// Withheld are the headers this package manages that the policy does
	// not send (an option set to Off, no report-only CSP, …): they are
	// deleted when an earlier middleware set them.
	Withheld []string `json:"withheld"`
}

// Describe returns the effective profile: the headers it sends, and what
// it deletes. For display (the demo's /secure-headers and /config/security).
func (p *Profile) Describe() Description {
	d := Description{
		Headers:       maps.Clone(p.describe),
		HTTPSOnly:     []string{},
		CSPNonce:      p.Nonce(),
		Removed:       p.Removed(),
		RemoveOnWrite: p.onWrite != nil,
		Withheld:      []string{},
	}
	if d.Removed == nil {
		d.Removed = []string{}
	}
	if p.hsts != nil {
		d.HTTPSOnly = append(d.HTTPSOnly, HeaderHSTS)
	}
	for _, name := range managed {
		if _, sent := p.describe[name]; !sent {
			d.Withheld = append(d.Withheld, name)
		}
	}
	return d
}

// Removed returns the response headers the policy deletes.
func (p *Profile) Removed() []string { return slices.Clone(p.remove) }

// Nonce reports whether responses carry a per-request CSP nonce.
func (p *Profile) Nonce() bool { return p.csp.UsesNonce() }
