package csp

import (
	"fmt"
	"slices"
	"strings"
)

// This file holds the checks of what a policy means, beyond its syntax:
// sources that let an attacker's script run defeat CSP as an XSS defence,
// and New refuses them.

// isJavaScript reports whether s names the javascript: scheme, whose URLs
// are inline script: as a source it allows nothing a policy should (and
// browsers govern javascript: URLs by 'unsafe-inline' anyway).
func isJavaScript(s Source) bool {
	return s.Kind == KindScheme && s.Value == "javascript:" ||
		s.Kind == KindHost && strings.HasPrefix(s.Value, "javascript://")
}

// anySite reports whether s matches (practically) every site: "*", the
// scheme-only sources http: and https:, or a host source whose host is
// "*" ("https://*", "*:443").
func anySite(s Source) bool {
	switch s.Kind {
	case KindWildcard:
		return true
	case KindScheme:
		return s.Value == "http:" || s.Value == "https:"
	case KindHost:
		v := s.Value
		if i := strings.Index(v, "://"); i >= 0 {
			v = v[i+3:]
		}
		return v == "*" || strings.HasPrefix(v, "*:") || strings.HasPrefix(v, "*/")
	}
	return false
}

// scriptScheme reports whether s is a scheme whose URLs the page itself
// (or markup injected into it) can fill with code: data:, blob:,
// filesystem:.
func scriptScheme(s Source) bool {
	return s.Kind == KindScheme && (s.Value == "data:" || s.Value == "blob:" || s.Value == "filesystem:")
}

// checkDocument refuses sources that let any site in where "*" is refused:
// base-uri, form-action and frame-ancestors.
func checkDocument(d directive, s Source) error {
	if d.fam == famDocument && anySite(s) {
		what := map[string]string{
			"base-uri":        "an injected <base href> point every relative URL, scripts included, at any site",
			"form-action":     "forms (injected ones too) post their fields, passwords included, to any site",
			"frame-ancestors": "any site frame the page (clickjacking)",
		}[d.name]
		return fmt.Errorf("csp: %s: %s allows any site, letting %s; list the allowed origins instead ('self', https://app.example.com), or 'none'", d.name, s.Value, what)
	}
	return nil
}

// checkScripts refuses, in the directives that decide which scripts and
// plugins run, the sources that let an attacker's script run: "*", http:,
// https:, "https://*", data:, blob:, filesystem: and 'unsafe-inline'.
//
// Script-governing directives are script-src, script-src-elem,
// script-src-attr and default-src when script-src is absent; object-src,
// and default-src when object-src is absent, govern plugins. In a script
// directive that holds 'strict-dynamic' and a nonce or a hash, CSP Level 3
// browsers ignore host and scheme sources and 'unsafe-inline': they are
// then the backward-compatibility fallbacks of Google's strict CSP
// ("'nonce-…' 'strict-dynamic' https: 'unsafe-inline'") and allowed.
// 'unsafe-inline' is also allowed beside a nonce or hash alone, which make
// CSP Level 2 browsers ignore it. Options.InsecureAllowScriptSources turns
// these refusals off.
func checkScripts(d directive, srcs []Source, o *Options, nonce bool) error {
	if o.InsecureAllowScriptSources {
		return nil
	}
	scripts := d.name == "script-src" || d.name == "script-src-elem" || d.name == "script-src-attr" ||
		d.name == "default-src" && o.ScriptSrc == nil
	objects := d.name == "object-src" || d.name == "default-src" && o.ObjectSrc == nil
	if !scripts && !objects {
		return nil
	}
	hash := slices.ContainsFunc(srcs, func(s Source) bool { return s.Kind == KindHash })
	strict := slices.ContainsFunc(srcs, func(s Source) bool { return s.Value == StrictDynamic }) && (nonce || hash)
	const fix = "if you must ship this policy, set InsecureAllowScriptSources"
	for _, s := range srcs {
		var risk string
		switch {
		case anySite(s):
			risk = "lets any site serve code to your pages (an attacker's own server, or JSONP, an open redirect or an upload on any host)"
		case scriptScheme(s):
			risk = fmt.Sprintf("lets code an attacker writes into a %s URL run", s.Value)
		case s.Value == UnsafeInline:
			risk = "runs every inline script and event handler, injected ones included"
		default:
			continue
		}
		// 'strict-dynamic' with a nonce or hash, or a nonce or hash alone
		// for 'unsafe-inline', makes the browsers that support them ignore
		// the source for scripts; plugins ignore 'unsafe-inline'.
		scriptsBad := scripts && !(strict || s.Value == UnsafeInline && (nonce || hash))
		objectsBad := objects && s.Value != UnsafeInline
		switch {
		case scriptsBad:
			where := d.name
			if d.name == "default-src" {
				where = "default-src (which governs scripts, as ScriptSrc is not set)"
			}
			if s.Value == UnsafeInline {
				return fmt.Errorf("csp: %s: %s %s, which defeats CSP as an XSS defence; set Nonce (with 'strict-dynamic') or add hashes (csp.Hash) — browsers then ignore 'unsafe-inline', which may stay for old ones — or remove it; %s", where, s.Value, risk, fix)
			}
			return fmt.Errorf("csp: %s: %s %s, which defeats CSP as an XSS defence; use a nonce (Options.Nonce) or hashes with 'strict-dynamic', beside which %s may stay as a fallback for old browsers, or list the exact hosts you load scripts from; %s", where, s.Value, risk, s.Value, fix)
		case objectsBad:
			where := d.name
			if d.name == "default-src" {
				where = "default-src (which governs plugins, as ObjectSrc is not set)"
			}
			return fmt.Errorf("csp: %s: %s %s through <object> and <embed>; set ObjectSrc to 'none' (plugins are obsolete), or list the exact origins; %s", where, s.Value, risk, fix)
		}
	}
	return nil
}
