package problem_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

func request(t *testing.T, accept string) *http.Request {
	t.Helper()
	r := httptest.NewRequest("GET", "/api/things?token=secret", nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	ctx, st := reqctx.New(r.Context())
	st.SetRequestID([]byte("req-123"))
	return r.WithContext(ctx)
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	p := problem.TooManyRequests(1500*time.Millisecond, "slow down").WithErr(errors.New("internal: redis key rl:{1.2.3.4}"))
	problem.Write(w, request(t, "application/json"), p)

	if w.Code != 429 || w.Header().Get("Content-Type") != problem.ContentType || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, headers %v", w.Code, w.Header())
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type": problem.TypeRateLimited, "title": "Too Many Requests", "status": float64(429),
		"detail": "slow down", "instance": "/api/things", "request_id": "req-123", "retry_after": float64(2),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	if strings.Contains(w.Body.String(), "redis") || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("internal error or query leaked: %s", w.Body)
	}
}

func TestExtensionsCannotOverrideStandardMembers(t *testing.T) {
	w := httptest.NewRecorder()
	p := problem.New(403, problem.TypeForbidden, "no").With("status", 200).With("type", "x").With("extra", []int{1})
	problem.Write(w, request(t, ""), p)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["status"] != float64(403) || body["type"] != problem.TypeForbidden || body["extra"] == nil {
		t.Fatalf("body %s", w.Body)
	}
}

func TestWriteHTMLForBrowsers(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, request(t, "text/html,application/xhtml+xml"), problem.New(404, problem.TypeNotFound, "<script>x</script>"))
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Code != 404 {
		t.Fatalf("got %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(w.Body.String(), "<script>") {
		t.Fatal("detail not escaped")
	}
	// A client that accepts both gets JSON.
	w = httptest.NewRecorder()
	problem.Write(w, request(t, "text/html, application/problem+json"), problem.NotFound())
	if w.Header().Get("Content-Type") != problem.ContentType {
		t.Fatal("JSON-capable client got HTML")
	}
	// The format follows Accept, so caches must key on it.
	if v := w.Header().Values("Vary"); len(v) != 1 || v[0] != "Accept" {
		t.Fatalf("Vary = %q", v)
	}
}

// A problem written where no headers guard ran still cannot be sniffed,
// cached, framed or scripted; a policy's own values are kept.
func TestWriteProtectsItself(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, request(t, "text/html"), problem.New(400, problem.TypeBadRequest, "x"))
	for name, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := w.Header().Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	w = httptest.NewRecorder()
	w.Header().Set("Content-Security-Policy", "default-src 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	problem.Write(w, request(t, ""), problem.NotFound())
	if w.Header().Get("Content-Security-Policy") != "default-src 'self'" || w.Header().Get("Referrer-Policy") != "same-origin" {
		t.Fatalf("a policy's headers were replaced: %v", w.Header())
	}
}

func TestUnauthorizedChallenge(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, request(t, ""), problem.Unauthorized(problem.TypeUnauthorized, `Bearer realm="api"`, "token required"))
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

func TestInvalidStatusBecomes500(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, request(t, ""), &problem.Problem{Status: 200})
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
}

func TestDenierAuditsOnceAndUsesHook(t *testing.T) {
	sink := audit.NewMemory()
	var hooked bool
	d := problem.Denier{Guard: "test", Audit: sink, Handler: func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
		hooked = true
		w.WriteHeader(p.Status)
	}}
	w := httptest.NewRecorder()
	d.Deny(w, request(t, ""), problem.Forbidden(problem.TypeForbidden, "no").WithReason("because").WithErr(errors.New("why")))
	ev := sink.Events()
	if !hooked || w.Code != 403 || len(ev) != 1 {
		t.Fatalf("hooked=%v code=%d events=%d", hooked, w.Code, len(ev))
	}
	e := ev[0]
	if e.Guard != "test" || e.Reason != "because" || e.RequestID != "req-123" || e.Decision != audit.Deny || e.Status != 403 {
		t.Fatalf("event %+v", e)
	}
}

func TestErrorsAs(t *testing.T) {
	var err error = problem.New(422, problem.TypeValidation, "bad")
	if p, ok := problem.As(err); !ok || p.Status != 422 {
		t.Fatal("As failed")
	}
	if problem.RetryAfterSeconds(0) != 1 || problem.RetryAfterSeconds(1001*time.Millisecond) != 2 {
		t.Fatal("RetryAfterSeconds rounding")
	}
}

// TestDenierWrap: a check's refusal is denied with one audit event and
// next never runs; an admitted request reaches next as the check returned
// it.
func TestDenierWrap(t *testing.T) {
	sink := audit.NewMemory()
	d := problem.Denier{Guard: "test", Audit: sink}
	type key struct{}
	check := func(r *http.Request) (*http.Request, *problem.Problem) {
		if r.Header.Get("X-Refuse") != "" {
			return r, problem.Forbidden(problem.TypeForbidden, "no").WithReason("refused")
		}
		return r.WithContext(context.WithValue(r.Context(), key{}, "seen")), nil
	}
	var got any
	h := d.Wrap(check, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Context().Value(key{}) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || got != "seen" || len(sink.Events()) != 0 {
		t.Fatalf("admitted: %d %v %d events", w.Code, got, len(sink.Events()))
	}
	got = nil
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Refuse", "1")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 403 || got != nil || len(sink.Events()) != 1 || sink.Events()[0].Reason != "refused" {
		t.Fatalf("refused: %d %v %+v", w.Code, got, sink.Events())
	}
}

// TestClientValuesBounded: a problem does not echo a path longer than
// MaxInstance, and the audited cause is cut to 1,024 bytes.
func TestClientValuesBounded(t *testing.T) {
	long := "/" + strings.Repeat("a", problem.MaxInstance)
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("GET", long, nil), problem.NotFound())
	if strings.Contains(w.Body.String(), "instance") || w.Body.Len() > 512 {
		t.Fatalf("body %d bytes: %.200s", w.Body.Len(), w.Body)
	}
	w = httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("GET", long[:problem.MaxInstance], nil), problem.NotFound())
	if !strings.Contains(w.Body.String(), `"instance":"/aaa`) {
		t.Fatalf("a path of MaxInstance bytes left out: %.200s", w.Body)
	}

	mem := audit.NewMemory()
	d := problem.Denier{Guard: "g", Audit: mem}
	cause := errors.New("refused origin \"" + strings.Repeat("o", 100<<10) + "\"\n")
	d.Deny(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), problem.Forbidden(problem.TypeForbidden, "no").WithErr(cause))
	ev := mem.Events()
	if len(ev) != 1 || len(ev[0].Attrs) != 1 {
		t.Fatalf("events %+v", ev)
	}
	if got := ev[0].Attrs[0].Value.String(); len(got) > 1100 || !strings.HasSuffix(got, "…("+strconv.Itoa(len(cause.Error()))+" bytes)") {
		t.Fatalf("error attribute of %d bytes: %.100s…", len(got), got)
	}
}
