// Package session keeps browser sessions: server-side state in any
// store.KV (memstore in one process, redisstore shared by replicas) behind
// a cookie that carries only a random ID, or, optionally, the whole
// session sealed in the cookie. It is step 6 of the request path: the
// Manager is an authn.Authenticator, so a logged-in session yields the
// same authn.Principal a token does (Method "session", Source
// authn.SourceCookie) and authorization works the same for both.
//
// The shape is every guard's: Options → New → Handler.
//
//	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
//	mux.HandleFunc("POST /session/login", func(w http.ResponseWriter, r *http.Request) {
//		s, _ := session.FromContext(r.Context())
//		// …check the password…
//		s.Login(session.Identity{Subject: "alice", Roles: []string{"admin"}})
//		http.Redirect(w, r, "/app", http.StatusSeeOther) // the cookie goes with it
//	})
//	handler := m.Handler(mux)
//
// Handler loads the session named by the request's cookie (FromContext
// returns it; a request without one gets a new, empty session that is
// stored only once something is written to it) and saves its changes just
// before the response headers go out, so a handler may write its response
// as soon as it is done with the session. Values are typed: Set(s, "n",
// 3), Get[int](s, "n"); a value is decoded only when read.
//
// # Cookies
//
// The cookie is always HttpOnly (page script cannot read it; there is no
// option to turn that off). It is Secure when the request arrived over
// HTTPS — directly, or through a trusted proxy as package clientip
// resolved it, the verdict HSTS follows — or always with
// Options.SecureAlways. Under HTTPS with Path "/" and no Domain (the
// defaults) it is named "__Host-session": browsers refuse such a cookie
// unless it is Secure, host-only and for the whole site, so neither a
// sibling subdomain nor a man in the middle on plain HTTP can plant one
// ("cookie tossing"). SameSite is Lax by default, Strict on request; None
// is refused by New unless SecureAlways is set. A login without
// Identity.Remember gets a browser-session cookie (no Max-Age); with it,
// a persistent cookie that lasts Options.RememberFor.
//
// IDs are 256 bits from crypto/rand. The store never holds one: a
// session is stored under its reference, the first 192 bits of SHA-256
// of the ID (base64url), and the per-user lists hold references too, so
// whoever reads the store — a dump, a copy of its key names, Redis
// MONITOR, the slowlog, keyspace notifications — learns no cookie that
// works. The hash is unkeyed on purpose: the ID is 256 random bits, so
// there is nothing to guess and a key would add nothing (and nothing to
// rotate); 192 bits keep a preimage out of reach. A client-supplied ID that the store
// does not hold is never adopted (Fiber's CVE-2024-38513): the request is
// anonymous and a new ID is made if the session is written. Login, Renew
// and SetPrivileges give the session a new ID and delete the old one
// (session fixation). A cookie that names no live session (malformed,
// forged, ended, timed out) is simply no session for Handler, which
// removes it; the Authenticator answers it with 401 (reasons
// session_invalid, session_unknown, session_expired) and a request with
// no cookie with authn.ErrNoCredentials.
//
// # Timeouts
//
// A session ends after Options.IdleTimeout without a request (default 30
// minutes) and Options.AbsoluteTimeout after login however active
// (default 12 hours); "remember me" sessions use RememberIdleTimeout (7
// days) and RememberFor (30 days). Both are checked on every load against
// the record, and the store expires the record a minute after its end.
// Activity is written at most every tenth of the idle timeout (at most
// every minute), so a session read by many requests is not rewritten by
// each: the idle timeout is accurate to that step.
//
// # Two requests at once
//
// Each write of a stored session is a compare-and-swap (store.Swapper;
// memstore and redisstore both implement it) against the record the
// request loaded. Of two requests that change one session at once, the
// first to save wins and the second gets ErrConflict — from Save, or, from
// Handler, a 409 problem (type TypeConflict, reason session_conflict) in
// place of its response — so no update is lost silently: the client (or
// the handler, with a fresh Manager.Load) retries. Requests that only
// read never conflict; their activity updates give way to any write. A
// write never revives a session that a concurrent request ended (logout,
// renewal). With a store that lacks CompareAndSwap the last writer wins.
// Encrypted cookies have no server copy to compare: the last response's
// cookie wins.
//
// # No grace period for a renewed ID
//
// When Login, Renew or SetPrivileges gives a session a new ID, the old ID
// ends at once: a request already in flight with the old cookie (a
// page's parallel fetches, a second tab) finds no session — Handler
// treats it as anonymous, the Authenticator answers 401
// (session_unknown), and a write it attempts is refused with 409 — and
// the client retries with the new cookie, which the renewing response
// set. Keeping the old ID alive for a few seconds, pointing to the new
// session, would spare those retries, but it would reopen what renewal
// closes: after login the old ID is exactly what a session-fixation
// attacker planted, so for those seconds the attacker would hold a
// logged-in session (OWASP's session management guidance: the old ID
// must not stay usable after a privilege change). The same holds for a
// privilege change, which is a login of its own. So there is no grace,
// by design, for any renewal; renew only when privileges change (not on
// a timer) and in-flight requests lose only that moment.
//
// # Logging out everywhere, and the per-user cap
//
// A logged-in session is also listed under its user in the store (one
// small value per user, updated by compare-and-swap at login, renewal and
// logout). Manager.RevokeUser and Session.LogoutEverywhere end every
// session of a user: one round trip for the list, one per session and
// one or two to shorten the list. The sessions are ended before they
// leave the list, so when the store fails midway the list still names
// every session left and calling RevokeUser again finishes the job.
// Options.MaxSessionsPerUser caps a user's concurrent sessions: a login
// beyond the cap ends the user's oldest sessions (audit reason
// session_evicted); a login near the cap checks that listed sessions are
// still alive first, so sessions that timed out do not count. With a
// memstore that evicts (the default), a user's list can be evicted under
// pressure like any key, and RevokeUser then misses sessions until they
// time out: give sessions a store of their own.
//
// # Server-side or encrypted cookies
//
// Server-side sessions (Options.Store) are the default and the safer
// choice: logout ends the session everywhere at once, RevokeUser and the
// per-user cap work, the cookie is 43 characters, and concurrent writes
// are detected. The cost is a store read per request (from a memstore:
// two allocations and a SHA-256 of the ID, a fraction of a microsecond;
// from Redis: one round trip) and shared state for several replicas. Anonymous sessions are stored only when written (a CSRF token
// for a login form writes one); each lives IdleTimeout.
//
// Encrypted cookies (Options.CookieKeys, AES-256-GCM) need no shared
// state: the session travels in the cookie, sealed with the first key and
// opened with any (rotate by putting a new key first). The AES key is
// derived from the whole configured key with HKDF-SHA256, and the sealed
// value is bound (as GCM additional data) to the cookie's name, Path and
// Domain: a cookie issued by one Manager does not open in another that
// shares its keys but not its cookie (an admin area's session and a
// shop's, say). Replicas configured alike read each other's cookies. But a copied cookie
// stays valid until it times out — Logout only asks the browser to forget
// it — RevokeUser returns ErrNotSupported, the per-user cap is refused,
// concurrent writes are last-writer-wins, and everything stored rides on
// every request, up to MaxCookieSize (Save returns ErrCookieTooLarge
// beyond). Keep it for deployments that cannot share state.
//
// # CSRF
//
// A cookie session makes unsafe requests CSRF-prone: run a CSRF guard
// after authentication. Session.CSRFBinding is the secret a CSRF package
// binds its tokens to: 32 random bytes per session ID, never sent to the
// client and not derived from the ID, renewed with it (a token from
// before login is not valid after). Asking for it stores an anonymous
// session if there is none yet, so a login form's token is bound too.
//
// # Audit reasons
//
// Lifecycle events (decision allow): session_created (a login),
// session_renewed, session_destroyed (logout), session_expired (a request
// came after the timeout), sessions_revoked_all, session_evicted (the
// per-user cap). Flags: session_conflict, session_save_failed (a change
// made after the response started could not be saved). Denials by
// Handler: session_conflict (409), session_unavailable (503),
// session_cookie_too_large (500). The Authenticator's 401 reasons
// session_invalid, session_unknown, session_expired and its 503
// session_unavailable are audited by the authn guard. Events never carry
// a session ID or a cookie.
package session
