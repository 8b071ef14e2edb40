// Package refresh is the token lifecycle on top of package jwt: Login
// issues an access + refresh token pair, Refresh rotates it, Logout
// revokes it, and sliding expiry renews access tokens close to their
// expiry. A Refresher uses a jwt.Issuer to sign and a jwt.Verifier, with a
// Store, to verify and to keep its state:
//
//	v, _ := jwt.NewVerifier(jwt.VerifierOptions{Keys: keys, Issuers: []string{iss}, Audience: []string{"api"}, Type: jwt.TypeAccess, Store: tokens})
//	issuer, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: iss, Audience: []string{"api"}})
//	r, _ := refresh.New(refresh.Options{Issuer: issuer, Verifier: v})
//	guard, _ := authn.New(authn.Options{Authenticator: v, Audit: sink})
//	mux.Handle("POST /api/refresh", r.RefreshHandler(refresh.HandlerOptions{Audit: sink, Realm: guard.Realm()}))
//	mux.Handle("POST /api/logout", guard.Require(r.LogoutHandler(refresh.HandlerOptions{Audit: sink, Realm: guard.Realm()})))
//	// POST /api/login: check the password, then
//	// pair, err := r.Login(ctx, jwt.Claims{Subject: user, Roles: roles}); refresh.WriteTokenPair(w, pair)
//
// # Rotation and reuse detection
//
// A session — a refresh-token family, named by the sid every token of it
// carries — starts at Login and lasts at most SessionLifetime (30 days);
// no refresh extends it. Each refresh token lives RefreshTTL (14 days)
// and works once: Refresh consumes it in the store atomically
// (store.KV.Consume: of concurrent uses, exactly one is the first) and
// hands out a new pair. A refresh token presented again was copied — by an attacker,
// or by the client it was stolen from — so the whole family is revoked:
// its live refresh token and every access token carrying its sid stop
// working at once, on every replica sharing the store (reason
// refresh_reused, Err ErrReused).
//
// # Retries
//
// A rotation can fail after the store has taken the old token: the answer
// of the command that took it was lost (a timeout, a failover that paused
// writes), or the successor could not be stored. The client saw a 503 and
// retries with the same refresh token; that retry must not be taken for a
// reuse. So the old token is not deleted but consumed (store.KV.Consume):
// its record moves aside for RetryGrace (10 s by default), and until the
// rotation has been answered with a new pair, a presentation within the
// grace gets one — whose refresh token is the successor, derived from the
// old token's jti, so that every retry of one rotation gets the same
// successor and the family never forks. Once a rotation is answered, the
// old token is spent: presenting it again, however soon, is a reuse. When
// the successor could not be stored, the old token is also put back
// (SetNX), so a retry after the grace works too.
//
// Two presentations that start within the store's command timeout of
// each other (250 ms for redisstore; DefaultConcurrentWindow for stores
// that do not say) cannot be a request and its retry — the first would
// still be waiting for its answer — so the second is a reuse: twenty
// concurrent refreshes with one token still give one pair and revoke the
// family.
//
// The trade-off, as with the large identity providers' "reuse interval"
// or "grace period", is narrower here: only while a rotation is
// unanswered, for at most RetryGrace, someone holding a stolen copy of the
// refresh token could get the successor too — after a store fault, or
// when the copy starts more than the concurrent window after the first
// take and before its answer is recorded (a slow store); the family is
// then revoked at the next rotation either of them makes after the other
// (the successor is used twice). Two holes remain, both needing a store
// fault at the wrong moment: a rotation that fails fast (the successor's
// write refused at once) and is retried within the concurrent window is
// taken for a reuse; and a retry racing the successor's own rotation may
// revive it. Set RetryGrace negative for strict single use, at the price
// of logging users out after a lost answer.
//
// # Refresh tokens are no access tokens
//
// A refresh token is signed with the published key and lives for days, so
// it must never pass as an access token anywhere. It carries typ
// refresh+jwt, token_use "refresh" and an audience of its own
// (RefreshAudience, by default the Issuer's iss + "#refresh"), and no
// roles or scopes: a jwt.Verifier refuses it even without Type or
// Audience configured, and so does another service that verifies the
// published keys with an audience check but no typ check (RFC 8725
// §3.11-3.12). Refresh, in turn, never accepts an access token
// (token_wrong_type).
//
// # Revocation
//
// Logout revokes the access token (its jti, until its exp) and the
// session (every token carrying its sid), and the family of the refresh
// token it is given; reuse revokes the family. jwt.Verifier's Revoke and
// RevokeSession write the same denylist for other reasons (a user
// disabled, a password changed).
//
// The denylist lives in the Verifier's Store (memstore, or redisstore for
// many replicas), and every verification asks it about the token's jti
// and sid, including those answered from the verified-token cache.
// Revocation is therefore effective on every replica at the next request,
// at the price of one store round trip per request: with Redis, both keys
// in one pipeline (store.AnyExister: two EXISTS, typically 0.1-0.5 ms in
// all); with memstore, two in-process map lookups (the jti, then, unless
// it hit, the sid); none for a token carrying neither. An entry lives
// until the last token it covers has expired (plus the leeway), so the
// list never outgrows the tokens still alive. When the store cannot
// answer, verification fails closed with 503 (revocation_unavailable)
// unless RevocationFailOpen is set: an outage must not revive revoked
// tokens.
//
// Give the Verifier a store of its own, or a Redis whose maxmemory-policy
// never evicts these keys (noeviction, or a volatile-* policy with
// headroom): memstore evicts the least recently used keys when full, and
// a denylist entry pushed out by, say, rate-limit keys would bring a
// revoked token back to life. The keys, under the Verifier's KeyPrefix
// ("jwt:"): revoked:jti:<jti> and revoked:sid:<sid> (the denylist),
// rt:{<sid>}:<jti> for a family's live refresh token and
// rt:{<sid>}:used:<jti> for one rotated less than RetryGrace ago (the
// braces keep a family in one Redis Cluster slot). Options.Store moves the
// families to a store of their own: do that where anyone who can log in
// may start sessions, so that a flood of logins can fill the families'
// store (logins then answer 503) but never the denylist's (logout keeps
// revoking).
//
// # Lost state
//
// A Redis restarted without persistence (or failed over to an empty
// replica) has forgotten every revocation and family. redisstore notices
// (store.StateTracker); every token and refresh token issued before the
// new state began is then refused with reason token_state_reset ("session
// state was reset; log in again") until it expires — never reported as a
// reuse, and never accepted as if nothing had been revoked. Run Redis with
// appendonly yes (appendfsync everysec loses at most a second of writes)
// to avoid it; an RDB snapshot alone loses the writes since the last
// snapshot without the loss being detectable.
//
// # Handlers
//
// RefreshHandler and LogoutHandler decode their JSON bodies as package
// bind does (415, 400 with the position, unknown fields and trailing data
// refused, 413 over 16 KiB, 422 for a missing refresh_token); logout's
// body is optional. Their 401 answers carry the RFC 6750 challenge
// (Bearer realm=..., error="invalid_token", error_description=...), with
// the realm of the guard in front (HandlerOptions.Realm). Every denial is
// audited once.
//
// # Sliding expiry
//
// Sliding, placed after authn's Require or Optional, answers a request
// whose access token has at most Window left (a third of the Issuer's TTL)
// with a fresh token in a response header (X-Refreshed-Token; browsers
// read it only when CORS exposes it), so that active clients need no
// refresh round trip. The fresh token repeats the old one's subject,
// roles, scopes, audience, session and custom claims, with a new jti and
// exp; revoking the session revokes it too. Sliding never extends a login
// past MaxLifetime (12 hours) from auth_time (or iat), and renews only the
// tokens its Issuer signed: they must carry its iss and have been verified
// by its key (jwt.KeyOf) — a verifier that also trusts another key source
// accepts tokens other issuers signed, and those are never re-signed with
// ours. Tokens signed by a key the Issuer no longer uses are not renewed
// either; their clients refresh as usual. Each renewal costs a signature.
//
// # Options and defaults
//
//	Options: Issuer, Verifier (with a Store) required; RefreshTTL 14d;
//	         SessionLifetime 30d; RefreshAudience <iss>#refresh
//	         (urn:bulwark:refresh without iss); Now: the Verifier's
//	HandlerOptions: Audit none; ErrorHandler problem.Write; Realm "api"
//	SlidingOptions: Issuer (with iss) required; Window TTL/3;
//	                Header X-Refreshed-Token; MaxLifetime 12h
//
// Errors are *problem.Problem values: 401 type invalid-token (for a
// refresh token refused by its verification, the reasons of package jwt's
// table, token_wrong_type for an access token; then token_revoked or
// token_expired for the session, refresh_reused, and token_invalid for a
// token whose session record does not match it), 503 store_unavailable,
// and from the handlers the 400, 413, 415 and 422 of package bind.
package refresh
