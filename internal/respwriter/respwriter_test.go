package respwriter_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/respwriter"
)

// Handlers behind the wrapper still find the optional interfaces they
// type-assert for (gorilla/websocket asserts http.Hijacker), and the
// wrapper records what went through them.
func TestOptionalInterfaces(t *testing.T) {
	var rw respwriter.Writer
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		rw.Reset(w)
		if r.URL.Path == "/copy" {
			if _, ok := any(&rw).(io.ReaderFrom); !ok {
				t.Error("no io.ReaderFrom")
			}
			if _, err := io.Copy(&rw, strings.NewReader("hello, sendfile")); err != nil {
				t.Error(err)
			}
			return
		}
		hj, ok := any(&rw).(http.Hijacker)
		if !ok {
			t.Error("no http.Hijacker")
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nhijacked")
		_ = brw.Flush()
	}))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/copy")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	<-done
	if string(body) != "hello, sendfile" || rw.Status != 200 || rw.Bytes != int64(len(body)) {
		t.Fatalf("copy: %q, status %d, bytes %d", body, rw.Status, rw.Bytes)
	}

	done = make(chan struct{})
	req, _ := http.NewRequest("GET", srv.URL+"/upgrade", nil)
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	res, err = http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if res.StatusCode != 101 || rw.Status != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: client saw %d, wrapper recorded %d", res.StatusCode, rw.Status)
	}
}

// A writer that cannot hijack says so, as http.ResponseController does.
func TestHijackNotSupported(t *testing.T) {
	var rw respwriter.Writer
	rw.Reset(httptest.NewRecorder())
	if _, _, err := rw.Hijack(); err != http.ErrNotSupported {
		t.Fatalf("err = %v", err)
	}
	n, err := rw.ReadFrom(strings.NewReader("abc"))
	if n != 3 || err != nil || rw.Bytes != 3 || rw.Status != 200 {
		t.Fatalf("ReadFrom on a recorder: %d %v %+v", n, err, rw)
	}
}

// unwrapper hides every optional interface of the writer it wraps but
// Unwrap, like a third-party middleware's wrapper.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Flush and Hijack find the wrapped writer's methods through Unwrap, as
// http.ResponseController does.
func TestThroughUnwrap(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := respwriter.Writer{ResponseWriter: unwrapper{rec}}
	rw.Flush()
	if !rec.Flushed || rw.Status != 200 {
		t.Fatalf("flush through Unwrap: flushed %v, status %d", rec.Flushed, rw.Status)
	}
	if _, _, err := rw.Hijack(); err != http.ErrNotSupported {
		t.Fatalf("hijack of a recorder: %v", err)
	}
	if err := http.NewResponseController(&rw).Flush(); err != nil {
		t.Fatalf("ResponseController through the wrapper: %v", err)
	}
	if got := rw.Unwrap(); got != (unwrapper{rec}) {
		t.Fatalf("Unwrap = %v", got)
	}

	// A writer that cannot flush at all: nothing happens, nothing is
	// recorded, and the hook waits for the real start.
	calls := 0
	rw = respwriter.Writer{ResponseWriter: unwrapper{struct{ http.ResponseWriter }{rec}}, BeforeHeader: func(http.Header) { calls++ }}
	rw.Flush()
	if rw.Status != 0 || calls != 0 {
		t.Fatalf("flush without a Flusher: status %d, hook ran %d times", rw.Status, calls)
	}
}

// BeforeHeader runs before each informational response and once before the
// final one, however the handler starts it, and sees the headers in time
// to change what is sent.
func TestBeforeHeader(t *testing.T) {
	start := map[string]func(w http.ResponseWriter){
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(201) },
		"Write":       func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) },
		"ReadFrom":    func(w http.ResponseWriter) { _, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("x")) },
		"Flush":       func(w http.ResponseWriter) { w.(http.Flusher).Flush() },
	}
	for name, f := range start {
		t.Run(name, func(t *testing.T) {
			var sent []string // the X-Secret seen by the hook at each call
			var rw respwriter.Writer
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				rw = respwriter.Writer{ResponseWriter: w, BeforeHeader: func(h http.Header) {
					sent = append(sent, h.Get("X-Secret"))
					h.Del("X-Secret")
				}}
				rw.Header().Set("X-Secret", "early-hints")
				rw.WriteHeader(http.StatusEarlyHints)
				rw.Header().Set("X-Secret", "final")
				f(&rw)
				rw.Header().Set("X-Secret", "too late")
				_, _ = rw.Write([]byte("y"))
			}))
			defer srv.Close()
			var early http.Header
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error { early = http.Header(h); return nil },
			})
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			<-done
			if len(sent) != 2 || sent[0] != "early-hints" || sent[1] != "final" {
				t.Fatalf("hook saw %q, want one call per header block", sent)
			}
			if early == nil || early.Get("X-Secret") != "" || res.Header.Get("X-Secret") != "" {
				t.Fatalf("X-Secret sent: 103 %v, final %v", early, res.Header)
			}
			if rw.Status != res.StatusCode {
				t.Fatalf("recorded %d, client saw %d", rw.Status, res.StatusCode)
			}
		})
	}
}

// Reset clears the hook with the counters, so a pooled writer does not
// carry one request's hook into the next.
func TestResetClearsHook(t *testing.T) {
	rw := respwriter.Writer{Status: 200, Bytes: 3, BeforeHeader: func(http.Header) {}}
	rec := httptest.NewRecorder()
	rw.Reset(rec)
	if rw.Status != 0 || rw.Bytes != 0 || rw.BeforeHeader != nil || rw.ResponseWriter != rec {
		t.Fatalf("after Reset: %+v", rw)
	}
}
