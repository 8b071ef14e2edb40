package respwriter_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
