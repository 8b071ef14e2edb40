package recovery_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/recovery"
)

func setup(t *testing.T, opts recovery.Options, next http.HandlerFunc) (http.Handler, *bytes.Buffer, *audit.Memory) {
	t.Helper()
	var logs bytes.Buffer
	mem := audit.NewMemory()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}
	opts.Audit = mem
	rc, err := recovery.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	id, err := clientip.New(clientip.Options{AcceptRequestIDFromAnyClient: true}) // the tests choose the IDs
	if err != nil {
		t.Fatal(err)
	}
	return id.Handler(rc.Handler(next)), &logs, mem
}

func TestPanicBecomesProblem(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		inLog string
	}{
		{"string", "secret-db-password leaked", "secret-db-password leaked"},
		{"error", errors.New("nil map write"), "nil map write"},
		{"nil", nil, "panic called with nil"},
		{"int", 42, "42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs, mem := setup(t, recovery.Options{}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				panic(tc.value)
			})
			r := httptest.NewRequest("GET", "/boom?token=abc", nil)
			r.Header.Set("X-Request-ID", "rid-77")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if w.Code != 500 || w.Header().Get("Content-Type") != problem.ContentType {
				t.Fatalf("status %d, content type %q", w.Code, w.Header().Get("Content-Type"))
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["type"] != problem.TypeInternal || body["detail"] != recovery.Detail || body["request_id"] != "rid-77" {
				t.Fatalf("body = %v", body)
			}
			if strings.Contains(w.Body.String(), tc.inLog) || strings.Contains(w.Body.String(), "goroutine") {
				t.Fatalf("body leaks internals: %s", w.Body)
			}
			log := logs.String()
			for _, want := range []string{tc.inLog, `"request_id":"rid-77"`, "goroutine", `"path":"/boom"`} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q: %s", want, log)
				}
			}
			if strings.Contains(log, "token=abc") {
				t.Errorf("log carries the query string: %s", log)
			}
			ev := mem.Events()
			if len(ev) != 1 || ev[0].Reason != "panic" || ev[0].Status != 500 || ev[0].RequestID != "rid-77" {
				t.Fatalf("audit events = %+v", ev)
			}
		})
	}
}

func TestAbortHandlerRepanics(t *testing.T) {
	for _, v := range []any{http.ErrAbortHandler, fmt.Errorf("stream: %w", http.ErrAbortHandler)} {
		h, logs, mem := setup(t, recovery.Options{}, func(http.ResponseWriter, *http.Request) { panic(v) })
		got := func() (got any) {
			defer func() { got = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			return nil
		}()
		if got != v {
			t.Fatalf("recovered %v, want %v re-panicked", got, v)
		}
		if logs.Len() != 0 || len(mem.Events()) != 0 {
			t.Fatalf("abort was logged or audited")
		}
	}
}

// A panic after the status line went out cannot become a 500: the response
// is cut, so that the client never reads a complete response claiming
// success, and the panic is logged and audited once.
func TestPanicAfterResponseStartedAborts(t *testing.T) {
	for _, flush := range []bool{false, true} {
		t.Run(fmt.Sprintf("flushed=%v", flush), func(t *testing.T) {
			h, logs, mem := setup(t, recovery.Options{}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				_, _ = w.Write([]byte(`{"partial":`))
				if flush {
					if err := http.NewResponseController(w).Flush(); err != nil {
						panic("ResponseController lost Flush through the wrapper: " + err.Error())
					}
				}
				panic("half way")
			})
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.Start()
			res, err := srv.Client().Get(srv.URL + "/stream")
			if err == nil {
				body, rerr := io.ReadAll(res.Body)
				res.Body.Close()
				if rerr == nil {
					t.Fatalf("client read a complete response: %d %q", res.StatusCode, body)
				}
				if strings.Contains(string(body), "problem") || strings.Contains(string(body), "half way") {
					t.Fatalf("problem or panic text appended to the partial body: %q", body)
				}
			}
			srv.Close() // waits for the handler, so that its log line and event are complete
			if !strings.Contains(logs.String(), "connection aborted") || !strings.Contains(logs.String(), "half way") {
				t.Fatalf("log: %s", logs.String())
			}
			ev := mem.Events()
			if len(ev) != 1 || ev[0].Reason != "panic_after_response_started" || ev[0].Status != 200 {
				t.Fatalf("audit events = %+v", ev)
			}
		})
	}
}

func TestErrorHandlerHook(t *testing.T) {
	var seen *problem.Problem
	h, _, _ := setup(t, recovery.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
		seen = p
		w.WriteHeader(503)
	}}, func(http.ResponseWriter, *http.Request) { panic("x") })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if seen == nil || seen.Status != 500 || w.Code != 503 {
		t.Fatalf("hook not used: %v %d", seen, w.Code)
	}
}

func TestNoPanicPassesThrough(t *testing.T) {
	rc, _ := recovery.New(recovery.Options{})
	h := rc.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(w, r)
	if w.Code != 204 {
		t.Fatalf("status %d", w.Code)
	}
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Fatalf("%.0f allocations without a panic", n)
	}
}

func BenchmarkRecoverer(b *testing.B) {
	rc, _ := recovery.New(recovery.Options{})
	empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := rc.Handler(empty)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
