package introspect

import (
	"errors"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/problem"
)

// Errors kept in problems (Err) for the audit log; test with errors.Is.
var (
	// ErrInactive: the authorization server says the token is not active
	// (unknown, expired, revoked, or not for this client).
	ErrInactive = errors.New("introspect: token not active")
	// ErrRefused: a check of this package refused a token the server
	// called active (issuer, audience, expiry, no subject) or refused a
	// token before asking (too large, not a bearer token's characters).
	ErrRefused = errors.New("introspect: token refused")
	// ErrUnavailable: the authorization server could not answer — it is
	// unreachable, too slow, or answered with an error status.
	ErrUnavailable = errors.New("introspect: the authorization server is unavailable")
	// ErrMalformedResponse: the answer is not an introspection response
	// Bulwark accepts (see ParseResponse), or not application/json.
	ErrMalformedResponse = errors.New("introspect: malformed introspection response")
	// ErrResponseTooLarge: the answer is larger than MaxResponseBytes.
	ErrResponseTooLarge = errors.New("introspect: introspection response too large")
)

// Audit reasons. The package documentation lists each with its status.
const (
	reasonInvalidRequest = "token_invalid_request"
	reasonTooLarge       = "token_too_large"
	reasonMalformed      = "token_malformed"
	reasonInactive       = "token_inactive"
	reasonExpired        = "token_expired"
	reasonNotYetValid    = "token_not_yet_valid"
	reasonIssuer         = "issuer_invalid"
	reasonAudience       = "audience_invalid"
	reasonNoSubject      = "subject_missing"

	reasonUnreachable    = "introspection_unreachable"
	reasonTimeout        = "introspection_timeout"
	reasonServerError    = "introspection_server_error"
	reasonClientRejected = "introspection_client_rejected"
	reasonBadStatus      = "introspection_bad_status"
	reasonBadResponse    = "introspection_bad_response"
	reasonRespTooLarge   = "introspection_response_too_large"
)

// refusalDetails is the client-facing detail of each 401 reason.
var refusalDetails = map[string]string{
	reasonTooLarge:    "the token is too large",
	reasonMalformed:   "the token is malformed",
	reasonInactive:    "the token is not active",
	reasonExpired:     "the token has expired",
	reasonNotYetValid: "the token is not valid yet",
	reasonIssuer:      "the token's issuer is not accepted here",
	reasonAudience:    "the token is not intended for this service",
	reasonNoSubject:   "the token identifies no subject",
}

// RetryAfter is the Retry-After of the 503 answered when the
// authorization server cannot answer.
const RetryAfter = 5 * time.Second

// refuse is the 401 for reason.
func refuse(reason string) *problem.Problem {
	err := ErrRefused
	if reason == reasonInactive {
		err = ErrInactive
	}
	return problem.New(http.StatusUnauthorized, problem.TypeInvalidToken, refusalDetails[reason]).WithReason(reason).WithErr(err)
}

// unavailable is the 503 for reason, with the cause for the audit log.
func unavailable(reason string, err error) *problem.Problem {
	return problem.Unavailable(RetryAfter, "the authorization server cannot check the token now; retry later").
		WithReason(reason).WithErr(err)
}

func invalidRequest(detail string) *problem.Problem {
	return problem.New(http.StatusBadRequest, problem.TypeBadRequest, detail).WithReason(reasonInvalidRequest)
}
