// Package bodylimit caps the size of request bodies.
//
// A request whose Content-Length already exceeds the cap is refused at once
// with a 413 problem, before a byte of the body is read. Any other body is
// wrapped with http.MaxBytesReader, so a handler that reads too much gets an
// error (detect it with IsTooLarge) and the server closes the connection
// after the response instead of reading the rest. Package bind answers that
// error with the same 413 problem.
package bodylimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/problem"
)

// DefaultMaxBytes is the cap used when Options.MaxBytes is zero: 1 MiB.
const DefaultMaxBytes int64 = 1 << 20

// Options configures a Cap.
type Options struct {
	// MaxBytes is the largest accepted body, in bytes. Default 1 MiB.
	MaxBytes int64 `json:"max_bytes,omitempty" yaml:"max_bytes,omitempty"`
	// Audit receives one event per refused request (reason
	// "body_too_large"). Default: no audit.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes the 413 problem. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Cap enforces a body size cap; build it with New. It is safe for
// concurrent use.
type Cap struct {
	max  int64
	deny problem.Denier
}

// New validates opts and returns a Cap.
func New(opts Options) (*Cap, error) {
	max := opts.MaxBytes
	switch {
	case max < 0:
		return nil, fmt.Errorf("bodylimit: MaxBytes is %d; use a positive size in bytes, or 0 for the default (%d)", max, DefaultMaxBytes)
	case max == 0:
		max = DefaultMaxBytes
	}
	return &Cap{
		max:  max,
		deny: problem.Denier{Guard: "bodylimit", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}, nil
}

// MaxBytes returns the cap in bytes.
func (l *Cap) MaxBytes() int64 { return l.max }

// Check is the guard's decision: it returns r and, when r declares a body
// larger than the cap, the 413 problem. It neither reads nor wraps the
// body (Handler caps what the declared length does not tell), and writes
// nothing.
func (l *Cap) Check(r *http.Request) (*http.Request, *problem.Problem) {
	if r.ContentLength > l.max {
		return r, TooLarge(l.max)
	}
	return r, nil
}

// Handler returns next wrapped so that bodies over the cap are refused
// (declared size) or cut short (actual size).
func (l *Cap) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, p := l.Check(r); p != nil {
			l.deny.Deny(w, r, p)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, l.max)
		}
		next.ServeHTTP(w, r)
	})
}

// TooLarge returns the 413 problem for a body over limit bytes.
func TooLarge(limit int64) *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, problem.TypeBodyTooLarge,
		"the request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes").
		With("max_bytes", limit).WithReason("body_too_large")
}

// IsTooLarge reports whether err (or an error it wraps) is the error
// http.MaxBytesReader returns when a body exceeds its cap.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
