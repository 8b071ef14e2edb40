// Package respwriter wraps an http.ResponseWriter to observe the status code
// and body size a handler sends (for the access log, metrics and panic
// recovery) and, optionally, to edit the headers just before they are sent
// (for headers' Options.RemoveOnWrite). The wrapper keeps
// http.ResponseController working through Unwrap, and passes on the
// optional interfaces handlers type-assert for: http.Flusher, http.Hijacker
// (WebSocket upgrades) and io.ReaderFrom (sendfile for http.ServeContent and
// io.Copy).
package respwriter

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// Writer records the status and byte count written through it.
type Writer struct {
	http.ResponseWriter
	// Status is the final status sent, 0 until the response starts.
	Status int
	// Bytes counts the body bytes written.
	Bytes int64
	// BeforeHeader, when set, is called with the header map just before
	// headers are sent: before each informational (1xx) response, and once
	// before the final status line (at WriteHeader, or at the first Write,
	// ReadFrom or Flush). Build it once, not per request: a func value made
	// per request allocates.
	BeforeHeader func(http.Header)
}

// Reset points w at rw and clears the counters and the hook.
func (w *Writer) Reset(rw http.ResponseWriter) { *w = Writer{ResponseWriter: rw} }

// start records code as the final status, running the hook first.
func (w *Writer) start(code int) {
	if w.BeforeHeader != nil {
		w.BeforeHeader(w.ResponseWriter.Header())
	}
	w.Status = code
}

// WriteHeader records code and passes it on. An informational (1xx) code
// runs the hook but leaves the response unstarted: its headers go out
// with it, and the final response follows.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		if code >= 200 {
			w.start(code)
		} else if w.BeforeHeader != nil {
			w.BeforeHeader(w.ResponseWriter.Header())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the size and passes the bytes on.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.start(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += int64(n)
	return n, err
}

// Flush passes a flush on when the wrapped writer supports one, directly or
// through Unwrap (as http.ResponseController finds it).
func (w *Writer) Flush() {
	for rw := w.ResponseWriter; ; {
		switch t := rw.(type) {
		case http.Flusher:
			if w.Status == 0 {
				w.start(http.StatusOK)
			}
			t.Flush()
			return
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return
		}
	}
}

// Hijack hands over the connection when the wrapped writer can (directly
// or through Unwrap), and then records 101 Switching Protocols, so that
// nothing is written to a connection that is no longer HTTP's (recovery
// sees the response as started). It returns http.ErrNotSupported when the
// writer cannot.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	for rw := w.ResponseWriter; ; {
		switch t := rw.(type) {
		case http.Hijacker:
			c, brw, err := t.Hijack()
			if err == nil && w.Status == 0 {
				w.Status = http.StatusSwitchingProtocols
			}
			return c, brw, err
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return nil, nil, http.ErrNotSupported
		}
	}
}

// ReadFrom copies r into the response through the wrapped writer's
// ReadFrom when it has one (net/http's uses sendfile), counting the bytes.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.Status == 0 {
		w.start(http.StatusOK)
	}
	var (
		n   int64
		err error
	)
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.Bytes += n
	return n, err
}

// writerOnly hides every method but Write, so that io.Copy cannot recurse
// into ReadFrom.
type writerOnly struct{ io.Writer }

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusOrOK returns the recorded status, or 200 when the handler wrote
// nothing (net/http sends 200 then).
func (w *Writer) StatusOrOK() int {
	if w.Status == 0 {
		return http.StatusOK
	}
	return w.Status
}
