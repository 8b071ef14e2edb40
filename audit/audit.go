// Package audit records security decisions as structured events.
//
// Every denial by a Bulwark guard emits exactly one Event through a Sink,
// carrying the same request ID as the problem response the client sees, so
// an operator can join the two. Events never carry secrets: no tokens,
// passwords, API keys or cookie values — only reason codes and identifiers.
//
// Nor do they carry anything a client sent at full length: a refused
// request is often an attack, and its method and path are the client's to
// choose, up to a megabyte each. FromRequest cuts the method to 32 bytes
// and the path (of a request no route matched) and the principal to 256,
// and writes every unprintable byte as \xNN; a cut value ends with
// "…(N bytes)", N its full length. SlogSink does the same to the events it
// is handed, whoever built them, and cuts every string attribute to 1,024
// bytes, so that no event line outgrows a few kilobytes.
//
// # Reason codes
//
// Each guard documents its codes; by guard, they are:
//
//	clientip   forwarding_header_invalid, forwarding_headers_disagree,
//	           forwarding_header_too_long (a flag; so are the other two
//	           under TolerateInvalidForwarding)
//	recovery   panic, panic_after_response_started
//	cors       origin_not_allowed, null_origin_not_allowed,
//	           method_not_allowed, header_not_allowed,
//	           malformed_cors_request
//	bodylimit  body_too_large
//	ratelimit  rate_limited, cost_exceeds_limit, ratelimit_unavailable;
//	           its Store's outages (flags, and an allow for the end):
//	           ratelimit_fallback_local, ratelimit_fail_open,
//	           ratelimit_fail_closed, ratelimit_still_degraded,
//	           ratelimit_recovered
//	redisstore, redislimit  the circuit breaker of a Redis store (not
//	           about a request): store_unavailable,
//	           store_still_unavailable (flags), store_recovered (an allow)
//	abuse      the detector's Name (deny or flag), store_unavailable,
//	           store_unavailable_fail_open (a flag)
//	authn      token_missing, credentials_incomplete, authn_unavailable,
//	           authn_error, and its Authenticator's own (package jwt:
//	           token_malformed, signature_invalid, token_expired, …, one
//	           per class of refusal, tabled in its documentation, and
//	           jwks_unavailable from a remote key set; package basic:
//	           bad_credentials, basic_malformed, …, password_busy;
//	           package mtls: client_cert_untrusted, …, token_cert_mismatch)
//	csrf       csrf_cross_site, csrf_origin_mismatch, csrf_origin_malformed,
//	           csrf_fetch_metadata_malformed,
//	           csrf_referer_mismatch, csrf_referer_malformed,
//	           csrf_token_missing, csrf_token_expired, csrf_token_invalid,
//	           csrf_session_mismatch, csrf_xsrf_cookie_mismatch,
//	           csrf_form_too_large, body_too_large (both 413)
//	authz      no_principal, missing_role, missing_permission,
//	           insufficient_scope, not_owner, authz_misconfigured (a 500)
//	jwt        the token endpoints' codes (refresh_reused, …; see the jwt
//	           packages)
//	jwks       jwks_stale, jwks_unavailable, jwks_recovered (flags: a
//	           remote key set's changes of health, outside any request)
//	csp        csp_violation (a flag), rate_limited (the limiter's),
//	           body_too_large, malformed_report, unsupported_media_type,
//	           method_not_allowed
//
// problem.Denier records "denied" for a problem without a Reason.
package audit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/internal/logsafe"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// Decision is what a guard decided.
type Decision string

// Decisions a guard can record.
const (
	Deny  Decision = "deny"
	Allow Decision = "allow"
	Flag  Decision = "flag" // allowed, but worth an operator's attention
)

// Event is one security decision about one request.
type Event struct {
	Time      time.Time
	RequestID string
	ClientIP  string
	Principal string   // authn.Principal.ID: "method:subject", e.g. "jwt:alice"
	Guard     string   // "clientip", "cors", … (see Reason codes); authn's is its Options.Guard
	Decision  Decision // deny, allow or flag
	Reason    string   // a stable, machine-readable code, e.g. "token_expired"
	Status    int      // the HTTP status sent, 0 when none
	Method    string   // bounded and sanitised by FromRequest (see the package documentation)
	Route     string   // the matched route pattern, or the path (bounded and sanitised) when unrouted
	// Attrs holds extra, non-secret details; a denial whose problem has an
	// internal cause (problem.Err) carries its text as "error".
	Attrs []slog.Attr
}

// Sink receives audit events. Implementations must be safe for concurrent
// use and must not block the request for long.
type Sink interface {
	Record(ctx context.Context, e *Event)
}

// Nop is the default sink: it discards every event.
var Nop Sink = nopSink{}

type nopSink struct{}

func (nopSink) Record(context.Context, *Event) {}

// OrNop returns s, or Nop when s is nil.
func OrNop(s Sink) Sink {
	if s == nil {
		return Nop
	}
	return s
}

// SlogSink writes events to a *slog.Logger at Warn level for denials and
// flags, Info otherwise, under the message "security". Each record has
// the attributes event ("security"), guard, decision, reason, request_id,
// client_ip, method and route, then principal and status when set, then
// Attrs. Every string is bounded and sanitised on the way (see the package
// documentation): the event's fields to their FromRequest bounds, the
// string values of Attrs to 1,024 bytes.
type SlogSink struct{ Logger *slog.Logger }

// NewSlog returns a sink that writes to l.
func NewSlog(l *slog.Logger) *SlogSink { return &SlogSink{Logger: l} }

// NewJSONLines returns a sink writing one JSON object per event to w.
func NewJSONLines(w io.Writer) *SlogSink {
	return NewSlog(slog.New(slog.NewJSONHandler(w, nil)))
}

// Record implements Sink.
func (s *SlogSink) Record(ctx context.Context, e *Event) {
	level := slog.LevelInfo
	if e.Decision != Allow {
		level = slog.LevelWarn
	}
	if !s.Logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10+len(e.Attrs))
	attrs = append(attrs,
		slog.String("event", "security"),
		slog.String("guard", logsafe.Value(e.Guard)),
		slog.String("decision", logsafe.Value(string(e.Decision))),
		slog.String("reason", logsafe.Value(e.Reason)),
		slog.String("request_id", logsafe.Value(e.RequestID)),
		slog.String("client_ip", logsafe.Value(e.ClientIP)),
		slog.String("method", logsafe.Method(e.Method)),
		slog.String("route", logsafe.Path(e.Route)),
	)
	if e.Principal != "" {
		attrs = append(attrs, slog.String("principal", logsafe.Value(e.Principal)))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	for _, a := range e.Attrs {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(logsafe.Text(a.Value.String()))
		}
		attrs = append(attrs, a)
	}
	s.Logger.LogAttrs(ctx, level, "security", attrs...)
}

// FromRequest fills an Event from what Bulwark knows about r.
func FromRequest(r *http.Request, guard string, d Decision, reason string) *Event {
	e := &Event{
		Time:     time.Now(),
		Guard:    guard,
		Decision: d,
		Reason:   reason,
		Method:   logsafe.Method(r.Method),
		Route:    reqctx.RouteOf(r),
	}
	if st := reqctx.From(r.Context()); st != nil {
		e.RequestID = st.RequestID()
		if st.ClientIP.IsValid() {
			e.ClientIP = st.ClientIP.String()
		}
		e.Principal = logsafe.Value(st.PrincipalID)
	}
	return e
}

// Memory is a Sink that keeps events in memory, for tests.
// The zero value is ready to use.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// NewMemory returns an empty in-memory sink.
func NewMemory() *Memory { return &Memory{} }

// Record implements Sink.
func (m *Memory) Record(_ context.Context, e *Event) {
	m.mu.Lock()
	m.events = append(m.events, *e)
	m.mu.Unlock()
}

// Events returns a copy of the recorded events.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}
