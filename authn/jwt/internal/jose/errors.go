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

// detailError is a sentinel with what exactly was wrong, for the audit
// log; errors.Is sees the sentinel.
type detailError struct {
	base error
	msg  string
}

func (e *detailError) Error() string { return e.base.Error() + ": " + e.msg }
func (e *detailError) Unwrap() error { return e.base }

// Wrap returns an error that is base (for errors.Is) and says detail.
func Wrap(base error, detail string) error { return &detailError{base: base, msg: detail} }
