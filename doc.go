// Package bulwark assembles Bulwark's guards into one request path.
//
// Bulwark is a security toolkit for Go HTTP APIs: every guard is a plain
// func(http.Handler) http.Handler built once from an options struct, and
// every denial is an RFC 9457 problem+json response (package problem) with
// exactly one audit event (package audit).
//
// # The request path
//
// A request meets the guards in one fixed order; each may answer instead of
// passing the request on:
//
//  1. client identity (package clientip): the client IP, trusting
//     Forwarded / X-Forwarded-For only from configured trusted proxies, and
//     a request ID echoed in X-Request-ID
//  2. security headers and CSP (package headers, headers/csp), on every
//     response, errors included
//  3. CORS (package cors); preflights are answered here, before routing
//  4. limits known before authentication: the body size cap (package
//     bodylimit), and rate limits keyed by client IP, route or a header
//     (package ratelimit)
//  5. abuse detection (distinct-value velocity such as card testing)
//  6. authentication (package authn and its jwt, apikey, basic, … children)
//     → a Principal in the request context; then rate limits keyed by
//     principal or API key
//  7. CSRF, for cookie-authenticated unsafe methods
//  8. authorization: roles, scopes, permissions, ownership (package authz)
//  9. the handler, or the upstream
//
// Around all of it: panic recovery (package recovery) and an optional access
// log. Policy composes guards in exactly this order, so that an application
// cannot, say, authenticate before rate limiting by IP or run CSRF checks
// before the session is known.
//
// Why this order: identity first, because every later guard keys, logs or
// trusts by it; headers second, so that even a 429 or a CORS failure
// carries them; CORS before anything that may deny, so that browsers can
// read the denial; cheap IP-keyed limits before expensive signature checks,
// so a flood costs little; authentication before the limits and checks that
// need to know who is calling.
package bulwark

import (
	"net/http"
	"reflect"
)

// Guard is anything that wraps a handler. Every Bulwark guard has a Handler
// method of this shape.
type Guard interface {
	Handler(next http.Handler) http.Handler
}

// GuardFunc adapts a plain middleware function to Guard.
type GuardFunc func(next http.Handler) http.Handler

// Handler implements Guard.
func (f GuardFunc) Handler(next http.Handler) http.Handler { return f(next) }

// Chain returns a middleware applying guards in the order given: the first
// guard sees the request first. Nil guards are skipped.
func Chain(guards ...Guard) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		for i := len(guards) - 1; i >= 0; i-- {
			if guards[i] != nil && !isNilGuard(guards[i]) {
				h = guards[i].Handler(h)
			}
		}
		return h
	}
}

// Policy names one guard (or a Chain of several) per step of the request
// path; Handler composes them in the documented order. Leave a step nil to
// skip it.
type Policy struct {
	Identity      Guard // 1. client IP + request ID
	AccessLog     Guard // one structured line per request
	Recovery      Guard // panics become 500 problems (the access log sees the 500)
	Headers       Guard // 2. security headers + CSP
	CORS          Guard // 3. CORS; preflights answered here
	BodyLimit     Guard // 4. request body size cap (413)
	PreAuthLimits Guard // 4. rate limits by IP, route, header
	Abuse         Guard // 5. abuse detection
	Authn         Guard // 6. authentication → Principal
	PostAuthLimit Guard // 6b. rate limits by principal or API key
	CSRF          Guard // 7. CSRF for cookie-authenticated unsafe methods
	Authz         Guard // 8. authorization
}

// Handler wraps h in the policy's guards, in request-path order.
func (p Policy) Handler(h http.Handler) http.Handler {
	// Identity runs before the access log and recovery so that both can
	// read the request ID and client IP; recovery runs inside the access
	// log so that a recovered panic is logged as the 500 it became.
	return Chain(p.Identity, p.AccessLog, p.Recovery, p.Headers, p.CORS, p.BodyLimit, p.PreAuthLimits,
		p.Abuse, p.Authn, p.PostAuthLimit, p.CSRF, p.Authz)(h)
}

// isNilGuard reports whether g is a typed nil (a nil *T or nil func stored
// in the interface), which Chain skips like an untyped nil.
func isNilGuard(g Guard) bool {
	v := reflect.ValueOf(g)
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Interface:
		return v.IsNil()
	}
	return false
}
