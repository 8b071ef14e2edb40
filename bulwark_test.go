package bulwark_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/recovery"
)

// tag returns a guard that appends name to the X-Order request header.
func tag(name string) bulwark.Guard {
	return bulwark.GuardFunc(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Add("X-Order", name)
			next.ServeHTTP(w, r)
		})
	})
}

func TestPolicyOrder(t *testing.T) {
	p := bulwark.Policy{
		Authz: tag("authz"), CSRF: tag("csrf"), PostAuthLimit: tag("postlimit"), Authn: tag("authn"),
		Abuse: tag("abuse"), PreAuthLimits: tag("prelimit"), CORS: tag("cors"), BodyLimit: tag("body"), Headers: tag("headers"),
		AccessLog: tag("log"), Recovery: tag("recovery"), Identity: tag("identity"),
	}
	var got string
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = strings.Join(r.Header.Values("X-Order"), ",")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := "identity,log,recovery,headers,cors,body,prelimit,abuse,authn,postlimit,csrf,authz"
	if got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
}

// A panic answered by recovery is logged as the 500 the client got, with
// the request ID; the access log sits outside recovery in the Policy.
func TestPolicyLogsRecoveredPanicAs500(t *testing.T) {
	var logs bytes.Buffer
	id, _ := clientip.New(clientip.Options{})
	rec, _ := recovery.New(recovery.Options{Logger: slog.New(slog.DiscardHandler)})
	p := bulwark.Policy{
		Identity:  id,
		AccessLog: accesslog.New(accesslog.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}),
		Recovery:  rec,
	}
	h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-Request-ID", "rid-500")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var line struct {
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, logs.String())
	}
	if w.Code != 500 || line.Status != 500 || line.RequestID != "rid-500" {
		t.Fatalf("client %d, log %+v", w.Code, line)
	}
}

// Without recovery inside it, the access log still records a panic (as a
// 500, aborted) and lets it go on.
func TestAccessLogRecordsUnrecoveredPanic(t *testing.T) {
	var logs bytes.Buffer
	h := accesslog.New(accesslog.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}).
		Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	got := func() (v any) {
		defer func() { v = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		return nil
	}()
	if got != "boom" || !strings.Contains(logs.String(), `"status":500`) || !strings.Contains(logs.String(), `"aborted":true`) {
		t.Fatalf("recovered %v, log %s", got, logs.String())
	}
}

func TestChainSkipsNil(t *testing.T) {
	var nilFunc bulwark.GuardFunc
	h := bulwark.Chain(nil, nilFunc, tag("a"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Order") != "a" {
			t.Fatal("guard a did not run")
		}
		w.WriteHeader(204)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 204 {
		t.Fatal(w.Code)
	}
}
