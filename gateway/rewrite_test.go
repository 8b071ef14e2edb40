package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/bulwark-go/bulwark/clientip"
)

// rewriteOnce runs rewrite on a request from remote, as the gateway's
// client identity resolved it, and returns the outbound headers.
func rewriteOnce(t *testing.T, remote string, in http.Header) http.Header {
	t.Helper()
	id, err := clientip.New(clientip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://upstream.internal:9000")
	f := &forwarder{pool: &pool{}, requestIDHeader: "X-Request-Id"}
	var out http.Header
	id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr := &httputil.ProxyRequest{In: r, Out: r.Clone(r.Context())}
		f.rewrite(pr, &target{url: u})
		out = pr.Out.Header
	})).ServeHTTP(httptest.NewRecorder(), func() *http.Request {
		r := httptest.NewRequest("GET", "http://api.example.com:8080/x", nil)
		r.RemoteAddr = remote
		for k, v := range in {
			r.Header[k] = v
		}
		return r
	}())
	return out
}

func TestRewriteForwardingHeaders(t *testing.T) {
	h := rewriteOnce(t, "[2001:db8::1]:4000", http.Header{"Forwarded": {"for=1.2.3.4"}, "X-Real-Ip": {"1.2.3.4"}, "Tracestate": {"a=b"}})
	if got := h.Get("X-Forwarded-For"); got != "2001:db8::1" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if got := h.Values("Forwarded"); len(got) != 1 || got[0] != `for="[2001:db8::1]";host="api.example.com:8080";proto=http` {
		t.Errorf("Forwarded = %q", got)
	}
	if h.Get("X-Forwarded-Host") != "api.example.com:8080" || h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Real-Ip") != "" {
		t.Errorf("headers %v", h)
	}
	if !validTraceparent(h.Get("Traceparent")) || h.Get("Tracestate") != "" || !clientip.ValidRequestID(h.Get("X-Request-Id")) {
		t.Errorf("trace and request ID: %v", h)
	}
	// The values share memory: appending to one must not touch another.
	fwd, proto := h.Get("Forwarded"), h.Get("X-Forwarded-Proto")
	for _, k := range []string{"X-Forwarded-For", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "Traceparent"} {
		h.Add(k, "appended")
	}
	if h.Values("Forwarded")[0] != fwd || h.Values("X-Forwarded-Proto")[0] != proto || h.Values("X-Forwarded-Host")[0] != "api.example.com:8080" {
		t.Errorf("an append overwrote a neighbour: %v", h)
	}

	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	h = rewriteOnce(t, "192.0.2.7:1", http.Header{"Traceparent": {tp}, "Tracestate": {"a=b"}})
	if h.Get("Traceparent") != tp || h.Get("Tracestate") != "a=b" {
		t.Errorf("a valid trace context was not kept: %v", h)
	}
	if got := h.Get("Forwarded"); got != `for=192.0.2.7;host="api.example.com:8080";proto=http` || h.Get("X-Forwarded-For") != "192.0.2.7" {
		t.Errorf("Forwarded = %q, X-Forwarded-For = %q", got, h.Get("X-Forwarded-For"))
	}
}

func TestStripNormalised(t *testing.T) {
	h := http.Header{"X-Auth-Subject": {"a"}, "X_auth_subject": {"b"}, "X-Other": {"c"}}
	newHeaderSet([]string{"x-auth-SUBJECT"}).removeFrom(h)
	if len(h) != 1 || h.Get("X-Other") != "c" {
		t.Errorf("left %v", h)
	}
}
