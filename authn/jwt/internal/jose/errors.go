package jose

import "errors"

// The sentinels of the refusals this package decides. Package jwt
// publishes them under the same names (jwt.ErrMalformed, ...): they are
// one set of errors, declared here because the parser below jwt produces
// them.
var (
	// ErrMalformed: not a compact JWS (segments, alphabet, encoding, JSON).
	ErrMalformed = errors.New("jwt: malformed token")
	// ErrTooLarge: longer than the verifier's MaxTokenSize.
	ErrTooLarge = errors.New("jwt: token too large")
	// ErrAlgorithm: alg none, not allowed, or not the key's algorithm.
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")
	// ErrHeader: a header member that is refused (crit, jku, x5u, jwk,
	// b64, enc, zip, a nested JWT) or a wrong typ.
	ErrHeader = errors.New("jwt: refused header")
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
