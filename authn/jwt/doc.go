// Package jwt authenticates requests with JSON Web Tokens, issues them,
// and rotates and revokes refresh tokens.
//
// Who does what: github.com/golang-jwt/jwt/v5 computes and checks the
// public-key signatures (RS*, PS* with the salt length RFC 7518 requires,
// ES* in the fixed-size JWS encoding, EdDSA). Everything else is this
// package's: the compact-serialization and base64url checks, the JOSE
// header parser (strict: exact member names, no duplicates, bounded
// nesting), the claims decoder (reflection-free, with encoding/json's
// semantics, validated by json.Valid first and differential-fuzzed against
// encoding/json in FuzzDecodeClaims), key binding and selection, claim
// validation, revocation and caching. HMAC (HS*) verification uses the
// standard library's crypto/hmac directly (pooled states, hmac.Equal).
// Signing (Issuer) goes through golang-jwt's signing methods for every
// algorithm; token and header JSON are built with encoding/json.
// golang-jwt's token parser and claims types are not used. A Verifier is
// an authn.Authenticator:
//
//	key, _ := jwt.KeyFromEnv("JWT_SECRET", "k1", jwt.HS256)
//	v, _ := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"https://api.example.com"}, Audience: []string{"api"}})
//	guard, _ := authn.New(authn.Options{Authenticator: v, Realm: "api", Audit: sink})
//	mux.Handle("GET /api/protected", guard.Require(handler))
//
// # What a token must survive
//
// Checks run cheapest first, and nothing is decoded before the token has
// passed the ones before:
//
//  1. size (MaxTokenSize, default 8 KiB) and shape, in one pass over the
//     bytes: exactly three segments, only base64url characters, a
//     non-empty signature. A 1 MB token or a token of dots costs one
//     length comparison or one short scan.
//  2. the header: canonical unpadded base64url, valid UTF-8 and JSON, an
//     object, no member twice, nesting bounded; alg present, not "none" in
//     any casing, in the explicit allowlist; no crit (we implement no
//     extension, so every crit is unknown); no jku, x5u or jwk (keys are
//     never fetched from or trusted because of a token: such tokens are
//     refused, not ignored); no b64, enc or zip; x5c and x5t are ignored.
//  3. the key: found by kid among the configured keys and bound to the
//     token's alg. A key serves exactly one algorithm, so an RS256 public
//     key can never act as an HS256 secret (algorithm confusion), and a
//     kid is only ever a map key, never a path or a query.
//  4. the signature: crypto/hmac for HS*; golang-jwt for RS*, PS* (with
//     the salt length RFC 7518 requires), ES* (fixed-size JWS encoding)
//     and EdDSA.
//  5. the claims, decoded once: valid UTF-8, nesting bounded
//     (MaxClaimsDepth), a JSON object with nothing after it; exp required
//     by default; exp, nbf and iat checked with Leeway; iss and aud
//     checked when configured (a token with an aud is refused by a
//     verifier that names no audience, RFC 7519 §4.1.3); typ when
//     required; a refresh token (typ refresh+jwt or token_use refresh) is
//     never an access token.
//  6. revocation: the jti and the session (sid) against the denylist in
//     the Store, on every request, cached or not (one round trip with
//     Redis, two in-process lookups with memstore, when the token has
//     both).
//
// # The principal
//
// A verified token becomes an *authn.Principal: Subject (sub), Roles
// ("roles" array, or the "role" string; RolesClaim renames it), Scopes
// ("scope" space-separated, else "scp" or "scopes"), TokenID (jti),
// ExpiresAt (exp), and Claims holding every claim (numbers as float64;
// read them with authn.Claim[T]). Handlers read it with authn.FromContext
// and never decode the token again. Source says where the token was found
// (authn.SourceHeader, SourceCookie or SourceQuery; read it with
// authn.SourceOf): a CSRF guard checks unsafe requests whose token came
// from a cookie, since browsers send cookies cross-site on their own.
// KeyOf describes the key that verified the token (kid, alg, thumbprint,
// source; never the material).
//
// # Keys
//
// Keys come from code (NewKey, NewHMACKey, GenerateKey), PEM (ParsePEM),
// JWK (ParseJWK), files and the environment (KeyConfig.Load, LoadKeyFile,
// KeyFromEnv), a local JWKS file (LoadJWKSFile) or a remote JWKS
// (package jwks; RSA keys without "alg" are skipped, visibly, unless
// DefaultAlg is set). HMAC secrets shorter than the hash (32 bytes for HS256)
// are refused, with a note on how to generate one; RSA keys under 2048
// bits, with a bad exponent or the ROCA fingerprint, and EC points off
// their curve are refused too. Several keys may be active at once: during
// a rotation, sign with the new key and keep the old one until the last
// token it signed has expired. Secrets never appear in String, logs,
// JSON or Describe.
//
// # Issuing, refresh and revocation
//
// Issuer signs access tokens (typ at+jwt, RFC 9068); JWKSHandler
// publishes the public keys at /.well-known/jwks.json. Refresher issues
// access + refresh pairs at login and rotates them: every refresh token
// works once (store.KV.Take), and presenting a used one revokes its whole
// family; a rotation whose new pair cannot be stored puts the old token
// back, so a retry after the 503 is not mistaken for reuse. Refresh
// tokens carry typ refresh+jwt, token_use refresh and an audience of
// their own (RefreshAudience, default <iss>#refresh), so neither our
// Verifier nor another service checking aud accepts one as an access
// token. Logout revokes the access token (its jti, until its exp) and the
// session (every token carrying its sid). Sliding renews a token near its
// expiry in a response header (X-Refreshed-Token by default; expose it in
// CORS for browsers), only for tokens its own Issuer's key verified.
//
// Revocation design: the denylist lives in the Store (memstore, or
// redisstore for many replicas), and every request asks it about the jti
// and the sid, including requests answered from the verified-token cache.
// Revocation is therefore effective on every replica at the next request,
// at the price of one store round trip per request: with Redis, both keys
// in one pipeline (store.AnyExister: two EXISTS, typically 0.1–0.5 ms in
// all); with memstore, two in-process map lookups (the jti, then, unless it
// hit, the sid); none for a token carrying neither. When the store cannot
// answer, requests get 503 unless RevocationFailOpen is set.
//
// # Options and defaults
//
//	Keys / KeySet        required (at least one)
//	Algorithms           the keys' algorithms; required with a KeySet
//	Issuers              none: iss not checked
//	Audience             none: tokens carrying aud are refused
//	RequiredClaims       ["exp"]
//	Leeway               60s (negative: none; at most 10m)
//	Type                 none (e.g. "at+jwt" to require explicit typing)
//	Sources              Authorization: Bearer (case-insensitive scheme);
//	                     add {From: "cookie", Name: "auth_token"}, or a query
//	                     parameter (off by default: URLs leak)
//	MaxTokenSize         8 KiB
//	MaxClaimsDepth       16
//	CacheSize            4096 verified tokens (negative: off)
//	Store                none: no revocation (required by Refresher)
//	KeyPrefix            "jwt:"
//	RevocationFailOpen   false (503 when the store is down)
//	RolesClaim           "roles" (falls back to "role")
//
//	IssuerOptions: Key (required), Issuer, Audience, TTL 15m, Type "at+jwt"
//	RefreshOptions: Issuer, Verifier (with Store), RefreshTTL 14d,
//	                SessionLifetime 30d, RefreshAudience <iss>#refresh
//	HandlerOptions: Audit, ErrorHandler, Realm "api" (pass the guard's)
//	SlidingOptions: Issuer (with a non-empty iss), Window TTL/3,
//	                Header "X-Refreshed-Token", MaxLifetime 12h
//
// Errors are *problem.Problem values (401 type invalid-token, with a
// client-safe detail and an audit reason: token_invalid, token_expired,
// token_not_yet_valid, token_revoked, token_wrong_type, refresh_reused;
// 400 token_invalid_request; 503 revocation_unavailable); their Err is one
// of the Err* sentinels, for errors.Is and the audit log.
package jwt
