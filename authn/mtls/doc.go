// Package mtls authenticates clients by TLS client certificates: a chain
// verified against a configured pool of certificate authorities, for
// client authentication (ExtKeyUsageClientAuth), at the current time.
//
// # Where the certificate comes from
//
// From the request's own TLS connection (r.TLS.PeerCertificates: the leaf
// and the intermediates the client sent). The server should ask for
// certificates (tls.Config.ClientAuth RequestClientCert or
// VerifyClientCertIfGiven); this package verifies the chain itself,
// against Options.ClientCAs, whatever the server's tls.Config trusts.
//
// Behind a TLS-terminating proxy, from the RFC 9440 headers the proxy
// sets: Client-Cert (the leaf, an RFC 8941 Byte Sequence, ":base64:") and
// Client-Cert-Chain (the intermediates, a List of Byte Sequences). They are
// believed only when the connection's peer is a trusted proxy
// (Options.TrustedProxies, or the application's clientip.Identity in
// Options.Proxies), and verified against the pool like a certificate of a
// direct connection. From any other peer such a header is refused (401,
// client_cert_header_untrusted): a client naming its own certificate is
// an attack, not a credential. From a trusted proxy, the proxy's own TLS
// client certificate never stands for the client: without Client-Cert the
// request has no client certificate. Your proxy must remove these headers
// from what clients send.
//
// # Certificate to principal
//
// Method "mtls", Source authn.SourceTLS, ExpiresAt the certificate's
// NotAfter. Subject is the first of:
//
//  1. the SPIFFE ID: the first URI SAN with the scheme spiffe
//     (spiffe://trust-domain/path), as in an X.509-SVID;
//  2. the first e-mail SAN;
//  3. the first DNS SAN;
//  4. the first other URI SAN;
//  5. the subject's common name;
//  6. the subject DN in RFC 2253 form ("CN=…,O=…").
//
// Claims: cert_subject and cert_issuer (RFC 2253 DNs), cert_serial
// (decimal), x5t#S256 (the RFC 8705 thumbprint), and, when present,
// spiffe_id, dns, uris, emails ([]string). Roles and scopes come from
// Options.Grants, by Subject. CertificateOf returns the verified
// certificate and chain.
//
// # Allow-lists
//
// Options.AllowedSPIFFEIDs (exact, or a prefix written "…/*") and
// Options.AllowedSubjects (the principal's Subject or the subject DN)
// narrow the certificates the pool admits; a certificate either admits
// passes. A verified certificate that neither admits is refused with 403
// (client_cert_not_allowed): the client is known, and not welcome here.
//
// # Certificate-bound access tokens (RFC 8705 §3)
//
// CertificateBound wraps a token authenticator (a *jwt.Verifier): a token
// whose cnf claim carries x5t#S256 is accepted only when the request
// presents the client certificate of that thumbprint, so that a stolen
// token is useless without the certificate's private key. The check sits
// with the token, not in authn.AllOf, because a bound token must be
// refused when presented alone too. A bound token is usable only through
// CertificateBound: the verifier refuses a token carrying cnf
// (token_binding_unchecked) in any request CertificateBound did not mark
// with authn.WithBindingCheck, so authn.AllOf(certs, verifier) or a
// plain verifier refuses it instead of accepting it as a bearer token.
// (The gateway wraps the jwt member of an all_of that also holds an
// mtls member in CertificateBound itself.)
//
// # Refusals
//
// 401 with a specific reason: client_cert_untrusted (no chain to the
// pool), client_cert_expired, client_cert_usage (not for client
// authentication), client_cert_invalid (any other verification failure),
// client_cert_malformed (an RFC 9440 header that does not parse, is too
// long, repeated, or holds no certificate; more than MaxChainLen
// certificates), client_cert_header_untrusted; CertificateBound adds
// token_cert_missing, token_cert_mismatch, token_binding_unsupported and
// token_not_bound, as invalid_token. 403 client_cert_not_allowed.
//
// # Trade-offs
//
// Browsers present a chosen client certificate on their own, cross-site
// requests included, like cookies: the principal's Source is
// authn.SourceTLS, which CredentialSource.Ambient reports, so a CSRF
// check treats it as it treats a cookie. Chains are verified on every
// request (tens of microseconds for ECDSA P-256); TLS connections are
// long-lived, so a service that needs more puts a cache keyed by the
// thumbprint in front. TLS client authentication has no HTTP challenge:
// Challenge returns "", and a 401 carries the challenges of the other
// authenticators of a composition (Bearer alone when there are none).
package mtls
