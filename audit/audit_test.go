package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

func TestJSONLinesAndFromRequest(t *testing.T) {
	var buf bytes.Buffer
	sink := audit.NewJSONLines(&buf)
	r := httptest.NewRequest("POST", "/api/login?password=hunter2", nil)
	ctx, st := reqctx.New(r.Context())
	st.SetRequestID([]byte("rid-1"))
	st.ClientIP = netip.MustParseAddr("203.0.113.7")
	st.PrincipalID = "jwt:alice"
	r = r.WithContext(ctx)

	e := audit.FromRequest(r, "ratelimit", audit.Deny, "rate_limited")
	e.Status = 429
	sink.Record(context.Background(), e)
	sink.Record(context.Background(), audit.FromRequest(r, "abuse", audit.Flag, "account_targeted"))

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal(lines[0], &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msg": "security", "level": "WARN", "guard": "ratelimit", "decision": "deny", "reason": "rate_limited",
		"request_id": "rid-1", "client_ip": "203.0.113.7", "principal": "jwt:alice", "method": "POST", "route": "/api/login", "status": float64(429)}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("hunter2")) {
		t.Fatal("query string leaked into the audit log")
	}
}

func TestNopAndMemory(t *testing.T) {
	audit.OrNop(nil).Record(context.Background(), &audit.Event{})
	m := audit.NewMemory()
	m.Record(context.Background(), &audit.Event{Guard: "x"})
	if ev := m.Events(); len(ev) != 1 || ev[0].Guard != "x" {
		t.Fatalf("%+v", ev)
	}
}

// TestClientValuesBounded: an event never carries a client's megabyte:
// FromRequest bounds the method and path, and SlogSink bounds whatever it
// is handed, attributes included.
func TestClientValuesBounded(t *testing.T) {
	method := strings.Repeat("M", 300<<10)
	r := httptest.NewRequest(method, "/x%0A"+strings.Repeat("p", 10<<10), nil)
	e := audit.FromRequest(r, "router", audit.Deny, "method_not_allowed")
	if e.Method != strings.Repeat("M", 32)+"…(307200 bytes)" || !strings.HasPrefix(e.Route, `/x\x0appp`) || len(e.Route) > 300 {
		t.Fatalf("method %q route %q", e.Method, e.Route)
	}

	var buf bytes.Buffer
	sink := audit.NewJSONLines(&buf)
	sink.Record(context.Background(), &audit.Event{
		Guard: "custom", Decision: audit.Deny, Reason: "x",
		Method: method, Route: strings.Repeat("/r", 50<<10), Principal: strings.Repeat("p", 50<<10),
		Attrs: []slog.Attr{slog.String("detail", "a\nb"+strings.Repeat("d", 50<<10)), slog.Int("n", 7)},
	})
	if buf.Len() > 3<<10 {
		t.Fatalf("a %d-byte event line", buf.Len())
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if d, _ := m["detail"].(string); !strings.HasPrefix(d, `a\x0abddd`) || m["n"] != float64(7) {
		t.Fatalf("attributes %v", m)
	}
}
