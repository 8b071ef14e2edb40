// Package cors implements Cross-Origin Resource Sharing as the Fetch
// standard defines it (https://fetch.spec.whatwg.org/#http-cors-protocol):
// which web sites, other than the API's own, may read its responses from
// a user's browser.
//
// It is step 3 of Bulwark's request path and wraps the whole router, so a
// preflight from an allowed origin is answered for any path, before routing
// and before authentication (preflights never carry credentials):
//
//	c, err := cors.New(cors.Options{
//		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.org"},
//		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "DELETE"},
//		AllowedHeaders:   []string{"Authorization", "Content-Type"},
//		ExposedHeaders:   []string{"X-Request-ID"},
//		AllowCredentials: true,
//	})
//	if err != nil { ... }
//	handler = c.Handler(mux)
//
// # What a request gets
//
// A request without an Origin header is not a CORS request: it passes
// through with only "Vary: Origin" added. An actual request (anything but a
// preflight) from an allowed origin, with an allowed method, gets
// Access-Control-Allow-Origin (its origin), Access-Control-Allow-Credentials
// and Access-Control-Expose-Headers when configured. Every actual response
// carries "Vary: Origin", also when the origin is absent or refused, so
// that a cache never serves one origin's answer to another.
//
// When every origin is allowed ("*", never with credentials) nothing
// depends on the Origin header, so nothing varies: every request with an
// allowed method — with one Origin, several, none at all — gets
// "Access-Control-Allow-Origin: *" (and Access-Control-Expose-Headers)
// and no Vary, and a cache may serve that one response to everyone.
//
// A preflight — OPTIONS with Origin and Access-Control-Request-Method — is
// answered here and never passed on; OPTIONS without
// Access-Control-Request-Method is an ordinary request and goes to the next
// handler. An allowed preflight gets PreflightStatus (204) with
// Access-Control-Allow-Origin, -Credentials, -Methods (the allowed list),
// -Headers (when headers were requested), -Max-Age and, for an opted-in
// Private Network Access preflight, Access-Control-Allow-Private-Network.
// Every preflight response carries "Vary: Origin,
// Access-Control-Request-Method, Access-Control-Request-Headers".
//
// # What a refused request gets
//
// A disallowed origin gets no CORS headers at all. A refused actual request
// still reaches the handler (the browser, not the server, withholds the
// response from the page; CSRF protection, not CORS, stops side effects of
// simple requests). A refused preflight — origin, method or a requested
// header not allowed, or a malformed request — is answered with a 403
// application/problem+json response (problem.TypeForbidden, reason codes
// Reason*), without CORS headers, through the ErrorHandler hook, with one
// audit event. The browser fails the preflight either way, so the choice
// is about everyone else: a 403 tells the developer in the network panel
// and a curl user which check failed (but never what the policy allows),
// shows up in error-rate monitoring, is never stored in a preflight cache,
// and denies the way every other Bulwark guard does; a 204 without headers
// would report success for a refusal. The unsafe request a refused
// preflight was asking about is never sent by the browser.
//
// # Origins
//
// The Origin header is matched byte for byte against the allowed origins
// in their canonical form (lower-case scheme and host, no default port,
// IPv6 addresses canonical), which is how browsers serialize it; anything
// else ("HTTPS://EXAMPLE.COM", "https://example.com:443") comes from a
// non-browser client and is not allowed. New canonicalises the entries; a
// trailing dot is kept ("https://example.com." is another origin), and an
// entry with a path (even "/"), query, fragment, user information or a
// non-ASCII host is refused. A wildcard pattern
// "https://*.example.com" matches only proper subdomains of example.com,
// one or more valid DNS labels followed by ".example.com" with the same
// scheme and port: not example.com itself, not "https://example.com.evil.net",
// "https://evilexample.com" or "https://evil.com/.example.com". A wildcard
// over a public suffix — a top-level name ("https://*.com"), any name of
// the Public Suffix List, ICANN or private section ("https://*.co.uk",
// "https://*.github.io"), or a single label the list does not know
// ("https://*.corp", public by its default rule) — matches sites run by
// anyone and is refused with ErrInsecure, with or without credentials:
// write "*" when every origin is meant ("*.localhost" is allowed: its
// names are loopback; the list is the one compiled into golang.org/x/net).
// "Origin: null" is refused unless AllowNullOrigin is set, and cannot be
// listed.
//
// AllowOriginFunc is asked about origins no entry matches. With
// AllowCredentials it needs AllowOriginFuncDomains, and that is the
// guarantee: an origin the predicate approves is accepted only if its host
// is one of those domains or a proper subdomain of one (one trailing dot
// ignored), and, unless the host is loopback, not over plain http:// or
// ws:// — so a predicate such as strings.HasSuffix(origin, "example.com")
// cannot let "https://evilexample.com" read credentialed responses. With
// credentials, and only then, New also asks the predicate about made-up
// origins (random names, sites under public suffixes, look-alikes of the
// domains and listed origins) and refuses one that allows any of them; a
// panicking predicate counts as allowing. That catches common mistakes but
// proves nothing, so keep the predicate exact. Without credentials the
// predicate decides alone (within AllowOriginFuncDomains when set).
//
// New refuses configurations that let arbitrary origins read credentialed
// responses with an error wrapping ErrInsecure: together with
// AllowCredentials, "*" (origins, methods, headers or exposed headers),
// AllowNullOrigin, an http:// or ws:// origin or pattern whose host is not
// loopback (a network attacker can inject script into a page served
// without TLS; localhost, *.localhost, 127.0.0.0/8 and [::1] stay allowed
// for local development; schemes not fetched over the network, such as
// chrome-extension://, stay allowed too), and an
// AllowOriginFunc without AllowOriginFuncDomains. Malformed options get an
// error wrapping ErrInvalid.
//
// Per-route policies are set with Options.Routes, keyed by path prefix.
//
// # Cost
//
// Every header value is built once by New and assigned into the response
// header map as is, so an allowed actual request or preflight costs no
// allocation. Access-Control-Request-Headers is parsed case-insensitively
// with work bounded by the size of the allowed set: a list with more names
// than are allowed, an over-long name or more than 16 empty elements (a
// header of 1,024 commas) is refused at once.
package cors
