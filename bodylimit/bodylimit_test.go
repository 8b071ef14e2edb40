package bodylimit_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/problem"
)

func TestLimiter(t *testing.T) {
	mem := audit.NewMemory()
	l, err := bodylimit.New(bodylimit.Options{MaxBytes: 10, Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	var readErr error
	var read int
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b []byte
		b, readErr = io.ReadAll(r.Body)
		read = len(b)
		w.WriteHeader(204)
	}))
	tests := []struct {
		name      string
		body      string
		length    int64 // -1: unknown (chunked)
		status    int
		tooLarge  bool
		handlerIn bool
	}{
		{"small", "hello", 5, 204, false, true},
		{"exact", "0123456789", 10, 204, false, true},
		{"declared too large", "01234567890", 11, 413, false, false},
		{"chunked within", "0123456789", -1, 204, false, true},
		{"chunked too large", strings.Repeat("x", 100), -1, 204, true, true},
		{"empty", "", 0, 204, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			readErr, read = nil, -1
			before := len(mem.Events())
			r := httptest.NewRequest("POST", "/upload", strings.NewReader(tc.body))
			r.ContentLength = tc.length
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if (read >= 0) != tc.handlerIn {
				t.Fatalf("handler ran = %v, want %v", read >= 0, tc.handlerIn)
			}
			if bodylimit.IsTooLarge(readErr) != tc.tooLarge || read > 10 {
				t.Fatalf("read %d bytes, err %v", read, readErr)
			}
			events := mem.Events()[before:]
			if tc.status == 413 {
				var p map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatal(err)
				}
				if p["type"] != problem.TypeBodyTooLarge || p["max_bytes"] != float64(10) {
					t.Fatalf("problem %v", p)
				}
				if len(events) != 1 || events[0].Reason != "body_too_large" {
					t.Fatalf("events %+v", events)
				}
			} else if len(events) != 0 {
				t.Fatalf("unexpected events %+v", events)
			}
		})
	}
}

func TestCheckAndDefaults(t *testing.T) {
	l, err := bodylimit.New(bodylimit.Options{})
	if err != nil || l.MaxBytes() != bodylimit.DefaultMaxBytes {
		t.Fatalf("default: %v %v", l, err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.ContentLength = bodylimit.DefaultMaxBytes + 1
	if _, p := l.Check(r); p == nil || p.Status != 413 {
		t.Fatalf("Check = %v", p)
	}
	r.ContentLength = bodylimit.DefaultMaxBytes
	if _, p := l.Check(r); p != nil {
		t.Fatalf("Check = %v", p)
	}
	if _, err := bodylimit.New(bodylimit.Options{MaxBytes: -1}); err == nil {
		t.Fatal("negative MaxBytes accepted")
	}
	if bodylimit.IsTooLarge(errors.New("x")) || !bodylimit.IsTooLarge(fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 1})) {
		t.Fatal("IsTooLarge")
	}
}

func TestNoBody(t *testing.T) {
	l, _ := bodylimit.New(bodylimit.Options{})
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody {
			t.Errorf("NoBody was wrapped")
		}
	}))
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(httptest.NewRecorder(), r) }); n > 3 { // the recorder's own
		t.Errorf("%.0f allocations for a bodiless request", n)
	}
}

func BenchmarkLimiter(b *testing.B) {
	l, _ := bodylimit.New(bodylimit.Options{})
	h := l.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	body := r.Body
	b.ReportAllocs()
	for b.Loop() {
		r.Body = body
		h.ServeHTTP(w, r)
	}
}
