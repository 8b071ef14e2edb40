package headers

import "github.com/bulwark-go/bulwark/headers/csp"

// The profiles return Options to adjust before New: a profile is a
// starting point that fits what is served, not a closed set.

// htmlCSP is a strict, nonce-based policy (the "strict CSP" of
// web.dev/strict-csp): scripts run only with the response's nonce, and
// scripts they load ('strict-dynamic'); no plugins, no <base> injection,
// forms post to this origin only, no framing.
var htmlCSP = mustCSP(csp.Options{
	DefaultSrc:     []string{csp.Self},
	ScriptSrc:      []string{csp.StrictDynamic},
	StyleSrc:       []string{csp.Self},
	ImgSrc:         []string{csp.Self, "data:"},
	ObjectSrc:      []string{csp.None},
	BaseURI:        []string{csp.None},
	FormAction:     []string{csp.Self},
	FrameAncestors: []string{csp.None},
	Nonce:          true,
})

// strictCSP blocks everything a response could load or do as a document.
var strictCSP = mustCSP(csp.Options{
	DefaultSrc:             []string{csp.None},
	BaseURI:                []string{csp.None},
	FormAction:             []string{csp.None},
	FrameAncestors:         []string{csp.None},
	Sandbox:                true,
	RequireTrustedTypesFor: []string{csp.Script},
})

// API returns the profile for JSON APIs (every response, errors included):
//
//	Strict-Transport-Security: max-age=31536000        (HTTPS only)
//	X-Content-Type-Options: nosniff
//	Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//	X-Frame-Options: DENY
//	Referrer-Policy: no-referrer
//	Permissions-Policy: accelerometer=(), autoplay=(), … (DenyAll)
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//	Cache-Control: no-store
//	X-XSS-Protection: 0
//
// and removes DefaultRemoveHeaders. It equals the zero Options.
func API() Options {
	return Options{
		HSTS:                HSTS{MaxAge: Year},
		XContentTypeOptions: "nosniff",
		FrameOptions:        "DENY",
		ReferrerPolicy:      "no-referrer",
		PermissionsPolicy:   DenyAll(),
		COOP:                "same-origin",
		CORP:                "same-origin",
		CacheControl:        "no-store",
		CSP:                 apiCSP,
	}
}

// HTML returns the profile for HTML pages: API's headers with a strict,
// nonce-based CSP
//
//	default-src 'self'; script-src 'nonce-…' 'strict-dynamic';
//	style-src 'nonce-…' 'self'; img-src 'self' data:; object-src 'none';
//	base-uri 'none'; form-action 'self'; frame-ancestors 'none'
//
// (templates put csp.Nonce(r.Context()) in every <script nonce> and
// <style nonce>), and Referrer-Policy strict-origin-when-cross-origin so
// that the page's own form posts keep a real Origin for CSRF checks.
// Cache-Control stays no-store: a cached page would replay its nonce.
func HTML() Options {
	o := API()
	o.CSP = htmlCSP
	o.ReferrerPolicy = "strict-origin-when-cross-origin"
	return o
}

// Strict returns the strictest preset, for APIs that want defence in
// depth beyond API: HSTS for two years with includeSubDomains, a CSP that
// also sandboxes the response and forbids <base>, form posts and Trusted
// Types sinks when rendered as a document
//
//	default-src 'none'; base-uri 'none'; form-action 'none';
//	frame-ancestors 'none'; sandbox; require-trusted-types-for 'script'
//
// Cross-Origin-Embedder-Policy: require-corp and
// X-Permitted-Cross-Domain-Policies: none. HSTS preload stays off:
// it asks browsers to hard-code the whole registrable domain, a decision
// for the domain's owner that takes months to undo, not a property of one
// service's responses.
func Strict() Options {
	o := API()
	o.HSTS = HSTS{MaxAge: 2 * Year, IncludeSubDomains: true}
	o.CSP = strictCSP
	o.COEP = "require-corp"
	o.XPermittedCrossDomainPolicies = "none"
	return o
}
