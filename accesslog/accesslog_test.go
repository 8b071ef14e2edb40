package accesslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
