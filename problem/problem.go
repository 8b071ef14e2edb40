// Package problem writes RFC 9457 "problem details" responses.
//
// Every Bulwark guard denies through this package, so every denial a client
// sees has the same shape; here, ratelimit's 429:
//
//	HTTP/1.1 429 Too Many Requests
//	Content-Type: application/problem+json
//	Retry-After: 12
//
//	{"type":"https://bulwark.dev/problems/rate-limited","title":"Too Many Requests",
//	 "status":429,"detail":"rate limit exceeded; retry after the time given in Retry-After",
//	 "instance":"/api/login","request_id":"d7q7dw21gv9d92150fwbd0e2fa",
//	 "policy":"login","retry_after":12}
//
// A Problem separates what the client may see (Type, Title, Detail and
// extension members) from what only the operator may see (Err, logged
// through the audit sink, never written to the response).
//
// # Who sends which type
//
// Each type, its status, and what sends it:
//
//	bad-request                400  bind (unknown field, unreadable body); an
//	                                authenticator, for a malformed credential
//	                                request (jwt); the CSP report collector;
//	                                the demo's router (the target "*" with a
//	                                method other than OPTIONS)
//	forwarding-header-invalid  400  clientip
//	malformed-json             400  bind
//	unauthorized               401  authn (no or incomplete credentials, an
//	                                authenticator's unexpected error); authz
//	                                (no principal)
//	invalid-token              401  jwt; mtls.CertificateBound (a bound
//	                                token without its certificate)
//	invalid-credentials        401  a login handler (the demo's); basic (a
//	                                malformed header, bad credentials);
//	                                mtls (a bad client certificate)
//	forbidden                  403  authz (role, permission, ownership); cors
//	                                (a refused preflight); mtls (a
//	                                certificate the allow-lists refuse)
//	insufficient-scope         403  authz (scope)
//	csrf                       403  csrf (the origin check and the tokens;
//	                                the demo's /api/* runs the origin check)
//	abuse-detected             403  abuse
//	not-found                  404  NotFound (the demo's router)
//	method-not-allowed         405  MethodNotAllowed, with Allow (the demo's
//	                                router, the CSP report collector, the jwt
//	                                key-set handler)
//	body-too-large             413  bodylimit, bind, the CSP report collector
//	cost-exceeds-limit         413  ratelimit (ratelimit.TypeCostExceedsLimit)
//	unsupported-media-type     415  bind, the CSP report collector
//	validation-failed          422  bind, with "errors" (FieldError) when
//	                                fields are at fault
//	rate-limited               429  ratelimit, the CSP report collector; with
//	                                Retry-After
//	internal                   500  recovery; bind, when misused; an authz
//	                                shortcut misconfigured; unexpected errors
//	unavailable                503  a store outage: ratelimit under
//	                                FailClosed, authn, abuse without FailOpen,
//	                                jwt revocation and refresh; a remote
//	                                JWKS that cannot answer (jwks)
package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// MaxInstance is the longest request path Write copies into a problem's
// "instance" member; a longer path is left out rather than cut, since a
// cut path is not the URI of the occurrence.
const MaxInstance = 1024

// ContentType is the media type of problem responses.
const ContentType = "application/problem+json"

// BaseURI prefixes every problem type Bulwark defines. The URIs are stable
// identifiers: clients may switch on them.
const BaseURI = "https://bulwark.dev/problems/"

// Problem types. Each names one kind of denial and never changes meaning.
const (
	TypeBadRequest           = BaseURI + "bad-request"               // 400
	TypeForwardingHeader     = BaseURI + "forwarding-header-invalid" // 400: a trusted proxy's Forwarded/X-Forwarded-For is malformed
	TypeMalformedJSON        = BaseURI + "malformed-json"            // 400
	TypeUnauthorized         = BaseURI + "unauthorized"              // 401: no or unusable credentials
	TypeInvalidToken         = BaseURI + "invalid-token"             // 401: token present but invalid/expired/revoked
	TypeInvalidCredentials   = BaseURI + "invalid-credentials"       // 401: wrong username/password/API key
	TypeForbidden            = BaseURI + "forbidden"                 // 403
	TypeInsufficientScope    = BaseURI + "insufficient-scope"        // 403
	TypeCSRF                 = BaseURI + "csrf"                      // 403
	TypeAbuse                = BaseURI + "abuse-detected"            // 403
	TypeNotFound             = BaseURI + "not-found"                 // 404
	TypeMethodNotAllowed     = BaseURI + "method-not-allowed"        // 405
	TypeBodyTooLarge         = BaseURI + "body-too-large"            // 413
	TypeUnsupportedMediaType = BaseURI + "unsupported-media-type"    // 415
	TypeValidation           = BaseURI + "validation-failed"         // 422
	TypeRateLimited          = BaseURI + "rate-limited"              // 429
	TypeInternal             = BaseURI + "internal"                  // 500
	TypeUnavailable          = BaseURI + "unavailable"               // 503
)

// Problem is one RFC 9457 problem detail plus the private context a guard
// records about it.
type Problem struct {
	Type     string // a URI identifying the kind of problem; "about:blank" when empty
	Title    string // short summary of the type; the status text when empty
	Status   int    // the HTTP status code
	Detail   string // client-safe explanation of this occurrence
	Instance string // URI reference of this occurrence; the request path when empty

	// Extensions are extra members written at the top level of the JSON
	// object (for example "errors" or "retry_after"). Keys that collide with
	// the standard members are ignored.
	Extensions map[string]any

	// Reason is a stable machine-readable code for the audit log
	// ("token_expired", "origin_mismatch"); it is not sent to the client.
	Reason string
	// Err is the internal cause: logged, never sent.
	Err error

	headers [][2]string
}

// New returns a problem with the given status, type and client-safe detail.
func New(status int, typ, detail string) *Problem {
	return &Problem{Status: status, Type: typ, Detail: detail}
}

// Error implements error, so a Problem can travel as one; it never includes
// Err's text, which may be sensitive.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.title(), p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.title())
}

// Unwrap returns the internal cause.
func (p *Problem) Unwrap() error { return p.Err }

// With sets an extension member and returns p.
func (p *Problem) With(key string, value any) *Problem {
	if p.Extensions == nil {
		p.Extensions = make(map[string]any, 2)
	}
	p.Extensions[key] = value
	return p
}

// WithReason sets the audit reason code and returns p.
func (p *Problem) WithReason(code string) *Problem { p.Reason = code; return p }

// WithErr sets the internal cause and returns p.
func (p *Problem) WithErr(err error) *Problem { p.Err = err; return p }

// WithHeader adds a response header written with the problem and returns p.
func (p *Problem) WithHeader(name, value string) *Problem {
	p.headers = append(p.headers, [2]string{name, value})
	return p
}

// Header returns the value of a header added with WithHeader, or "".
func (p *Problem) Header(name string) string {
	for _, h := range p.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func (p *Problem) title() string {
	if p.Title != "" {
		return p.Title
	}
	if t := http.StatusText(p.Status); t != "" {
		return t
	}
	return "Error"
}

// As returns err as a *Problem when it is one (or wraps one).
func As(err error) (*Problem, bool) {
	var p *Problem
	ok := errors.As(err, &p)
	return p, ok
}

// Unauthorized returns a 401 problem with a WWW-Authenticate challenge
// (RFC 9110 §11.6.1), e.g. `Bearer realm="api"`.
func Unauthorized(typ, challenge, detail string) *Problem {
	p := New(http.StatusUnauthorized, typ, detail)
	if challenge != "" {
		p.WithHeader("WWW-Authenticate", challenge)
	}
	return p
}

// Forbidden returns a 403 problem.
func Forbidden(typ, detail string) *Problem { return New(http.StatusForbidden, typ, detail) }

// TooManyRequests returns a 429 problem with Retry-After in whole seconds
// (rounded up, at least 1) and the same figure as the "retry_after" member.
func TooManyRequests(retryAfter time.Duration, detail string) *Problem {
	p := New(http.StatusTooManyRequests, TypeRateLimited, detail)
	secs := RetryAfterSeconds(retryAfter)
	return p.WithHeader("Retry-After", strconv.FormatInt(secs, 10)).With("retry_after", secs)
}

// Unavailable returns a 503 problem; Retry-After is set when retryAfter > 0.
func Unavailable(retryAfter time.Duration, detail string) *Problem {
	p := New(http.StatusServiceUnavailable, TypeUnavailable, detail)
	if retryAfter > 0 {
		secs := RetryAfterSeconds(retryAfter)
		p.WithHeader("Retry-After", strconv.FormatInt(secs, 10)).With("retry_after", secs)
	}
	return p
}

// RetryAfterSeconds rounds d up to whole seconds, with a minimum of 1.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// NotFound returns a 404 problem.
func NotFound() *Problem {
	return New(http.StatusNotFound, TypeNotFound, "no resource at this path").WithReason("not_found")
}

// MethodNotAllowed returns a 405 problem with the Allow header.
func MethodNotAllowed(allow []string) *Problem {
	p := New(http.StatusMethodNotAllowed, TypeMethodNotAllowed, "method not allowed for this resource").WithReason("method_not_allowed")
	return p.WithHeader("Allow", strings.Join(allow, ", "))
}

// FieldError is one invalid input field in a 422 problem's "errors" member.
type FieldError struct {
	Field   string `json:"field"`   // JSON name (dotted path for nested fields)
	Message string `json:"message"` // client-safe explanation
	Rule    string `json:"rule,omitempty"`
}

// Validation returns a 422 problem listing the invalid fields.
func Validation(errs []FieldError) *Problem {
	return New(http.StatusUnprocessableEntity, TypeValidation, "the request body failed validation").
		With("errors", errs).WithReason("validation_failed")
}

var valNosniff = []string{"nosniff"}

// problemDefaults are set on a problem response unless already present.
var problemDefaults = []struct {
	name string
	val  []string
}{
	{"Cache-Control", []string{"no-store"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
}

// varyAccept is the shared Vary value of problem responses; its length
// equals its capacity, so that appending to it copies.
var varyAccept = []string{"Accept"}

// Write sends p to the client: problem+json, or a minimal HTML page when
// the client accepts HTML but not JSON. It fills Instance from the request
// path (left out when longer than MaxInstance bytes: a problem never
// echoes a megabyte a client sent) and the request ID from the request
// state. Write never writes Err.
// It sets X-Content-Type-Options: nosniff and, where absent, no-store
// caching, a CSP that allows nothing, X-Frame-Options: DENY and
// Referrer-Policy: no-referrer, so that a problem is safe even where no
// headers guard ran first. It adds Accept to Vary, since the body's format
// follows Accept.
func Write(w http.ResponseWriter, r *http.Request, p *Problem) {
	h := w.Header()
	for _, kv := range p.headers {
		h.Set(kv[0], kv[1])
	}
	// Whatever the handler meant to send is replaced by the problem.
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Del("Last-Modified")
	// A problem protects itself even where no headers guard ran before it
	// (the client-identity guard's 400 comes first): nothing may sniff,
	// cache, frame or script it. Values a headers policy already set win.
	h["X-Content-Type-Options"] = valNosniff
	for _, d := range problemDefaults {
		if len(h[d.name]) == 0 {
			h[d.name] = d.val
		}
	}
	// The body's format follows Accept. A shared, full slice when Vary is
	// absent (no allocation on a flood of refusals); appended to otherwise.
	if v := h["Vary"]; len(v) == 0 {
		h["Vary"] = varyAccept
	} else {
		h["Vary"] = append(v[:len(v):len(v)], "Accept")
	}
	var rid, instance string
	if r != nil {
		if st := reqctx.From(r.Context()); st != nil {
			rid = st.RequestID()
		}
		if r.URL != nil {
			if instance = r.URL.EscapedPath(); len(instance) > MaxInstance {
				instance = ""
			}
		}
	}
	if p.Instance != "" {
		instance = p.Instance
	}
	status := p.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if r != nil && prefersHTML(r.Header.Get("Accept")) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(p.html(status, rid))
		return
	}
	h.Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(p.marshal(status, instance, rid))
}

// Marshal returns p's JSON body as Write would send it for instance and
// request ID rid.
func (p *Problem) Marshal(instance, rid string) []byte {
	return p.marshal(p.Status, instance, rid)
}

var standardMembers = map[string]bool{"type": true, "title": true, "status": true, "detail": true, "instance": true, "request_id": true}

func (p *Problem) marshal(status int, instance, rid string) []byte {
	var b bytes.Buffer
	b.Grow(256)
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	b.WriteString(`{"type":`)
	writeJSONString(&b, typ)
	b.WriteString(`,"title":`)
	writeJSONString(&b, p.title())
	b.WriteString(`,"status":`)
	b.WriteString(strconv.Itoa(status))
	if p.Detail != "" {
		b.WriteString(`,"detail":`)
		writeJSONString(&b, p.Detail)
	}
	if instance != "" {
		b.WriteString(`,"instance":`)
		writeJSONString(&b, instance)
	}
	if rid != "" {
		b.WriteString(`,"request_id":`)
		writeJSONString(&b, rid)
	}
	if len(p.Extensions) > 0 {
		keys := make([]string, 0, len(p.Extensions))
		for k := range p.Extensions {
			if !standardMembers[k] {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			v, err := json.Marshal(p.Extensions[k])
			if err != nil {
				continue // an unencodable extension is dropped, never a 500
			}
			b.WriteByte(',')
			writeJSONString(&b, k)
			b.WriteByte(':')
			b.Write(v)
		}
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	v, _ := json.Marshal(s) // strings always encode
	b.Write(v)
}

func (p *Problem) html(status int, rid string) []byte {
	var b bytes.Buffer
	title := html.EscapeString(p.title())
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d %s</title></head>\n<body><h1>%d %s</h1>\n", status, title, status, title)
	if p.Detail != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p.Detail))
	}
	if rid != "" {
		fmt.Fprintf(&b, "<p><small>Request ID: %s</small></p>\n", html.EscapeString(rid))
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// prefersHTML reports whether an Accept header asks for HTML and not JSON:
// browsers navigating to a page get a readable page, API clients JSON.
func prefersHTML(accept string) bool {
	if accept == "" || !strings.Contains(accept, "text/html") {
		return false
	}
	return !strings.Contains(accept, "json")
}

// Handler writes a problem response. Guards accept one as their error hook
// so an application can shape its own 401/403/429 bodies; Write is the
// default.
type Handler func(w http.ResponseWriter, r *http.Request, p *Problem)

// Denier is the one path by which a guard refuses a request: it records
// exactly one audit event and then hands the problem to the error hook.
// The zero value audits nowhere and writes with Write.
type Denier struct {
	Guard   string     // the guard's name in audit events
	Audit   audit.Sink // nil: no audit
	Handler Handler    // nil: Write
}

// A Checker is the decision every guard that can deny offers beside its
// Handler. Check never writes a response and never changes the request it
// is given: it returns the request to pass on, carrying whatever the guard
// learned (the client's identity, the principal), and the problem the
// guard would answer with, or nil when the request passes. Handler is
// Check plus the writing.
type Checker interface {
	Check(r *http.Request) (*http.Request, *Problem)
}

// Wrap returns next behind check, a guard's decision (the shape of every
// guard's Check): a request check refuses is answered with its problem
// through Deny; any other goes on to next as check returned it. It is the
// Handler of a guard whose decision is all it does.
func (d Denier) Wrap(check func(*http.Request) (*http.Request, *Problem), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, p := check(r)
		if p != nil {
			d.Deny(w, r, p)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Deny audits p and writes it. The event carries p.Err's text, if any, as
// the attribute "error", cut to 1,024 bytes and sanitised: a cause may
// quote what the client sent.
func (d Denier) Deny(w http.ResponseWriter, r *http.Request, p *Problem) {
	if d.Audit != nil {
		reason := p.Reason
		if reason == "" {
			reason = "denied"
		}
		e := audit.FromRequest(r, d.Guard, audit.Deny, reason)
		e.Status = p.Status
		if p.Err != nil {
			e.Attrs = append(e.Attrs, slogError(p.Err))
		}
		d.Audit.Record(r.Context(), e)
	}
	if d.Handler != nil {
		d.Handler(w, r, p)
		return
	}
	Write(w, r, p)
}
