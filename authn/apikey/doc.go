// Package apikey authenticates requests by API key: keys that can be
// operated safely — found by secret scanners when they leak, refused for a
// typo before any lookup, stored only as keyed hashes, rotated, revoked.
//
// The Authenticator is an authn.Authenticator (and authn.Challenger,
// `ApiKey realm="..."`), so it composes with JWT and the rest through
// authn.AnyOf / AllOf and feeds package authz the same authn.Principal:
// Method "apikey", Subject the record's Owner (its ID when it names
// none), Roles and Scopes from the record, TokenID the record's ID, ID
// "apikey:" + Subject (so an owner's keys share a per-principal rate
// limit), Source header, cookie or query; InfoOf returns the key's record
// details.
//
// # Key format
//
//	bwk_live_<id: 14 base62>_<secret: 24 base62><checksum: 6 base62>
//	bwk_live_7Qh2mZk3c9LxYa_Vt4rJ0pWb8nE1sKq6uFz2Hd31hG9Lk
//
// The prefix (default "bwk_live_"; "bwk_test_" or your own, see
// ValidatePrefix) makes a leaked key recognisable to secret scanners
// (register the pattern above with yours); the identifier (83 random bits)
// is how stores find the record, apart from the secret (143 bits from
// crypto/rand); the checksum, a CRC-32 of everything before it in base62
// as GitHub's tokens have, lets the authenticator refuse a mistyped,
// truncated or made-up key (reason apikey_checksum) before any store
// lookup. A checksum is not a MAC: it filters accidents, and the HMAC
// below decides. Keys are 54 bytes with a 9-byte prefix.
//
// # Stored form and the record format
//
// Stores keep a Record per key, never the key: its HMAC-SHA-256 under a
// server secret, written "hmac-sha256:<secret id>:<base64url digest>".
// API keys are high-entropy, so a slow password hash would add nothing
// but latency; the server secret means a stolen record set cannot be
// checked offline against guesses either. The digest is compared in
// constant time. One record, as `bulwark apikey new` prints it and as
// LoadStatic, ReadRecords, package rediskeys and the gateway's config
// read it (JSON; unknown fields are errors):
//
//	{"id":"7Qh2mZk3c9LxYa","hash":"hmac-sha256:1f0e2d3c:…","owner":"ci",
//	 "name":"deploys","scopes":["read","write"],"roles":["deployer"],
//	 "created_at":"2026-03-01T12:00:00Z","expires_at":"2026-06-01T12:00:00Z"}
//
// Optional fields: owner, name, scopes, roles, expires_at, revoked_at
// (a revoked key is refused, reason apikey_revoked), last_used_at (filled
// in by stores for display) and legacy. A file of records is a JSON array
// or JSON Lines (blank lines and # comments allowed).
//
// # Rotation
//
// Of the server secret: Options.Secrets is a list, newest first. The
// newest hashes new keys (the CLI uses one secret: the newest); each
// record names the secret it was hashed under, so verification computes
// one HMAC whatever the list's length. Put a new secret first, reissue the
// keys still hashed under the old one (Entry.SecretID tells which), then
// drop it. Of keys: an owner may hold several active keys; issue the new
// key, deploy it, revoke the old one.
//
// # Legacy keys: the migration path
//
// Keys issued before Bulwark (no prefix, no checksum, any printable
// ASCII) are kept as records marked "legacy": the HMAC of the whole key,
// found by that digest in a LegacyStore (Static), with an ID of the
// operator's choosing as a label. `bulwark apikey migrate --id LABEL
// --scopes …` prints such a record from the key on stdin. They are
// accepted only with Options.Legacy; the demo's fixed keys are of this
// kind. Their strength is whatever they had: move holders to generated
// keys and then turn Legacy off.
//
// # Sources
//
// The X-API-Key header (Options.Header) and `Authorization: ApiKey <key>`
// (Options.Scheme) by default. A request carrying a key in more than one
// source (the header and an ApiKey authorization, or a cookie or query
// parameter when enabled) is refused as ambiguous unless the values are
// identical: a bad key never hides behind a good one. A cookie (Options.Cookie)
// and a query parameter (Options.Query) are off by default and leak-prone:
// URLs end up in access logs, proxies, browser history and Referer
// headers; cookies are sent by browsers on cross-site requests, so unsafe
// methods authenticated by a cookie need a CSRF check (the principal says
// SourceCookie). A value is trimmed of spaces and tabs; another
// Authorization scheme (Bearer) is not a key, so AnyOf moves on.
//
// # Refusals and their audit reasons
//
// Every refusal is a 401 problem of type invalid-credentials (the authn
// guard adds its WWW-Authenticate challenge) with one of these reasons:
//
//	apikey_ambiguous   several X-API-Key headers or ApiKey authorizations, or
//	                   different keys in two sources (header, ApiKey, cookie, query)
//	apikey_empty       an empty X-API-Key header, or "Authorization: ApiKey"
//	                   with nothing after it
//	apikey_too_long    longer than MaxKeyLen (256) bytes: 64 KB values stop here
//	apikey_malformed   a byte outside printable ASCII (control bytes, spaces,
//	                   non-UTF-8), or a known prefix with parts of the wrong shape
//	apikey_checksum    a known prefix, a wrong checksum: refused before any lookup
//	apikey_unknown     no such record, the wrong secret, a retired hashing secret,
//	                   or a legacy key while Legacy is off (one detail for all)
//	apikey_revoked     the record is revoked (told only to the key's holder)
//	apikey_expired     past expires_at
//
// A store that cannot answer is a 503 (reason apikey_store_unavailable
// when the error matches store.ErrUnavailable, else apikey_store_error),
// never a 401: a key that could not be checked is not a bad key.
//
// # Stores
//
// Static holds records in memory (from configuration or LoadStatic):
// lookups take a read lock and allocate nothing. Package rediskeys holds
// them in Redis, shared by every replica, with a memory cache invalidated
// on every replica when a key is revoked. Either way a check of a hot key
// allocates nothing and makes no round trip.
//
// # Last-used times
//
// A store that implements Toucher learns when keys were used, but never on
// a request's path and never once per request: the authenticator marks a
// key used at most once per Options.LastUsedInterval (default a minute;
// one atomic load per request, a compare-and-swap per key per interval),
// and a background goroutine writes the batch each interval. A report that
// finds the queue (4,096) full is dropped; the key's next use after the
// interval reports again. Close (or Flush) writes what is pending.
package apikey
