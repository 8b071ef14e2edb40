package accesslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

func TestOneLinePerRequest(t *testing.T) {
	var buf bytes.Buffer
	l, err := accesslog.New(accesslog.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("12345"))
	}))
	r := httptest.NewRequest("GET", "/api/things?api_key=secret", nil)
	r.Header.Set("Authorization", "Bearer secret-token")
	ctx, st := reqctx.New(r.Context())
	st.SetRequestID([]byte("rid-9"))
	st.PrincipalID = "jwt:bob"
	h.ServeHTTP(httptest.NewRecorder(), r.WithContext(ctx))

	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if m["status"] != float64(418) || m["bytes"] != float64(5) || m["request_id"] != "rid-9" || m["principal"] != "jwt:bob" || m["route"] != "/api/things" {
		t.Fatalf("line %v", m)
	}
	if bytes.Contains(buf.Bytes(), []byte("secret")) {
		t.Fatal("secret leaked into the access log")
	}
}

// TestClientValuesBounded: a client that sends a 300 KB method and a long
// path with control characters gets one short line, not 300 KB of log.
func TestClientValuesBounded(t *testing.T) {
	var buf bytes.Buffer
	l, err := accesslog.New(accesslog.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.NotFoundHandler())
	method := strings.Repeat("M", 300<<10)
	path := "/a%0Ab%E2%80%AE" + strings.Repeat("p", 100<<10)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))

	if buf.Len() > 1024 {
		t.Fatalf("a %d-byte line for one request", buf.Len())
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if want := strings.Repeat("M", 32) + "…(307200 bytes)"; m["method"] != want {
		t.Errorf("method %q, want %q", m["method"], want)
	}
	route, _ := m["route"].(string)
	if !strings.HasPrefix(route, `/a\x0ab\xe2\x80\xaeppp`) || !strings.HasSuffix(route, "…(102407 bytes)") || len(route) > 300 {
		t.Errorf("route %q", route)
	}
}
