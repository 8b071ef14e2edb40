package jwt

import (
	"errors"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// Errors kept in problems (Err) for the audit log; the client sees the
// detail of the refusal's reason (see Refusals and their audit reasons in
// the package documentation: a reason is finer than these classes). Test
// with errors.Is.
var (
	// ErrMalformed: not a compact JWS (segments, alphabet, encoding, JSON),
	// or a header or claims member named twice, a header member of the
	// wrong type, a kid too long.
	ErrMalformed = jose.ErrMalformed
	// ErrTooLarge: longer than MaxTokenSize.
	ErrTooLarge = jose.ErrTooLarge
	// ErrAlgorithm: alg none, not allowed, or not the key's algorithm.
	ErrAlgorithm = jose.ErrAlgorithm
	// ErrUnknownKey: no configured key matches the token's kid and alg.
	ErrUnknownKey = errors.New("jwt: unknown key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwt: invalid signature")
	// ErrHeader: a header member Bulwark refuses (crit, jku, x5u, jwk,
	// b64, enc, zip, a nested JWT) or a wrong typ.
	ErrHeader = jose.ErrHeader
	// ErrClaims: a claim is missing, of the wrong type, or does not match
	// (iss, aud, token type).
	ErrClaims = errors.New("jwt: invalid claims")
	// ErrExpired: exp has passed (beyond the leeway).
	ErrExpired = errors.New("jwt: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("jwt: token not valid yet")
	// ErrRevoked: the token or its session was revoked.
	ErrRevoked = errors.New("jwt: token revoked")
	// ErrBindingUnchecked: the token is bound (a cnf claim) and the
	// request was not marked by authn.WithBindingCheck: nothing would
	// check the binding (wrap the verifier in mtls.CertificateBound).
	ErrBindingUnchecked = errors.New("jwt: token binding unchecked")
)

var (
	errNested      = jose.Refuse(ErrHeader, jose.ReasonHeader, "nested JWTs (cty JWT) are not supported")
	errTyp         = jose.Refuse(ErrHeader, reasonType, "typ does not match")
	errNoKey       = jose.Refuse(ErrUnknownKey, reasonKeyUnknown, "no key for this kid and alg")
	errTooManyKeys = jose.Refuse(ErrUnknownKey, reasonKeyUnknown, "the token names no kid and several keys share its alg")
	errOtherAlg    = jose.Refuse(ErrAlgorithm, reasonKeyAlgMismatch, "the key named is bound to another algorithm")
	errBadSig      = jose.Refuse(ErrSignature, reasonSignature, "no key of the token's kid and alg verifies the signature")
)
