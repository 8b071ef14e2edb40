package jwt

import (
	"errors"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
)

// The audit reasons of refused tokens that this package decides (those
// of the parsers below it are jose.Reason*). The package documentation
// lists every reason with the detail the client sees; TestReasonTable
// keeps the two in step.
const (
	reasonKeyUnknown       = "key_unknown"
	reasonKeyAlgMismatch   = "key_alg_mismatch"
	reasonSignature        = "signature_invalid"
	reasonType             = "type_invalid"
	reasonWrongType        = "token_wrong_type"
	reasonClaimMissing     = "claim_missing"
	reasonClaimInvalid     = "claim_invalid"
	reasonExpired          = "token_expired"
	reasonNotYetValid      = "token_not_yet_valid"
	reasonIssuer           = "issuer_invalid"
	reasonAudience         = "audience_invalid"
	reasonRevoked          = "token_revoked"
	reasonBindingUnchecked = "token_binding_unchecked"
)

// Client-facing details shared by several reasons, or given by a
// refresh-token verifier instead of its reason's.
const (
	detailUntrustedKey    = "the token is not signed by a key this service trusts"
	detailRefreshAsAccess = "a refresh token cannot be used as an access token"
	detailAccessAsRefresh = "an access token cannot be used as a refresh token"
)

// refusalDetails is the client-facing detail of each reason: true, and
// the same for every refusal of the reason, so that it says nothing of
// the token beyond the class of the refusal. The refusals before the
// signature check that an attacker could use to probe the keys — an
// unknown kid, a key bound to another algorithm, a signature that does
// not verify — share one detail, so that the answers do not tell which
// kids exist. (The audit event's reason and error tell the operator.)
var refusalDetails = map[string]string{
	jose.ReasonMalformed:      "the token is malformed",
	jose.ReasonTooLarge:       "the token is too large",
	jose.ReasonHeader:         "the token header is not accepted",
	jose.ReasonCrit:           "the token requires an extension this service does not support",
	jose.ReasonAlgorithm:      "the token's signing algorithm is not accepted",
	reasonKeyUnknown:          detailUntrustedKey,
	reasonKeyAlgMismatch:      detailUntrustedKey,
	reasonSignature:           detailUntrustedKey,
	reasonType:                "the token is not of a type this service accepts",
	reasonWrongType:           detailRefreshAsAccess,
	jose.ReasonDuplicateClaim: "a claim name appears twice in the token",
	reasonClaimMissing:        "the token lacks a claim this service requires",
	reasonClaimInvalid:        "a claim of the token has the wrong type or size",
	reasonExpired:             "the token has expired",
	reasonNotYetValid:         "the token is not valid yet",
	reasonIssuer:              "the token's issuer is not accepted here",
	reasonAudience:            "the token is not intended for this service",
	reasonRevoked:             "the token has been revoked",
	reasonBindingUnchecked:    "the token is bound to a client certificate, and this service does not check the binding",
}

// refuse is the 401 refusal of a token with reason and its detail; err
// (an Err* sentinel, possibly wrapped) is for errors.Is and the audit
// log.
func refuse(reason string, err error) *problem.Problem {
	return lifecycle.InvalidToken(reason, refusalDetails[reason], err)
}

// refused is the refusal for err, whose reason the check that failed
// recorded in it (jose.Refuse); an error without one is classed by its
// sentinel.
func refused(err error) *problem.Problem {
	reason := jose.ReasonOf(err)
	if reason == "" {
		switch {
		case errors.Is(err, ErrTooLarge):
			reason = jose.ReasonTooLarge
		case errors.Is(err, ErrAlgorithm):
			reason = jose.ReasonAlgorithm
		case errors.Is(err, ErrHeader):
			reason = jose.ReasonHeader
		case errors.Is(err, ErrUnknownKey):
			reason = reasonKeyUnknown
		case errors.Is(err, ErrSignature):
			reason = reasonSignature
		default:
			reason = jose.ReasonMalformed
		}
	}
	return refuse(reason, err)
}
