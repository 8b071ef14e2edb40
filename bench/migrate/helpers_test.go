package migrate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// ok answers 200 "ok": the handler every guard wraps.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
})

// req builds a server request; headers come in name, value pairs.
func req(method, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// serve runs r through h.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// both serves the same request (built twice, so that neither sees the
// other's changes) by the peer and by Bulwark.
func both(peer, bw http.Handler, mk func() *http.Request) (p, b *httptest.ResponseRecorder) {
	return serve(peer, mk()), serve(bw, mk())
}

func wantStatus(t *testing.T, who string, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Errorf("%s: status %d, want %d (headers %v, body %q)", who, w.Code, status, w.Header(), w.Body.String())
	}
}

func wantHeader(t *testing.T, who string, w *httptest.ResponseRecorder, name, value string) {
	t.Helper()
	if got := w.Header().Get(name); got != value {
		t.Errorf("%s: %s = %q, want %q", who, name, got, value)
	}
}

func wantProblem(t *testing.T, who string, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	wantStatus(t, who, w, status)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", who, ct)
	}
}

// cookie returns the named cookie a response sets, or nil.
func cookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
