// Package headers sends security response headers: HSTS, a
// Content-Security-Policy (built with package csp, with per-request
// nonces and a report-only policy beside it), X-Frame-Options,
// Referrer-Policy, Permissions-Policy, the cross-origin isolation headers
// (COOP, CORP, COEP), Cache-Control, X-Content-Type-Options and
// X-XSS-Protection: 0, and removes headers that advertise the server
// stack.
//
// It is step 2 of Bulwark's request path, right after client identity, so
// that every response carries the headers, including the problem
// responses later guards write:
//
//	p, err := headers.New(headers.API()) // or HTML(), Strict(), adjusted
//	if err != nil { … }
//	handler = p.Handler(handler)
//
// # Profiles
//
// API() is for JSON (and equals the zero Options), HTML() for pages
// rendered by the server, Strict() the strictest preset; each returns
// Options to adjust before New. They send:
//
//	API() — the zero Options
//	  Strict-Transport-Security          max-age=31536000 (HTTPS only)
//	  Content-Security-Policy            default-src 'none'; frame-ancestors 'none'
//	  X-Content-Type-Options             nosniff
//	  X-Frame-Options                    DENY
//	  Referrer-Policy                    no-referrer
//	  Permissions-Policy                 DenyAll(): 27 powerful features, each =()
//	  Cross-Origin-Opener-Policy         same-origin
//	  Cross-Origin-Resource-Policy       same-origin
//	  Cache-Control                      no-store
//	  X-XSS-Protection                   0
//	  removed                            DefaultRemoveHeaders
//	HTML() — API() with
//	  Content-Security-Policy            default-src 'self'; script-src 'nonce-…'
//	                                     'strict-dynamic'; style-src 'nonce-…' 'self';
//	                                     img-src 'self' data:; object-src 'none';
//	                                     base-uri 'none'; form-action 'self';
//	                                     frame-ancestors 'none'
//	  Referrer-Policy                    strict-origin-when-cross-origin
//	Strict() — API() with
//	  Strict-Transport-Security          max-age=63072000; includeSubDomains
//	                                     (HTTPS only)
//	  Content-Security-Policy            default-src 'none'; base-uri 'none';
//	                                     form-action 'none'; frame-ancestors 'none';
//	                                     sandbox; require-trusted-types-for 'script'
//	  Cross-Origin-Embedder-Policy       require-corp
//	  X-Permitted-Cross-Domain-Policies  none
//
// A Profile replaces every header it manages: one it does not send (an
// option set to Off, no report-only policy) is deleted if an earlier
// middleware or an outer Profile set it, so an HTML() profile wrapped
// around the /app routes inside a Strict() profile around everything
// yields exactly the HTML profile on /app, never a mix. Handlers run after
// it and may set any header. Describe reports what a Profile sends and
// what it deletes.
//
// A route that answers with both JSON (its problems, its redirects) and
// HTML pages should not wrap the HTML profile around the whole route: its
// problems would carry the page's CSP. Keep the API profile around it and
// switch in the code that renders a page, before the header is written:
//
//	r = html.Apply(w, r)            // the HTML profile, and a nonce
//	nonce := csp.Nonce(r.Context()) // for <style nonce> and <script nonce>
//
// Apply replaces every managed header, so a later api.Apply(w, r) (a
// rendering failure answered with a problem) switches back cleanly. The
// demo's /app, /session/* and /app/* routes work this way.
//
// # HSTS and proxies
//
// Strict-Transport-Security is sent only on requests that arrived over
// HTTPS: the connection is TLS, or the client-identity guard (package
// clientip) marked the request secure because a trusted proxy said so. The
// package never reads X-Forwarded-Proto itself: any client can send it,
// and an HSTS header on plain HTTP is ignored by browsers anyway. On plain
// HTTP a Strict-Transport-Security header that an earlier middleware set
// is deleted, like every managed header a Profile does not send.
//
// # Why X-XSS-Protection is 0
//
// "X-XSS-Protection: 1; mode=block", which older guides (and the seeds)
// recommend, switched on the XSS auditor of legacy browsers. The auditor
// was a source of vulnerabilities: attackers could make it disable
// legitimate scripts on a page, and its block mode leaked information
// across sites. Chrome and Edge removed it, Firefox never shipped one,
// Safari dropped it; where it survives it does harm. "0" turns it off, as
// OWASP recommends; CSP is the XSS defence that works.
//
// # Removing headers
//
// RemoveHeaders (default Server, X-Powered-By, X-AspNet-Version,
// X-AspNetMvc-Version, X-Runtime, X-Generator) are deleted before the
// handler runs. A header the handler sets afterwards is deleted only with
// Options.RemoveOnWrite, which wraps the ResponseWriter (one allocation
// per request, http.ResponseController keeps working); a reverse proxy
// strips upstream headers with StripHeaders in ModifyResponse. Go's
// net/http sets none of these headers itself.
//
// # Cost
//
// Every value is rendered once by New as a []string assigned straight
// into the header map: a policy without a nonce allocates nothing per
// request. A nonce costs 16 bytes from crypto/rand and one allocation for
// the rendered header values, the nonce riding in the identity guard's
// request state; without that guard in front, a context and a request
// copy as well.
package headers
