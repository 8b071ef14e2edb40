package apikey

import (
	"net/http"

	"github.com/bulwark-go/bulwark/problem"
)

// The audit reasons of refused keys; the package documentation lists
// them with the detail the client sees.
const (
	reasonAmbiguous = "apikey_ambiguous"
	reasonEmpty     = "apikey_empty"
	reasonTooLong   = "apikey_too_long"
	reasonMalformed = "apikey_malformed"
	reasonChecksum  = "apikey_checksum"
	reasonUnknown   = "apikey_unknown"
	reasonRevoked   = "apikey_revoked"
	reasonExpired   = "apikey_expired"
)

// refusalDetails is the client-facing detail of each reason. An unknown
// ID, a wrong secret and a retired hashing secret share one detail, so
// that answers do not tell which IDs exist; revoked and expired are told
// only to a caller who presented the right secret.
var refusalDetails = map[string]string{
	reasonAmbiguous: "the request carries more than one API key",
	reasonEmpty:     "the API key is empty",
	reasonTooLong:   "the API key is too long",
	reasonMalformed: "the API key contains characters an API key never has, or has the wrong shape",
	reasonChecksum:  "the API key's checksum does not match: it was mistyped or truncated",
	reasonUnknown:   "the API key is not valid",
	reasonRevoked:   "the API key has been revoked",
	reasonExpired:   "the API key has expired",
}

// refuse is the 401 refusal of a key for reason; err is for the audit
// log. The guard adds its WWW-Authenticate challenge.
func refuse(reason string, err error) *problem.Problem {
	p := problem.New(http.StatusUnauthorized, problem.TypeInvalidCredentials, refusalDetails[reason]).WithReason(reason)
	if err != nil {
		p.WithErr(err)
	}
	return p
}
