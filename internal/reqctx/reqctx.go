// Package reqctx holds the per-request state that Bulwark's guards share:
// the request ID, the resolved client IP, whether the request arrived over
// HTTPS (as seen directly or through a trusted proxy), and the authenticated
// principal once a guard has set one.
//
// The state is allocated once per request, together with the context that
// carries it, by the outermost guard that needs it: the client-identity
// guard, or the access log or metrics around it (the identity guard then
// fills in theirs). Later guards fill in fields (the principal) in place,
// and a router the pattern it matched (after the handler returns): all of
// them run on the request's goroutine, so no synchronisation is needed. A
// guard's Check records into a copy (Fork), never into its caller's state.
// Handlers must treat the state as read-only.
package reqctx

import (
	"context"
	"net/http"
	"net/netip"
	"unsafe"

	"github.com/bulwark-go/bulwark/internal/logsafe"
)

// MaxRequestIDLen is the longest request ID kept in the state.
const MaxRequestIDLen = 64

// State is what Bulwark knows about one request.
type State struct {
	// ClientIP is the resolved client address (zero when unknown).
	ClientIP netip.Addr
	// Secure reports whether the client connected over HTTPS, directly or
	// through a trusted proxy that said so.
	Secure bool

	// Principal is the authenticated caller, set by an authn guard (an
	// *authn.Principal); nil when anonymous.
	Principal any
	// PrincipalID is the principal's stable identifier, for logs and keys.
	PrincipalID string
	// Route is the matched route pattern, recorded by a router that knows it
	// (r.Pattern is only visible on the request the mux received).
	Route string
	// CSPNonce is the response's Content-Security-Policy nonce, set by the
	// headers guard when its policy uses one; handlers read it with
	// csp.Nonce(ctx). Storing it here spares a context and request copy.
	CSPNonce string
	// Session is the request's browser session (a *session.Session), set
	// by the session Handler for the handlers it wraps; nil elsewhere.
	// Storing it here spares a context and request copy per request.
	Session any

	idLen int
	id    [MaxRequestIDLen]byte
	// hdr backs the X-Request-ID response header value so that echoing it
	// needs no allocation.
	hdr [1]string
}

// SetRequestID copies id (truncated to MaxRequestIDLen) into the state.
func (s *State) SetRequestID(id []byte) {
	s.idLen = copy(s.id[:], id)
	s.hdr[0] = s.RequestID()
}

// RequestID returns the request ID; the string shares the state's memory,
// which is never modified after SetRequestID.
func (s *State) RequestID() string {
	if s == nil || s.idLen == 0 {
		return ""
	}
	return unsafe.String(&s.id[0], s.idLen)
}

// HeaderValue returns a one-element slice holding the request ID, suitable
// for assigning straight into an http.Header without allocating.
func (s *State) HeaderValue() []string { return s.hdr[:] }

type key struct{}

// stateCtx is a context carrying a State; allocating both together halves
// the identity guard's allocations.
type stateCtx struct {
	context.Context
	st State
}

func (c *stateCtx) Value(k any) any {
	if k == (key{}) {
		return &c.st
	}
	return c.Context.Value(k)
}

// New returns a child of parent carrying a fresh, zero State, and that state.
func New(parent context.Context) (context.Context, *State) {
	c := &stateCtx{Context: parent}
	return c, &c.st
}

// From returns the request state in ctx, or nil if no identity guard ran.
func From(ctx context.Context) *State {
	if c, ok := ctx.(*stateCtx); ok { // the common case: identity is the outermost guard
		return &c.st
	}
	s, _ := ctx.Value(key{}).(*State)
	return s
}

// Ensure returns r's state, attaching a new one (and returning the new
// request) when no identity guard ran before. Guards that record into the
// state call it so they also work when used alone.
func Ensure(r *http.Request) (*http.Request, *State) {
	if s := From(r.Context()); s != nil {
		return r, s
	}
	ctx, s := New(r.Context())
	return r.WithContext(ctx), s
}

// Fork returns r with a copy of its state (a fresh state when it has
// none) in a new context, and that copy: a decision that must not change
// the request it was given (a guard's Check) records into the copy.
func Fork(r *http.Request) (*http.Request, *State) {
	old := From(r.Context())
	ctx, st := New(r.Context())
	if old != nil {
		*st = *old
		st.hdr[0] = st.RequestID() // the copy's own bytes
	}
	return r.WithContext(ctx), st
}

// Pattern returns the route pattern that matched r: the one a router
// recorded in the state, else r.Pattern; "" when no router matched it (or
// none has yet).
func Pattern(r *http.Request) string {
	if s := From(r.Context()); s != nil && s.Route != "" {
		return s.Route
	}
	return r.Pattern
}

// RouteOf returns the best name for r's route, for logs: Pattern, else
// the path, bounded and sanitised (logsafe.Path), since a client chose it.
func RouteOf(r *http.Request) string {
	if p := Pattern(r); p != "" {
		return p
	}
	if r.URL != nil {
		return logsafe.Path(r.URL.Path)
	}
	return ""
}
