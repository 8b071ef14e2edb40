// Package jwt authenticates requests with JSON Web Tokens: it loads keys,
// verifies tokens into principals (Verifier) and issues them (Issuer).
// The token lifecycle built on it — login, refresh-token rotation and
// reuse detection, logout, sliding expiry, and the revocation design — is
// package refresh; a remote JWKS is package jwks.
//
// Who does what: github.com/golang-jwt/jwt/v5 computes and checks the
// public-key signatures (RS*, PS* with the salt length RFC 7518 requires,
// ES* in the fixed-size JWS encoding, EdDSA). Everything else is
// Bulwark's: the compact-serialization and base64url checks, the JOSE
// header parser (strict: exact member names, no duplicates, bounded
// nesting), the claims decoder (reflection-free, with encoding/json's
// semantics but for duplicate names, which it refuses; validated by
// json.Valid first and differential-fuzzed against encoding/json), key
// binding and selection, claim validation, revocation
// and caching. HMAC (HS*) verification uses the standard library's
// crypto/hmac directly (pooled states, hmac.Equal). Signing (Issuer) goes
// through golang-jwt's signing methods for every algorithm; token and
// header JSON are built with encoding/json. golang-jwt's token parser and
// claims types are not used. A Verifier is an authn.Authenticator:
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
//     kid is only ever a map key, never a path or a query. A token without
//     kid is tried against the keys of its algorithm, at most four.
//  4. the signature: crypto/hmac for HS*; golang-jwt for RS*, PS* (with
//     the salt length RFC 7518 requires), ES* (fixed-size JWS encoding)
//     and EdDSA.
//  5. the type: no cty "JWT" (nested tokens); typ when Type requires it
//     (case-insensitive, "application/" optional, RFC 8725 explicit
//     typing); a refresh token (typ refresh+jwt) is never an access token.
//  6. the claims, decoded once: valid UTF-8, nesting bounded
//     (MaxClaimsDepth), a JSON object with nothing after it, no member
//     name twice in any object at any depth (RFC 7519 §4 allows keeping
//     the last; refusing means that no two parsers — a gateway and the
//     service behind it — read one token two ways, as for the header's
//     members); exp required
//     by default; exp, nbf and iat checked with Leeway; iss and aud
//     checked when configured (a token with an aud is refused by a
//     verifier that names no audience, RFC 7519 §4.1.3); token_use
//     "refresh" refused.
//  7. revocation: the jti and the session (sid) against the denylist in
//     the Store, on every request, cached or not. Without a Store there is
//     no revocation; package refresh describes the design and its cost.
//
// Verify runs all seven; VerifyJWS runs 1 to 4 for a JWS whose payload is
// not a claims set.
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
// source; never the material): which key — and so which issuer — signed
// it, which iss alone cannot tell when a verifier trusts several key
// sources.
//
// Sources are tried in order, the first holding a token wins; by default
// only the Authorization header with the Bearer scheme. A header with
// another scheme counts as no token, so that authn.AnyOf can try the next
// authenticator. Query parameters are off unless listed: URLs end up in
// access logs, browser history, proxies and Referer headers (RFC 6750
// §5.3); list one only for clients that cannot set headers (EventSource,
// WebSocket handshakes), with short-lived tokens.
//
// # Keys
//
// Keys come from code (NewKey, NewHMACKey, GenerateKey), PEM (ParsePEM),
// JWK (ParseJWK, ParseJWKS), files and the environment (KeyConfig.Load,
// LoadKeyFile, KeyFromEnv), a local JWKS file (LoadJWKSFile) or a remote
// JWKS (package jwks). A JWKS skips, visibly (ParseJWKSSkipped, SkippedKey),
// what is not a signature key it can bind: encryption keys, unknown curves,
// and RSA or oct keys without "alg" unless DefaultAlg is set (Microsoft
// Entra and other providers omit it). A set that may be published never
// yields an HMAC secret, and none may mix secrets with public keys.
//
// HMAC secrets shorter than the hash (32, 48 or 64 bytes) are refused with
// the hint to generate one with `openssl rand -base64 48` and pass it
// through the environment or a secret file; RSA keys under 2048 bits, with
// a bad exponent or the ROCA fingerprint (CVE-2017-15361), and EC points
// off their curve are refused too. Secrets never appear in String, logs,
// JSON or Describe.
//
// Several keys may be active at once: during a rotation, sign with the new
// key and keep the old one until the last token it signed has expired,
// each found by its kid. An Issuer signs access tokens (typ at+jwt,
// RFC 9068) with one key; JWKSHandler publishes the public keys at
// /.well-known/jwks.json for other services (never an HMAC secret).
//
// # Caching
//
// A Verifier remembers CacheSize verified tokens (4096 by default;
// negative: none), so a repeated token costs a hash, a comparison and the
// revocation lookup, without allocating. A cached token is never served
// past its exp (the exact exp: once it has passed, full verification
// decides, leeway included), after its key left the key set (a changing
// KeySet bumps its Generation), or once revoked (every hit still asks the
// denylist). The cache is direct-mapped on a seeded hash of the whole
// token, so bounded and lock-free; a hit compares the full token. Cached
// principals are shared between requests: treat them as read-only.
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
//	Sources              Authorization: Bearer (case-insensitive scheme)
//	MaxTokenSize         8 KiB (at most 1 MiB)
//	MaxClaimsDepth       16 (at most 64)
//	CacheSize            4096 verified tokens (negative: off)
//	Store                none: no revocation (package refresh needs one)
//	KeyPrefix            "jwt:"
//	RevocationFailOpen   false (503 when the store is down)
//	RolesClaim           "roles" (falls back to "role")
//
//	IssuerOptions: Key (required, can sign), Issuer, Audience, TTL 15m, Type "at+jwt"
//
// # Refusals and their audit reasons
//
// A refused token is answered 401, a problem of type invalid-token whose
// WWW-Authenticate challenge says error="invalid_token" (RFC 6750 §3.1).
// Each refusal carries an audit reason naming its class — stable, so
// that dashboards and alerts can key on it — and its Err, one of the Err*
// sentinels (for errors.Is) wrapped with exactly what failed ("jwt:
// malformed token: a header member appears twice"), which the audit event
// records as "error". The client sees one detail per reason, as the
// problem's detail and the challenge's error_description: true, and no
// more than the class. The refusals an attacker could use to map the keys
// (an unknown kid, a key of another algorithm, a bad signature) share one
// detail, so that the answers do not tell which kids exist.
//
// Reasons, by the step above that decides them, each with the client's
// detail:
//
//	token_malformed       not a compact JWS: segments, alphabet, canonical
//	                      base64url, UTF-8, the header or claims not one
//	                      JSON object, nesting beyond MaxClaimsDepth
//	                      "the token is malformed"
//	token_too_large       longer than MaxTokenSize
//	                      "the token is too large"
//	alg_not_allowed       alg "none" in any casing or an empty signature;
//	                      alg not in the allowlist
//	                      "the token's signing algorithm is not accepted"
//	header_invalid        a header member twice or of the wrong type; no
//	                      alg; jku, x5u or jwk; b64; enc or zip; cty JWT;
//	                      a kid over 256 bytes
//	                      "the token header is not accepted"
//	crit_unsupported      a crit header (no extension is implemented)
//	                      "the token requires an extension this service does not support"
//	key_unknown           no key for the kid and alg; no kid and more than
//	                      four keys of the alg
//	                      "the token is not signed by a key this service trusts"
//	key_alg_mismatch      the kid names a key bound to another algorithm
//	                      (algorithm confusion: an RSA public key as HS256)
//	                      "the token is not signed by a key this service trusts"
//	signature_invalid     no candidate key verifies the signature
//	                      "the token is not signed by a key this service trusts"
//	type_invalid          typ is not Type
//	                      "the token is not of a type this service accepts"
//	token_wrong_type      a refresh token (typ refresh+jwt, or token_use
//	                      "refresh") presented as an access token
//	                      "a refresh token cannot be used as an access token"
//	                      (package refresh, for an access token presented
//	                      as a refresh token: "an access token cannot be
//	                      used as a refresh token")
//	claims_duplicate      a claim name twice in one object, at any depth
//	                      "a claim name appears twice in the token"
//	claim_missing         a RequiredClaims member is absent; iss when
//	                      Issuers is set; aud when Audience is set
//	                      "the token lacks a claim this service requires"
//	claim_invalid         a claim of the wrong type or size (exp, nbf, iat
//	                      or auth_time not a sane NumericDate; iss, sub,
//	                      jti, sid or token_use not a string; aud, roles
//	                      or scopes not strings; jti or sid over 256 bytes)
//	                      "a claim of the token has the wrong type or size"
//	token_expired         exp has passed, beyond the leeway
//	                      "the token has expired"
//	token_not_yet_valid   nbf or iat in the future, beyond the leeway
//	                      "the token is not valid yet"
//	issuer_invalid        iss is not one of Issuers
//	                      "the token's issuer is not accepted here"
//	audience_invalid      aud names none of Audience (or Audience is empty)
//	                      "the token is not intended for this service"
//	token_revoked         the jti or the sid is on the denylist
//	                      "the token has been revoked"
//	token_binding_unchecked  a cnf claim (a token bound to a client
//	                      certificate or a key, RFC 8705 §3) in a request
//	                      no binding check marked: wrap the verifier in
//	                      mtls.CertificateBound (authn.WithBindingCheck)
//	                      "the token is bound to a client certificate, and this service does not check the binding"
//
// Besides these: 400 token_invalid_request for a malformed Authorization
// header (two of them, empty credentials); 401 token_state_reset ("session
// state was reset; log in again") for a revocable token issued before the
// Store's state was lost (see "Lost state" in package refresh); 503
// revocation_unavailable when the Store cannot answer (with Retry-After),
// and a remote key set's 503 (jwks_unavailable) as it is; and
// authn.Guard's token_missing. Package refresh adds refresh_reused, token_invalid (a
// refresh token whose session record no longer matches it) and 503
// store_unavailable, and uses token_expired and token_revoked for the
// session too.
package jwt
