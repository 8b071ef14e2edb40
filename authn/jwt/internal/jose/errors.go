package jose

import "errors"

// The sentinels of the refusals this package decides, which package jwt
// publishes under the same names and documents: one set of errors with
// jwt's own, declared here because the parser below jwt produces them.
var (
	ErrMalformed = errors.New("jwt: malformed token")
	ErrTooLarge  = errors.New("jwt: token too large")
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")
	ErrHeader    = errors.New("jwt: refused header")
)

// The audit reasons of the refusals this package decides. Package jwt
// documents every reason a token refusal can carry, in one table.
const (
	ReasonMalformed      = "token_malformed"
	ReasonTooLarge       = "token_too_large"
	ReasonHeader         = "header_invalid"
	ReasonCrit           = "crit_unsupported"
	ReasonAlgorithm      = "alg_not_allowed"
	ReasonDuplicateClaim = "claims_duplicate"
)

// detailError is a sentinel with what exactly was wrong, for the audit
// log, and the audit reason of the refusal when it decides one;
// errors.Is sees the sentinel.
type detailError struct {
	base   error
	reason string
	msg    string
}

func (e *detailError) Error() string { return e.base.Error() + ": " + e.msg }
func (e *detailError) Unwrap() error { return e.base }

// Wrap returns an error that is base (for errors.Is) and says detail.
func Wrap(base error, detail string) error { return &detailError{base: base, msg: detail} }

// Refuse is Wrap for a refusal whose audit reason is reason (ReasonOf).
// The sentinel says the broad class, for errors.Is; the reason says which
// check refused, for an operator.
func Refuse(base error, reason, detail string) error {
	return &detailError{base: base, reason: reason, msg: detail}
}

// ReasonOf returns the audit reason err carries (the first in its chain,
// joined errors included), "" when it carries none.
func ReasonOf(err error) string {
	var d *detailError
	for err != nil {
		if !errors.As(err, &d) {
			return ""
		}
		if d.reason != "" {
			return d.reason
		}
		err = d.base
	}
	return ""
}
