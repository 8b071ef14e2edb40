// Package introspect authenticates opaque OAuth 2.0 access tokens by asking
// the authorization server that issued them (token introspection, RFC
// 7662). Its Authenticator is an authn.Authenticator: put it in an
// authn.Guard, alone or in authn.AnyOf with a jwt.Verifier (set SkipJWT so
// that JWTs are verified locally and only opaque tokens cost a call).
//
//	in, err := introspect.New(introspect.Options{
//		Issuer:       "https://login.example/realms/acme", // the endpoint is discovered
//		ClientID:     "orders-api",
//		ClientSecretFile: "/run/secrets/introspect",
//	})
//	guard, err := authn.New(authn.Options{Authenticator: in})
//
// # The call
//
// The bearer token of the Authorization header (the rules of package jwt:
// one header, scheme Bearer, RFC 6750 b64token characters, at most
// MaxTokenSize) is POSTed to the endpoint as
// token=…&token_type_hint=access_token. The service authenticates itself
// with client_secret_basic (the ID and secret form-urlencoded, then
// base64-encoded, as RFC 6749 §2.3.1 requires: a secret holding ':' or '%'
// works) or private_key_jwt (RFC 7523: a JWT with iss = sub = ClientID, aud
// = AssertionAudience, a random jti and a lifetime of AssertionTTL, signed
// with github.com/golang-jwt/jwt/v5 by PrivateKey, a PEM or JWK RSA, EC or
// Ed25519 key; a new assertion for each call). Redirects are not followed.
//
// # The principal
//
// An active token becomes a Principal with Method "introspect"; Subject is
// "sub", or, when the response has none (client-credentials tokens often
// do not), "client_id", then "username" — the first present; a response
// with none of them is refused (subject_missing). Scopes come from "scope"
// (space-separated), Roles from RolesClaim ("roles"), TokenID from "jti",
// ExpiresAt from "exp". Every other member is in Claims: "client_id",
// "username", "token_type", "iss" as strings, "aud" as []string, "iat",
// "nbf" and extension members' numbers as float64.
//
// # Caching, and how long a revoked token works
//
// An active answer is reused until the earlier of the token's exp and
// CacheTTL after the call (default 5 minutes). CacheTTL is therefore the
// longest a token revoked at the authorization server keeps working here:
// choose it as the revocation delay you accept, against the load on the
// server (one call per token per CacheTTL). A refusal (active false) is
// reused for NegativeCacheTTL (10 seconds), so that a client retrying a
// dead token costs one call, not one per request; a token cannot become
// active again, so caching its refusal delays no legitimate request.
// Failures (503s) are never cached.
//
// Tokens are kept only as their SHA-256, in memory and in the shared
// cache, never in clear. The memory cache holds at most CacheSize answers
// (CLOCK eviction, in 16 shards); a hit takes a read lock and allocates
// nothing. Concurrent misses for one token are coalesced: a burst of
// requests carrying a new token makes one call, and the others wait for it
// (each at most until its own request's context ends).
//
// With SharedCache (a redisstore.Store), answers are shared by every
// replica: a memory miss asks it before the server, and every answer is
// written with its remaining lifetime, so that the revocation bound is
// still CacheTTL from the first call anywhere. The shared cache is an
// optimisation: when it cannot answer, the server is asked. Anyone who can
// write to it can mint principals, as with every store Bulwark trusts.
//
// # Refusals and their audit reasons
//
// Every refusal is a *problem.Problem with a stable reason, which the
// authn.Guard records as one audit event; the client sees the status and
// the detail, never the server's answer:
//
//	400 token_invalid_request  several Authorization headers; "Bearer" and nothing
//	401 token_too_large        longer than MaxTokenSize (not sent to the server)
//	401 token_malformed        not RFC 6750 b64token characters (not sent)
//	401 token_inactive         the server says active: false
//	401 token_expired          active, but exp has passed (beyond Leeway)
//	401 token_not_yet_valid    active, but nbf is in the future (beyond Leeway)
//	401 issuer_invalid         iss is not one of Issuers (when set)
//	401 audience_invalid       aud names none of Audience (when set)
//	401 subject_missing        neither sub, client_id nor username
//	503 introspection_unreachable        no connection
//	503 introspection_timeout            no complete answer within Timeout
//	503 introspection_server_error       a 5xx status
//	503 introspection_client_rejected    401 or 403: the server refuses this service's credentials
//	503 introspection_bad_status         another status (redirects included)
//	503 introspection_bad_response       not application/json, or not a response ParseResponse accepts
//	503 introspection_response_too_large larger than MaxResponseBytes (64 KiB)
//
// Every 401 carries the RFC 6750 challenge (error="invalid_token"); every
// 503 carries Retry-After (RetryAfter, 5 seconds). A server that cannot
// answer, or answers something unreadable, is a fault on the service's
// side, not the client's: the token may well be good, so the answer is 503,
// never 401 (which would tell clients to throw good tokens away) and never
// 500. An unreadable response is decided the same way: a server that
// answers "active": "true" is broken, and its token not judged.
package introspect
