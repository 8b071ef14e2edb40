// Package discovery reads an authorization server's metadata: OAuth 2.0
// Authorization Server Metadata (RFC 8414,
// /.well-known/oauth-authorization-server) and OpenID Connect Discovery
// (/.well-known/openid-configuration). It finds the token introspection
// endpoint (for package authn/introspect) and the JWKS that signs access
// tokens (for package authn/jwt/jwks, through Metadata.KeySet and
// Metadata.Verifier), so that a service is configured with one value: the
// issuer.
//
// # Where the document is
//
// RFC 8414 §3.1 inserts the well-known path between the host and the
// issuer's path: the issuer https://as.example/tenant1 publishes
// https://as.example/.well-known/oauth-authorization-server/tenant1.
// OpenID Connect Discovery §4 appends it:
// https://as.example/tenant1/.well-known/openid-configuration. A trailing
// "/" of the issuer's path is removed first in both. WellKnownURL computes
// either. With Options.Kind empty, Discover asks for the RFC 8414 document
// first and, when the server answers 404, for the OpenID Connect one.
//
// # The issuer check
//
// The "issuer" member of the document must be identical to the configured
// issuer, character for character (OIDC Discovery §4.3, RFC 8414 §3.3): no
// normalisation, not even of a trailing slash. Otherwise a server that
// publishes metadata for several tenants, or an attacker who can place a
// document on one, could make this service accept another issuer's tokens
// (the mix-up attacks RFC 8414 §6 describes). A mismatch is an error from
// Discover, so a misconfigured service fails when it starts, not on the
// first request.
//
// # Strictness
//
// The issuer and every endpoint used must be https URLs, except for a
// loopback host (tests, sidecars); an issuer has no query or fragment
// (RFC 8414 §2). The document is bounded (Options.MaxBytes, default 256
// KiB), must be one JSON object in UTF-8 with no member named twice, and the
// members read here must have their specified types (a string, an array of
// strings); members this package does not read are ignored, as RFC 8414 §3.2
// requires. Redirects are not followed: the well-known location is the
// issuer's own statement. Signed metadata (RFC 8414 §2.1 signed_metadata)
// is not verified and not used.
//
// Discovery runs once, when the service starts; the JWKS it names is then
// refreshed by jwks.Remote on its own schedule. A changed introspection
// endpoint or jwks_uri needs a restart (rare: such URLs are long-lived).
package discovery
