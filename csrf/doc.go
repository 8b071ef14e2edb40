// Package csrf refuses cross-site request forgery: step 7 of the request
// path, for unsafe requests on cookie-authenticated routes.
//
// Two layers, both required on a protected route:
//
//  1. The origin check. Fetch Metadata first: "Sec-Fetch-Site:
//     same-origin" (or "none", a URL the user opened) passes; "cross-site"
//     and "same-site" fail unless the Origin is one of TrustedOrigins.
//     Without Fetch Metadata, the Origin header — or, without one, the
//     Referer's origin — must be the request's own origin or a trusted one.
//     The request's own origin is the scheme the connection used (TLS, or a
//     trusted proxy's word as package clientip recorded it; never
//     r.URL.Scheme, which is empty on server requests — the bug behind
//     gorilla/csrf CVE-2025-24358 and nosurf CVE-2025-46721) with the Host
//     the client addressed. Trusted origins are whole origins, scheme and
//     port included (gorilla/csrf CVE-2025-47909 compared hosts), or
//     "https://*.example.com" patterns as package cors writes them. An
//     Origin that is not a serialized origin — user information as in
//     "http://evil@host" (Go issue #78563), a path, two values — is refused,
//     and so is a Sec-Fetch-Site sent twice (reason
//     csrf_fetch_metadata_malformed): a browser sends each header once.
//     Requests with neither Origin nor Referer nor Fetch Metadata pass this
//     layer: every current browser sends Origin on unsafe requests, so they
//     come from other clients, and the token layer still applies.
//  2. Synchronizer tokens: HMAC-SHA-256 over a version, the issue time and
//     a tag of the session's binding value (Options.Binding), valid for
//     Options.Timeout (12 h) and not single-use. Without a session a token
//     is bound to a pre-session: a random 256-bit ID in the guard's own
//     HttpOnly, SameSite=Lax cookie ("__Host-csrf" over HTTPS), so that a
//     login form is protected as well. Each response gets the token under a
//     fresh one-time-pad mask (BREACH). Keys rotate: newest signs, all
//     verify. A token is read from the X-CSRF-Token header, else the
//     X-XSRF-Token header (with Options.XSRFCookie; it must equal the
//     readable XSRF-TOKEN cookie and be a valid token bound to the session:
//     equality alone proves nothing a sibling subdomain that can set
//     cookies could not forge), else the csrf_token field of a urlencoded
//     or multipart form (the media type compared case-insensitively, as
//     net/http's ParseForm does). Handlers hand tokens out with Token, TemplateField
//     or TemplateFuncs; Options.IssuePaths hands them out on pages without
//     a template. At logout, Clear removes the pre-session and XSRF-TOKEN
//     cookies (the token they carry is bound to the ended session); the
//     next page hands out fresh ones.
//
// What passes unchecked: safe methods (GET, HEAD, OPTIONS — they must not
// change state); requests to an Exempt path (matched exactly, never as a
// prefix or pattern: Go's CVE-2025-47910 was a bypass pattern matching too
// much); and requests that carry no cookie at all. The last are not
// CSRF-prone: a forged request rides on the victim's cookies, and one
// authenticated by an Authorization header or an API key carries none a
// browser would add. The exception is a route that creates a session
// (Options.SessionRoutes, a login): a forged cross-site login POST carries
// no cookie either (the pre-session cookie is Lax), and logging the victim
// into the attacker's account is the attack (login CSRF), so those routes
// run both layers always.
//
// Every refusal is a 403 problem of type csrf with a stable reason code
// (in the audit event and the problem's "reason" member; see the Reason
// constants), and one audit event; nothing is changed. The one exception
// is a form too large to find its token within Options.MaxFormBytes, which
// is a 413.
//
// # Trade-offs
//
// Why both layers: the origin check stops cross-site forgery in one header
// comparison, but not a same-site sibling that the browser reports as
// same-origin through a permissive proxy, nor browsers without Fetch
// Metadata that drop Origin; the token stops those, and a token leaked to
// a page on another origin is still stopped by the origin check. A refused
// origin check is final: a valid token does not rescue it.
//
// Why not http.CrossOriginProtection: its semantics differ where it
// matters here. Without Fetch Metadata it compares only the Origin's host
// with r.Host, ignoring the scheme (an http:// page passes on an https://
// site) and accepting an Origin with user information (#78563); it does
// not look at Referer; its trusted origins are exact strings, without
// patterns; its bypasses are ServeMux patterns, not exact paths; and its
// refusals carry no reason. This package implements the same Fetch
// Metadata rule itself and shares origin syntax with package cors.
//
// Form bodies: the token field is read from at most MaxFormBytes of the
// body (a multipart body only up to the field), and the body handed on
// replays what was read, so the handler reads and parses the whole body as
// usual. Put the csrf_token field first in multipart forms, or send the
// header. Form reads respect a body limit set earlier (package bodylimit).
//
// Not bound to client IPs (they change under mobile clients and proxies),
// and not single-use (it would break the back button and parallel tabs).
//
// The OriginOnly mode runs layer 1 alone, for JSON APIs whose only
// cookie is an authentication token and which have no forms.
package csrf
