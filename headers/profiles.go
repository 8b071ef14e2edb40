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

// API returns the profile for JSON APIs, for every response, errors
// included. It equals the zero Options. The package documentation lists
// what each profile sends.
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

// HTML returns the profile for HTML pages rendered by the server: API's
// headers with a strict, nonce-based CSP (templates put
// csp.Nonce(r.Context()) in every <script nonce> and <style nonce>), and
// Referrer-Policy strict-origin-when-cross-origin so that the page's own
// form posts keep a real Origin for CSRF checks. Cache-Control stays
// no-store: a cached page would replay its nonce.
func HTML() Options {
	o := API()
	o.CSP = htmlCSP
	o.ReferrerPolicy = "strict-origin-when-cross-origin"
	return o
}

// Strict returns the strictest preset, for APIs that want defence in
// depth beyond API: HSTS for two years with includeSubDomains, a CSP that
// also sandboxes a response rendered as a document and forbids <base>,
// form posts and Trusted Types sinks, Cross-Origin-Embedder-Policy and
// X-Permitted-Cross-Domain-Policies. HSTS preload stays off: it asks
// browsers to hard-code the whole registrable domain, a decision for the
// domain's owner that takes months to undo, not a property of one
// service's responses.
func Strict() Options {
	o := API()
	o.HSTS = HSTS{MaxAge: 2 * Year, IncludeSubDomains: true}
	o.CSP = strictCSP
	o.COEP = "require-corp"
	o.XPermittedCrossDomainPolicies = "none"
	return o
}
