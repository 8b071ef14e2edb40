package csp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"unsafe"

	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// Header names.
const (
	HeaderCSP           = "Content-Security-Policy"
	HeaderCSPReportOnly = "Content-Security-Policy-Report-Only"
)

// nonceBytes is the nonce's entropy: 128 bits, as CSP recommends.
const nonceBytes = 16

// NonceLen is the length of a nonce in characters: base64 (with padding)
// of 16 bytes.
const NonceLen = (nonceBytes + 2) / 3 * 4

// Headers sends an enforced policy, a report-only policy, or both side by
// side (a staged rollout: enforce the current policy, report on the next).
// When either uses a nonce, both share the same per-request nonce, since a
// page carries one nonce attribute per element. Build it once with
// NewHeaders; it is immutable and safe for concurrent use.
type Headers struct {
	enforce, reportOnly       *CSP
	enforceVal, reportOnlyVal []string // fixed values, when no nonce
	nonce                     bool
	size                      int // bytes of nonce + rendered values
	alloc                     func() (*[2]string, []byte)
}

// NewHeaders returns the header set for enforce and reportOnly; either may
// be nil. It returns nil when both are.
func NewHeaders(enforce, reportOnly *CSP) *Headers {
	if enforce == nil && reportOnly == nil {
		return nil
	}
	hs := &Headers{enforce: enforce, reportOnly: reportOnly}
	hs.size = NonceLen
	if enforce != nil {
		hs.nonce = hs.nonce || enforce.UsesNonce()
		hs.enforceVal = []string{enforce.Render("")}
		hs.size += enforce.renderedLen(NonceLen)
	}
	if reportOnly != nil {
		hs.nonce = hs.nonce || reportOnly.UsesNonce()
		hs.reportOnlyVal = []string{reportOnly.Render("")}
		hs.size += reportOnly.renderedLen(NonceLen)
	}
	hs.alloc = allocator(hs.size)
	return hs
}

// UsesNonce reports whether Apply draws a nonce per request.
func (hs *Headers) UsesNonce() bool { return hs != nil && hs.nonce }

// Apply sets the CSP headers on h for one request. Without a nonce it
// assigns pre-built values and returns r unchanged (no allocation). With
// a nonce it draws 16 bytes from crypto/rand and renders the headers into
// one allocation (two for policies over 992 bytes); the nonce goes into
// the request's reqctx state when the identity guard created one (r is
// returned unchanged), else into a new context (one more allocation, plus
// the request copy). Nonce reads it from either.
func (hs *Headers) Apply(h http.Header, r *http.Request) *http.Request {
	if hs == nil {
		return r
	}
	if !hs.nonce {
		if hs.enforceVal != nil {
			h[HeaderCSP] = hs.enforceVal
		}
		if hs.reportOnlyVal != nil {
			h[HeaderCSPReportOnly] = hs.reportOnlyVal
		}
		return r
	}
	vals, buf := hs.alloc()
	// The random bytes are drawn into buf just after the nonce's place,
	// where the rendered headers overwrite them below (buf holds at least
	// 96 bytes, and a nonce policy renders more than nonceBytes): a stack
	// array would escape to the heap under the race detector, one
	// allocation more.
	raw := buf[NonceLen : NonceLen+nonceBytes]
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (it crashes the program instead)
	base64.StdEncoding.Encode(buf[:NonceLen], raw)
	buf = buf[:NonceLen:hs.size]
	// The strings below share buf, which is never written again.
	nonce := unsafe.String(unsafe.SliceData(buf), NonceLen)
	if p := hs.enforce; p != nil {
		start := len(buf)
		buf = p.appendRendered(buf, nonce)
		vals[0] = unsafe.String(&buf[start], len(buf)-start)
		h[HeaderCSP] = vals[0:1:1]
	}
	if p := hs.reportOnly; p != nil {
		start := len(buf)
		buf = p.appendRendered(buf, nonce)
		vals[1] = unsafe.String(&buf[start], len(buf)-start)
		h[HeaderCSPReportOnly] = vals[1:2:2]
	}
	if st := reqctx.From(r.Context()); st != nil {
		// The common case: the identity guard ran first and its state
		// carries the nonce; no context or request copy is needed.
		st.CSPNonce = nonce
		return r
	}
	return r.WithContext(&nonceCtx{Context: r.Context(), nonce: nonce})
}

// Handler returns middleware that sets the CSP headers on every response
// before calling next.
func (hs *Headers) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, hs.Apply(w.Header(), r))
	})
}

// Handler returns middleware that enforces p on every response. To send
// a report-only policy beside it, use NewHeaders(p, next).Handler, or the
// headers package, which sends every security header at once.
func (p *CSP) Handler(next http.Handler) http.Handler {
	return NewHeaders(p, nil).Handler(next)
}

// perRequest holds one response's CSP header values and, in buf, the
// bytes they and the nonce share: one allocation per response, sized by
// the policy to a malloc size class (32 bytes of values + buf = 128, 256,
// 512 or 1024), with only the first 32 bytes scanned by the GC.
type perRequest[B bufArray] struct {
	vals [2]string
	buf  B
}

type bufArray interface {
	[96]byte | [224]byte | [480]byte | [992]byte
}

func allocFor[B bufArray]() (*[2]string, []byte) {
	p := new(perRequest[B])
	return &p.vals, unsafe.Slice((*byte)(unsafe.Pointer(&p.buf)), len(p.buf))
}

// allocator returns the cheapest allocation function for size bytes.
func allocator(size int) func() (*[2]string, []byte) {
	switch {
	case size <= 96:
		return allocFor[[96]byte]
	case size <= 224:
		return allocFor[[224]byte]
	case size <= 480:
		return allocFor[[480]byte]
	case size <= 992:
		return allocFor[[992]byte]
	}
	return func() (*[2]string, []byte) { return new([2]string), make([]byte, size) }
}

// nonceCtx carries the nonce when the request has no reqctx state.
type nonceCtx struct {
	context.Context
	nonce string
}

type nonceKey struct{}

// Value returns c for nonceKey and defers to the parent otherwise.
func (c *nonceCtx) Value(k any) any {
	if _, ok := k.(nonceKey); ok {
		return c
	}
	return c.Context.Value(k)
}

// Nonce returns the request's CSP nonce for templates
// (<script nonce="{{.Nonce}}">), or "" when the request passed through no
// nonce policy. The value is base64 and safe in an HTML attribute.
func Nonce(ctx context.Context) string {
	if c, ok := ctx.(*nonceCtx); ok {
		return c.nonce
	}
	if st := reqctx.From(ctx); st != nil && st.CSPNonce != "" {
		return st.CSPNonce
	}
	if c, ok := ctx.Value(nonceKey{}).(*nonceCtx); ok {
		return c.nonce
	}
	return ""
}
