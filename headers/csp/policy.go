package csp

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// Options is a Content-Security-Policy (CSP Level 3) as typed directives.
// Every source list is validated by New: a nil list leaves the directive
// out, an empty non-nil list is refused (write 'none' to block a resource
// type). Sources are strings in header syntax: quoted keywords (Self,
// StrictDynamic, …), "*", schemes ("https:", "data:"), hosts
// ("https://*.example.com:8443/path") and hashes ('sha256-…', see Hash).
//
// Options doubles as configuration: a file (the gateway's) decodes
// YAML or JSON into it. The zero value is refused (an empty policy
// restricts nothing).
type Options struct {
	// DefaultSrc is the fallback for every fetch directive left out.
	// Default: absent.
	DefaultSrc []string `json:"default_src,omitempty" yaml:"default_src,omitempty"`
	// ScriptSrc governs scripts (elements, attributes, eval). With Nonce it
	// must be set; the nonce is added to it. Default: absent.
	ScriptSrc []string `json:"script_src,omitempty" yaml:"script_src,omitempty"`
	// ScriptSrcElem overrides ScriptSrc for <script> elements. With Nonce,
	// the nonce is added to it too. Default: absent.
	ScriptSrcElem []string `json:"script_src_elem,omitempty" yaml:"script_src_elem,omitempty"`
	// ScriptSrcAttr overrides ScriptSrc for inline event handlers.
	// Default: absent.
	ScriptSrcAttr []string `json:"script_src_attr,omitempty" yaml:"script_src_attr,omitempty"`
	// StyleSrc governs stylesheets and inline styles. With Nonce, the nonce
	// is added unless the list holds 'unsafe-inline' (a nonce would make
	// browsers ignore it). Default: absent.
	StyleSrc []string `json:"style_src,omitempty" yaml:"style_src,omitempty"`
	// StyleSrcElem overrides StyleSrc for <style> and <link> elements;
	// nonce handling as for StyleSrc. Default: absent.
	StyleSrcElem []string `json:"style_src_elem,omitempty" yaml:"style_src_elem,omitempty"`
	// StyleSrcAttr overrides StyleSrc for style attributes. Default: absent.
	StyleSrcAttr []string `json:"style_src_attr,omitempty" yaml:"style_src_attr,omitempty"`
	// ImgSrc governs images and favicons. Default: absent.
	ImgSrc []string `json:"img_src,omitempty" yaml:"img_src,omitempty"`
	// FontSrc governs fonts. Default: absent.
	FontSrc []string `json:"font_src,omitempty" yaml:"font_src,omitempty"`
	// ConnectSrc governs fetch, XHR, WebSocket, EventSource. Default: absent.
	ConnectSrc []string `json:"connect_src,omitempty" yaml:"connect_src,omitempty"`
	// MediaSrc governs audio, video and tracks. Default: absent.
	MediaSrc []string `json:"media_src,omitempty" yaml:"media_src,omitempty"`
	// ObjectSrc governs <object> and <embed>; set it to 'none' unless
	// DefaultSrc is 'none'. Default: absent.
	ObjectSrc []string `json:"object_src,omitempty" yaml:"object_src,omitempty"`
	// FrameSrc governs nested browsing contexts. Default: absent.
	FrameSrc []string `json:"frame_src,omitempty" yaml:"frame_src,omitempty"`
	// ChildSrc governs frames and workers where FrameSrc/WorkerSrc are
	// absent. Default: absent.
	ChildSrc []string `json:"child_src,omitempty" yaml:"child_src,omitempty"`
	// WorkerSrc governs Worker, SharedWorker and ServiceWorker scripts.
	// Default: absent.
	WorkerSrc []string `json:"worker_src,omitempty" yaml:"worker_src,omitempty"`
	// ManifestSrc governs web app manifests. Default: absent.
	ManifestSrc []string `json:"manifest_src,omitempty" yaml:"manifest_src,omitempty"`

	// BaseURI restricts <base href>; 'none' or 'self' stop injected base
	// tags from redirecting relative script URLs. It does not fall back to
	// DefaultSrc. Default: absent.
	BaseURI []string `json:"base_uri,omitempty" yaml:"base_uri,omitempty"`
	// FormAction restricts form submission targets; no fallback to
	// DefaultSrc. Default: absent.
	FormAction []string `json:"form_action,omitempty" yaml:"form_action,omitempty"`
	// FrameAncestors restricts who may embed the page (the modern
	// X-Frame-Options); only 'none', 'self', schemes and hosts.
	// Default: absent.
	FrameAncestors []string `json:"frame_ancestors,omitempty" yaml:"frame_ancestors,omitempty"`

	// Sandbox applies an iframe-like sandbox to the document. Default false.
	Sandbox bool `json:"sandbox,omitempty" yaml:"sandbox,omitempty"`
	// SandboxAllow lists the sandbox's exceptions ("allow-scripts",
	// "allow-forms", …); requires Sandbox. Default: none.
	SandboxAllow []string `json:"sandbox_allow,omitempty" yaml:"sandbox_allow,omitempty"`
	// UpgradeInsecureRequests makes the browser fetch http: subresources
	// over https:. (It supersedes the obsolete block-all-mixed-content.)
	// Default false.
	UpgradeInsecureRequests bool `json:"upgrade_insecure_requests,omitempty" yaml:"upgrade_insecure_requests,omitempty"`
	// WebRTC is the CSP Level 3 webrtc directive: WebRTCBlock ("'block'")
	// stops the document from making WebRTC connections (which fetch
	// directives do not govern, so a page could otherwise send data out
	// over them); WebRTCAllow ("'allow'") states that it may. Default ""
	// (no directive: allowed).
	WebRTC string `json:"webrtc,omitempty" yaml:"webrtc,omitempty"`
	// ReportTo names a Reporting-Endpoints group that receives violation
	// reports (headers.Options.ReportingEndpoints defines it).
	// Default: none.
	ReportTo string `json:"report_to,omitempty" yaml:"report_to,omitempty"`
	// ReportURI lists URLs (absolute http(s) or path-absolute) receiving
	// CSP Level 2 reports, for browsers without report-to. Default: none.
	ReportURI []string `json:"report_uri,omitempty" yaml:"report_uri,omitempty"`
	// TrustedTypes lists the Trusted Types policy names the page may
	// create, or 'none', 'allow-duplicates', "*". Default: absent.
	TrustedTypes []string `json:"trusted_types,omitempty" yaml:"trusted_types,omitempty"`
	// RequireTrustedTypesFor enforces Trusted Types at DOM XSS sinks; the
	// only value is 'script' (Script). Default: absent.
	RequireTrustedTypesFor []string `json:"require_trusted_types_for,omitempty" yaml:"require_trusted_types_for,omitempty"`

	// InsecureAllowScriptSources accepts the script and plugin sources
	// that let an attacker's script run, which New otherwise refuses (the
	// package documentation lists them), for a legacy site that must ship
	// such a policy while moving to nonces. javascript:, and any-site
	// sources in base-uri, form-action and frame-ancestors, stay refused.
	// Default false.
	InsecureAllowScriptSources bool `json:"insecure_allow_script_sources,omitempty" yaml:"insecure_allow_script_sources,omitempty"`

	// Nonce adds a fresh nonce to script-src (and to script-src-elem,
	// style-src and style-src-elem as described on those fields) on every
	// response (see the package documentation). Default false.
	Nonce bool `json:"nonce,omitempty" yaml:"nonce,omitempty"`
}

// family is what a directive accepts.
type family uint8

const (
	famDefault  family = iota // default-src: every source
	famScript                 // script-src, script-src-elem
	famAttr                   // script-src-attr, style-src-attr
	famStyle                  // style-src, style-src-elem
	famFetch                  // img-src, connect-src, … : 'self', 'none', *, schemes, hosts
	famDocument               // base-uri, form-action, frame-ancestors
)

type directive struct {
	name  string
	fam   family
	field func(*Options) *[]string
	nonce bool // receives the per-request nonce
}

// directives lists the source-list directives in the order they are
// written into the header.
var directives = []directive{
	{"default-src", famDefault, func(o *Options) *[]string { return &o.DefaultSrc }, false},
	{"script-src", famScript, func(o *Options) *[]string { return &o.ScriptSrc }, true},
	{"script-src-elem", famScript, func(o *Options) *[]string { return &o.ScriptSrcElem }, true},
	{"script-src-attr", famAttr, func(o *Options) *[]string { return &o.ScriptSrcAttr }, false},
	{"style-src", famStyle, func(o *Options) *[]string { return &o.StyleSrc }, true},
	{"style-src-elem", famStyle, func(o *Options) *[]string { return &o.StyleSrcElem }, true},
	{"style-src-attr", famAttr, func(o *Options) *[]string { return &o.StyleSrcAttr }, false},
	{"img-src", famFetch, func(o *Options) *[]string { return &o.ImgSrc }, false},
	{"font-src", famFetch, func(o *Options) *[]string { return &o.FontSrc }, false},
	{"connect-src", famFetch, func(o *Options) *[]string { return &o.ConnectSrc }, false},
	{"media-src", famFetch, func(o *Options) *[]string { return &o.MediaSrc }, false},
	{"object-src", famFetch, func(o *Options) *[]string { return &o.ObjectSrc }, false},
	{"frame-src", famFetch, func(o *Options) *[]string { return &o.FrameSrc }, false},
	{"child-src", famFetch, func(o *Options) *[]string { return &o.ChildSrc }, false},
	{"worker-src", famFetch, func(o *Options) *[]string { return &o.WorkerSrc }, false},
	{"manifest-src", famFetch, func(o *Options) *[]string { return &o.ManifestSrc }, false},
	{"base-uri", famDocument, func(o *Options) *[]string { return &o.BaseURI }, false},
	{"form-action", famDocument, func(o *Options) *[]string { return &o.FormAction }, false},
	{"frame-ancestors", famDocument, func(o *Options) *[]string { return &o.FrameAncestors }, false},
}

// allowedKeyword reports whether keyword kw has an effect in family f.
func allowedKeyword(f family, kw string) bool {
	switch f {
	case famDefault:
		return true
	case famScript:
		return true
	case famAttr:
		return kw == UnsafeInline || kw == UnsafeHashes || kw == ReportSample || kw == Self
	case famStyle:
		return kw == Self || kw == UnsafeInline || kw == UnsafeHashes || kw == ReportSample
	default:
		return kw == Self
	}
}

var sandboxTokens = map[string]bool{
	"allow-downloads": true, "allow-forms": true, "allow-modals": true,
	"allow-orientation-lock": true, "allow-pointer-lock": true, "allow-popups": true,
	"allow-popups-to-escape-sandbox": true, "allow-presentation": true,
	"allow-same-origin": true, "allow-scripts": true, "allow-top-navigation": true,
	"allow-top-navigation-by-user-activation":  true,
	"allow-top-navigation-to-custom-protocols": true,
	"allow-storage-access-by-user-activation":  true,
}

// CSP is a validated, pre-rendered Content-Security-Policy. It is
// immutable and safe for concurrent use.
type CSP struct {
	// parts is the header value split at the nonce positions: the value is
	// parts[0] + nonce + parts[1] + … ; one part when there is no nonce.
	parts          []string
	display        string
	frameAncestors []string
	reportTo       string
	opts           Options
}

// placeholder stands for the per-request nonce in String.
const placeholder = "{per-request}"

// New validates o and renders the policy once. Errors name the directive
// and source at fault and say how to fix them.
func New(o Options) (*CSP, error) {
	p := &CSP{opts: cloneOptions(o)}
	var segs []string // directive texts, a nonce marker between parts
	var cur strings.Builder
	hasNonceTarget := false
	for _, d := range directives {
		list := *d.field(&o)
		if list == nil {
			continue
		}
		srcs, err := validateList(d, list)
		if err != nil {
			return nil, err
		}
		if d.name == "frame-ancestors" {
			for _, s := range srcs {
				p.frameAncestors = append(p.frameAncestors, s.Value)
			}
		}
		addNonce := o.Nonce && d.nonce
		if addNonce && (d.fam == famStyle) && slices.ContainsFunc(srcs, func(s Source) bool { return s.Value == UnsafeInline }) {
			addNonce = false // documented: styles keep 'unsafe-inline'
		}
		if addNonce && srcs[0].Kind == KindNone {
			return nil, fmt.Errorf("csp: %s is 'none' but Nonce adds a nonce to it; list the sources scripts may come from (for example 'strict-dynamic') instead of 'none'", d.name)
		}
		if d.name == "script-src" && addNonce {
			hasNonceTarget = true
		}
		if !addNonce && (d.fam == famScript || (d.fam == famDefault && o.ScriptSrc == nil)) {
			if slices.ContainsFunc(srcs, func(s Source) bool { return s.Value == StrictDynamic }) &&
				!slices.ContainsFunc(srcs, func(s Source) bool { return s.Kind == KindHash }) {
				return nil, fmt.Errorf("csp: %s has 'strict-dynamic' without a nonce or hash, which blocks every script; set Nonce or add a hash (csp.Hash)", d.name)
			}
		}
		if err := checkScripts(d, srcs, &o, addNonce); err != nil {
			return nil, err
		}
		if cur.Len() > 0 {
			cur.WriteString("; ")
		}
		cur.WriteString(d.name)
		if addNonce {
			cur.WriteString(" 'nonce-")
			segs = append(segs, cur.String())
			cur.Reset()
			cur.WriteString("'")
		}
		for _, s := range srcs {
			cur.WriteByte(' ')
			cur.WriteString(s.Value)
		}
	}
	if o.Nonce && !hasNonceTarget {
		return nil, errors.New("csp: Nonce adds the nonce to script-src, which is not set; set ScriptSrc (for example []string{csp.StrictDynamic})")
	}
	if len(o.SandboxAllow) > 0 && !o.Sandbox {
		return nil, errors.New("csp: SandboxAllow needs Sandbox: true")
	}
	if o.Sandbox {
		appendDirective(&cur, "sandbox")
		for _, t := range o.SandboxAllow {
			if !sandboxTokens[strings.ToLower(t)] {
				return nil, fmt.Errorf("csp: sandbox: unknown token %q (valid tokens start with allow-, e.g. allow-scripts, allow-forms)", t)
			}
			cur.WriteByte(' ')
			cur.WriteString(strings.ToLower(t))
		}
	}
	if o.UpgradeInsecureRequests {
		appendDirective(&cur, "upgrade-insecure-requests")
	}
	if o.WebRTC != "" {
		v := strings.ToLower(o.WebRTC)
		if v != WebRTCAllow && v != WebRTCBlock {
			hint := ""
			if v == "allow" || v == "block" {
				hint = fmt.Sprintf(" (quoted: '%s')", v)
			}
			return nil, fmt.Errorf("csp: webrtc %q: the value is %s or %s%s", o.WebRTC, WebRTCBlock, WebRTCAllow, hint)
		}
		appendDirective(&cur, "webrtc "+v)
	}
	if o.TrustedTypes != nil {
		if err := validateTrustedTypes(o.TrustedTypes); err != nil {
			return nil, err
		}
		appendDirective(&cur, "trusted-types")
		for _, t := range o.TrustedTypes {
			cur.WriteByte(' ')
			cur.WriteString(t)
		}
	}
	if o.RequireTrustedTypesFor != nil {
		if len(o.RequireTrustedTypesFor) != 1 || !strings.EqualFold(o.RequireTrustedTypesFor[0], Script) {
			return nil, fmt.Errorf("csp: require-trusted-types-for takes exactly one value, %s (quoted)", Script)
		}
		appendDirective(&cur, "require-trusted-types-for "+Script)
	}
	if o.ReportURI != nil {
		if len(o.ReportURI) == 0 {
			return nil, errors.New("csp: report-uri is empty; leave ReportURI nil or list at least one URL")
		}
		appendDirective(&cur, "report-uri")
		for _, u := range o.ReportURI {
			if err := validateReportURI(u); err != nil {
				return nil, err
			}
			cur.WriteByte(' ')
			cur.WriteString(u)
		}
	}
	if o.ReportTo != "" {
		if !IsToken(o.ReportTo) {
			return nil, fmt.Errorf("csp: report-to %q is not a valid endpoint group name (letters, digits and -._~ etc., no spaces)", o.ReportTo)
		}
		p.reportTo = o.ReportTo
		appendDirective(&cur, "report-to "+o.ReportTo)
	}
	segs = append(segs, cur.String())
	if len(segs) == 1 && segs[0] == "" {
		return nil, errors.New("csp: empty policy; set at least one directive (for an API: DefaultSrc 'none' and FrameAncestors 'none')")
	}
	p.parts = segs
	p.display = p.Render(placeholder)
	return p, nil
}

func appendDirective(b *strings.Builder, d string) {
	if b.Len() > 0 {
		b.WriteString("; ")
	}
	b.WriteString(d)
}

func validateList(d directive, list []string) ([]Source, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("csp: %s has an empty source list; write 'none' (csp.None) to block everything, or leave the field nil to omit the directive", d.name)
	}
	srcs := make([]Source, 0, len(list))
	for _, raw := range list {
		s, err := ParseSource(raw)
		if err != nil {
			return nil, fmt.Errorf("csp: %s: %v", d.name, err)
		}
		switch s.Kind {
		case KindNonce:
			return nil, fmt.Errorf("csp: %s: %s is a fixed nonce, the same on every response, which protects nothing; set Options.Nonce for a fresh nonce per response", d.name, s.Value)
		case KindNone:
			if len(list) > 1 {
				return nil, fmt.Errorf("csp: %s: 'none' cannot be combined with other sources (browsers ignore it then); use either 'none' alone or the sources", d.name)
			}
		case KindKeyword:
			if !allowedKeyword(d.fam, s.Value) {
				return nil, fmt.Errorf("csp: %s: %s has no effect in %s; remove it", d.name, s.Value, d.name)
			}
		case KindHash:
			if d.fam == famFetch || d.fam == famDocument {
				return nil, fmt.Errorf("csp: %s: hashes apply only to scripts and styles; remove %s", d.name, s.Value)
			}
		}
		if isJavaScript(s) {
			return nil, fmt.Errorf("csp: %s: %s: javascript: URLs are inline script, which no source should allow (browsers govern them by 'unsafe-inline'); remove it", d.name, s.Value)
		}
		if err := checkDocument(d, s); err != nil {
			return nil, err
		}
		if !slices.Contains(srcs, s) {
			srcs = append(srcs, s)
		}
	}
	return srcs, nil
}

func validateTrustedTypes(list []string) error {
	if len(list) == 0 {
		return errors.New("csp: trusted-types is empty; write 'none' to allow no policy, or leave TrustedTypes nil")
	}
	for _, t := range list {
		switch {
		case t == None:
			if len(list) > 1 {
				return errors.New("csp: trusted-types: 'none' cannot be combined with policy names")
			}
		case t == "'allow-duplicates'" || t == "*":
		case strings.HasPrefix(t, "'"):
			return fmt.Errorf("csp: trusted-types: unknown keyword %s (valid: 'none', 'allow-duplicates')", t)
		default:
			if t == "" {
				return errors.New("csp: trusted-types: empty policy name")
			}
			for i := 0; i < len(t); i++ {
				c := t[i]
				if !isAlnum(c) && strings.IndexByte("-#=_/@.%", c) < 0 {
					return fmt.Errorf("csp: trusted-types: policy name %q has invalid character %q", t, rune(c))
				}
			}
		}
	}
	return nil
}

func validateReportURI(u string) error {
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return fmt.Errorf("csp: report-uri %q contains %q", u, rune(c))
		}
	}
	pu, err := url.Parse(u)
	if err != nil || u == "" {
		return fmt.Errorf("csp: report-uri %q is not a URL", u)
	}
	if pu.Scheme == "" && pu.Host == "" && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		return nil
	}
	if (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return fmt.Errorf("csp: report-uri %q must be an absolute http(s) URL or a path starting with /", u)
	}
	return nil
}

// IsToken reports whether s is an RFC 9110 token (used for report-to
// group names and Reporting-Endpoints keys).
func IsToken(s string) bool {
	return len(s) <= 128 && httpsyntax.IsToken(s)
}

func cloneOptions(o Options) Options {
	c := o
	for _, d := range directives {
		f := d.field(&c)
		*f = slices.Clone(*f)
	}
	c.SandboxAllow = slices.Clone(o.SandboxAllow)
	c.ReportURI = slices.Clone(o.ReportURI)
	c.TrustedTypes = slices.Clone(o.TrustedTypes)
	c.RequireTrustedTypesFor = slices.Clone(o.RequireTrustedTypesFor)
	return c
}

// String returns the header value; a per-request nonce shows as
// 'nonce-{per-request}'. Use it for display (the demo's
// /config/security); responses carry Render's output.
func (p *CSP) String() string { return p.display }

// Render returns the header value with nonce in every nonce position.
// Without Nonce it returns the fixed value. The nonce is not validated:
// pass the output of a crypto/rand source (the Handler does).
func (p *CSP) Render(nonce string) string {
	if len(p.parts) == 1 {
		return p.parts[0]
	}
	return string(p.appendRendered(nil, nonce))
}

func (p *CSP) appendRendered(dst []byte, nonce string) []byte {
	for i, s := range p.parts {
		if i > 0 {
			dst = append(dst, nonce...)
		}
		dst = append(dst, s...)
	}
	return dst
}

// renderedLen is the header length for a nonce of n bytes.
func (p *CSP) renderedLen(n int) int {
	l := (len(p.parts) - 1) * n
	for _, s := range p.parts {
		l += len(s)
	}
	return l
}

// UsesNonce reports whether responses get a per-request nonce.
func (p *CSP) UsesNonce() bool { return len(p.parts) > 1 }

// FrameAncestors returns the frame-ancestors sources (canonical), or nil
// when the directive is absent.
func (p *CSP) FrameAncestors() []string { return slices.Clone(p.frameAncestors) }

// ReportTo returns the report-to group name, or "".
func (p *CSP) ReportTo() string { return p.reportTo }

// Options returns a copy of the options the policy was built from.
func (p *CSP) Options() Options { return cloneOptions(p.opts) }
