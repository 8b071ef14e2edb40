package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// TypeConflict is the problem type of a 409 answer to a request whose
// session changes conflicted with a concurrent request's.
const TypeConflict = problem.BaseURI + "session-conflict"

// Handler loads the request's session (read it with FromContext) and
// saves its changes just before the response headers go out — at the
// handler's first WriteHeader, Write, Flush or ReadFrom, or when it
// returns having written nothing — so a handler that writes its body
// before it is done with the session loses nothing but the changes made
// after that (which need no new cookie and are then saved when it
// returns). A cookie that names no live session is no session: the
// request goes on anonymously, and the stale cookie is removed.
//
// When the save fails the handler's response is replaced: 409 (type
// TypeConflict, reason session_conflict) when a concurrent request
// changed the session first, 503 (session_unavailable) when the store
// cannot answer, 500 (session_cookie_too_large) for an encrypted cookie
// past MaxCookieSize. Call Session.Save first to answer otherwise.
//
// An error response (status 400 or above: a CSRF refusal, a 401, a 429)
// does not record activity: a session only read by a refused request keeps
// its idle deadline, since a refused request changes no state. Changes the
// handler made (Login, Logout, Set) are saved whatever the status.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := reqctx.From(r.Context())
		if st == nil { // no identity guard ran: the state starts here
			var ctx context.Context
			ctx, st = reqctx.New(r.Context())
			st.Secure = r.TLS != nil
			r = r.WithContext(ctx)
		}
		h := &handled{} // the session and the writer, one allocation
		s, sw := &h.s, &h.w
		m.loadInto(s, r, w.Header())
		sw.ResponseWriter, sw.s = w, s
		prev := st.Session // an outer Manager's, restored on the way out
		st.Session = s
		defer func() { st.Session = prev }()
		next.ServeHTTP(sw, r)
		if !sw.started {
			sw.begin()
			return
		}
		s.sent = true
		if err := s.save(); err != nil {
			// The response is out: all that is left is to say so.
			m.event(r, audit.Flag, "session_save_failed", s.Subject(), slog.String("error", err.Error()))
		}
	})
}

// handled is what Handler allocates per request.
type handled struct {
	s Session
	w writer
}

// writer saves the session before the first byte of the response.
type writer struct {
	http.ResponseWriter
	s       *Session
	started bool // the headers are out (or replaced by a problem)
	failed  bool // the save failed: the handler's response is dropped
}

// begin saves the session, once, and reports whether the handler's
// response may go out.
func (w *writer) begin() bool {
	if w.started {
		return !w.failed
	}
	w.started = true
	err := w.s.save()
	w.s.sent = true
	if err == nil {
		return true
	}
	w.failed = true
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Location", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	w.s.m.deny.Deny(w.ResponseWriter, w.s.r, saveProblem(err))
	return false
}

// saveProblem is the answer to a failed save.
func saveProblem(err error) *problem.Problem {
	switch {
	case errors.Is(err, ErrConflict):
		return problem.New(http.StatusConflict, TypeConflict, "the session was changed by another request at the same time; retry").
			WithReason("session_conflict").WithErr(err)
	case errors.Is(err, ErrCookieTooLarge):
		return problem.New(http.StatusInternalServerError, problem.TypeInternal, "the session could not be saved").
			WithReason("session_cookie_too_large").WithErr(err)
	}
	return problem.Unavailable(time.Second, "sessions are temporarily unavailable").
		WithReason("session_unavailable").WithErr(err)
}

func (w *writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: the response has not started
		return
	}
	if !w.started && code >= 400 {
		w.s.refused = true
	}
	if w.begin() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.begin() {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps sendfile working (net/http's writer implements it).
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if !w.begin() {
		return io.Copy(io.Discard, r)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

type writerOnly struct{ io.Writer }

func (w *writer) Flush() {
	if w.begin() {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.begin() {
		return nil, nil, http.ErrNotSupported
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var (
	_ authn.Authenticator = (*Manager)(nil)
	_ authn.Challenger    = (*Manager)(nil)
)

// Authenticate implements authn.Authenticator (step 6 of the request
// path): a logged-in session yields its Principal (Method "session",
// Source authn.SourceCookie, so a CSRF guard checks its unsafe requests).
// It reads the session Handler loaded, or loads it itself (saving
// nothing) when Handler did not run.
//
// No session cookie, or an anonymous session: authn.ErrNoCredentials. A
// cookie that names no live session: a 401 problem with reason
// session_invalid, session_unknown or session_expired. The store down:
// a 503 problem, reason session_unavailable. Put it after header-based
// authenticators in authn.AnyOf, so that a valid bearer token wins over
// a stale cookie.
func (m *Manager) Authenticate(r *http.Request) (*authn.Principal, error) {
	s, ok := FromContext(r.Context())
	if !ok || s.m != m {
		s = m.load(r, nil)
	}
	switch {
	case s.err != nil:
		return nil, problem.Unavailable(time.Second, "sessions are temporarily unavailable").
			WithReason("session_unavailable").WithErr(errors.Join(store.ErrUnavailable, s.err))
	case s.Authenticated():
		return s.Principal(), nil
	case s.fail != "":
		return nil, problem.New(http.StatusUnauthorized, problem.TypeUnauthorized, failDetail[s.fail]).WithReason(s.fail)
	}
	return nil, authn.ErrNoCredentials
}

var failDetail = map[string]string{
	ReasonInvalid: "the session cookie is not valid; log in again",
	ReasonUnknown: "the session has ended; log in again",
	ReasonExpired: "the session has expired; log in again",
}

// Challenge implements authn.Challenger: `Cookie realm="..."`. A 401
// must carry a challenge (RFC 9110 §15.5.2); browsers act on none but
// Basic and its kin, so this one only names how to authenticate: log in
// to get a session cookie.
func (m *Manager) Challenge(realm string) string { return problem.Challenge("Cookie", realm) }
