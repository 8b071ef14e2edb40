// Package accesslog writes one structured line per request (the seeds'
// enable_logging()): method, route, status, duration, bytes, request ID,
// client IP and principal. It never logs secrets: no query strings, no
// headers, no bodies — only the matched route pattern or the path.
//
// Each line has the message "request" and the attributes method, route
// (the pattern the router recorded, else the path), status, duration and
// bytes; aborted (true) when a panic passed through unanswered; and, when
// known, request_id, client_ip and principal ("method:subject", e.g.
// "jwt:alice").
//
// A client chooses the method and the path, and net/http accepts either
// up to a megabyte long: written whole, they would let any client grow the
// log by a megabyte per request, and a decoded path may hold newlines or
// characters that hide text in a log viewer. So the method is cut to 32
// bytes, the path (of a request no route matched) and the principal to
// 256, every unprintable byte is written as \xNN, and a cut value ends with
// "…(N bytes)", N its full length. A line is a few hundred bytes at most,
// whatever the request.
package accesslog

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/internal/logsafe"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/respwriter"
)

// Options configure the access log.
type Options struct {
	// Logger receives the lines. Default: a logger that discards them.
	Logger *slog.Logger
	// Level of each line. Default slog.LevelInfo.
	Level slog.Level
}

// Log is the access-log guard.
type Log struct {
	logger *slog.Logger
	level  slog.Level
	pool   sync.Pool
}

// New returns an access-log guard. Every Options value is valid; the
// error is there for the shape every guard shares.
func New(opts Options) (*Log, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{logger: opts.Logger, level: opts.Level}
	l.pool.New = func() any { return new(respwriter.Writer) }
	return l, nil
}

// Handler logs one line per request handled by next.
func (l *Log) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.logger.Enabled(r.Context(), l.level) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		r, st := reqctx.Ensure(r) // guards and routers inside record into it
		rw := l.pool.Get().(*respwriter.Writer)
		rw.Reset(w)
		defer func() {
			// A panic still unwinding here was not answered (place
			// recovery inside this guard, so that panics reach it as 500s):
			// the line records it, and the panic goes on.
			aborted := recover()
			status := rw.StatusOrOK()
			if aborted != nil && rw.Status == 0 {
				status = http.StatusInternalServerError
			}
			route := reqctx.RouteOf(r)
			var buf [9]slog.Attr // room for every attribute: no allocation
			attrs := append(buf[:0],
				slog.String("method", logsafe.Method(r.Method)),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rw.Bytes),
			)
			if aborted != nil {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			if id := st.RequestID(); id != "" {
				attrs = append(attrs, slog.String("request_id", id))
			}
			if st.ClientIP.IsValid() {
				attrs = append(attrs, slog.String("client_ip", st.ClientIP.String()))
			}
			if st.PrincipalID != "" {
				attrs = append(attrs, slog.String("principal", logsafe.Value(st.PrincipalID)))
			}
			l.logger.LogAttrs(r.Context(), l.level, "request", attrs...)
			rw.Reset(nil)
			l.pool.Put(rw)
			if aborted != nil {
				panic(aborted)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}
