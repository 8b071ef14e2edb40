// Package recovery turns a panicking handler into a 500 problem response.
//
// The stack trace and the panic value go to the log, never to the client:
// the client gets an RFC 9457 problem of type problem.TypeInternal with a
// generic detail and the request ID, so that an operator can find the log
// line. http.ErrAbortHandler is re-panicked, as net/http expects, to abort
// the response.
//
// Place it inside the client-identity guard (package clientip), so that
// the 500 and the log line carry the request ID, and inside the access log,
// so that the log records the 500 (bulwark.Policy does both):
//
//	h = rec.Handler(h)
//	h = accessLog.Handler(h)
//	h = identity.Handler(h)
//
// The guard watches whether the handler has started its response (through
// a pooled wrapper, or the access log's when it runs outside: no allocation
// either way). A panic before anything was written gets the 500 problem. A
// panic after the status line went out cannot become a 500 any more: the
// guard logs and audits it, then aborts the response with
// http.ErrAbortHandler, so that the client sees a cut connection (an
// incomplete response) rather than a truncated body that claims success.
// The wrapper passes on http.Flusher, http.Hijacker (WebSocket upgrades;
// a hijacked connection counts as started) and io.ReaderFrom (sendfile),
// and keeps http.ResponseController working through Unwrap.
package recovery

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/logsafe"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/respwriter"
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
	// Audit receives one event per recovered panic: reason "panic" for a
	// 500, "panic_after_response_started" (with the status already sent)
	// for an aborted response. Default: no audit.
	Audit audit.Sink
	// ErrorHandler writes the 500 problem. Default problem.Write.
	ErrorHandler problem.Handler
}

// Recoverer recovers panics; build it with New. It is safe for concurrent
// use.
type Recoverer struct {
	log  *slog.Logger
	deny problem.Denier
	pool sync.Pool
}

// New returns a Recoverer.
func New(opts Options) (*Recoverer, error) {
	rc := &Recoverer{
		log:  opts.Logger,
		deny: problem.Denier{Guard: "recovery", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	rc.pool.New = func() any { return new(respwriter.Writer) }
	return rc, nil
}

// Handler returns next wrapped so that a panic in it is logged and answered
// with a 500 problem (or, once the response has started, aborted). It adds
// no allocation when nothing panics.
func (rc *Recoverer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, shared := w.(*respwriter.Writer) // the access log's, when it runs outside
		if !shared {
			rw = rc.pool.Get().(*respwriter.Writer)
			rw.Reset(w)
			defer func() { rw.Reset(nil); rc.pool.Put(rw) }()
		}
		defer func() {
			if v := recover(); v != nil {
				rc.recovered(rw, r, v)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

func (rc *Recoverer) recovered(rw *respwriter.Writer, r *http.Request, v any) {
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
		path = logsafe.Path(r.URL.Path) // the client's, like the method: bounded
	}
	started := rw.Status != 0
	msg := "panic recovered"
	if started {
		msg = "panic recovered after the response started; connection aborted"
	}
	l.LogAttrs(r.Context(), slog.LevelError, msg,
		slog.String("panic", fmt.Sprint(v)),
		slog.String("request_id", rid),
		slog.String("method", logsafe.Method(r.Method)),
		slog.String("path", path),
		slog.String("stack", string(debug.Stack())),
	)
	if started {
		if a := rc.deny.Audit; a != nil {
			e := audit.FromRequest(r, "recovery", audit.Deny, "panic_after_response_started")
			e.Status = rw.Status
			a.Record(r.Context(), e)
		}
		panic(http.ErrAbortHandler) // net/http closes the connection without a log line of its own
	}
	p := problem.New(http.StatusInternalServerError, problem.TypeInternal, Detail).WithReason("panic")
	rc.deny.Deny(rw, r, p)
}
