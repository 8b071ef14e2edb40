// Package recovery turns a panicking handler into a 500 problem response.
//
// The stack trace and the panic value go to the log, never to the client:
// the client gets an RFC 9457 problem of type problem.TypeInternal with a
// generic detail and the request ID, so that an operator can find the log
// line. http.ErrAbortHandler is re-panicked, as net/http expects, to abort
// the response.
//
// Place it directly inside the client-identity guard (package clientip), so
// that the 500 and the log line carry the request ID:
//
//	h = rec.Handler(h)
//	h = identity.Handler(h)
//
// Limitation: the guard does not wrap the ResponseWriter (a wrapper would
// cost an allocation on every request and hide optional interfaces such as
// http.Flusher), so it cannot tell whether the handler had already started
// its response. A handler that panics after writing its headers gets no
// problem body; net/http logs a "superfluous WriteHeader call" and the
// client sees the partial response followed by the problem JSON. Handlers
// that stream should recover themselves, or panic with
// http.ErrAbortHandler to cut the connection.
package recovery

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

// Detail is the client-facing explanation in the 500 problem.
const Detail = "an internal error occurred; quote the request ID when reporting it"

// Options configures a Recoverer.
type Options struct {
	// Logger receives one Error record per panic, with the panic value, the
	// stack, the request ID, method and path (never the query string or
	// headers, which may hold secrets). Default slog.Default().
	Logger *slog.Logger
	// Audit receives one event per recovered panic (reason "panic").
	// Default: no audit.
	Audit audit.Sink
	// ErrorHandler writes the 500 problem. Default problem.Write.
	ErrorHandler problem.Handler
}

// Recoverer recovers panics; build it with New. It is safe for concurrent
// use.
type Recoverer struct {
	log  *slog.Logger
	deny problem.Denier
}

// New returns a Recoverer.
func New(opts Options) (*Recoverer, error) {
	return &Recoverer{
		log:  opts.Logger,
		deny: problem.Denier{Guard: "recovery", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}, nil
}

// Handler returns next wrapped so that a panic in it is logged and answered
// with a 500 problem. It adds no allocation when nothing panics.
func (rc *Recoverer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				rc.recovered(w, r, v)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (rc *Recoverer) recovered(w http.ResponseWriter, r *http.Request, v any) {
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v) // net/http aborts the response silently
	}
	l := rc.log
	if l == nil {
		l = slog.Default()
	}
	var rid string
	if st := reqctx.From(r.Context()); st != nil {
		rid = st.RequestID()
	}
	path := ""
	if r.URL != nil {
		path = r.URL.Path
	}
	l.LogAttrs(r.Context(), slog.LevelError, "panic recovered",
		slog.String("panic", fmt.Sprint(v)),
		slog.String("request_id", rid),
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.String("stack", string(debug.Stack())),
	)
	p := problem.New(http.StatusInternalServerError, problem.TypeInternal, Detail).WithReason("panic")
	rc.deny.Deny(w, r, p)
}
