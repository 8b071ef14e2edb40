// Package respwriter wraps an http.ResponseWriter to observe the status code
// and body size a handler sends, for the access log, metrics and panic
// recovery. The wrapper keeps http.ResponseController working through
// Unwrap, and passes on the optional interfaces handlers type-assert for:
// http.Flusher, http.Hijacker (WebSocket upgrades) and io.ReaderFrom
// (sendfile for http.ServeContent and io.Copy).
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
	Status int
	Bytes  int64
}

// Reset points w at rw and clears the counters.
func (w *Writer) Reset(rw http.ResponseWriter) { *w = Writer{ResponseWriter: rw} }

// WriteHeader records code and passes it on.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 && code >= 200 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the size and passes the bytes on.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += int64(n)
	return n, err
}

// Flush passes a flush on when the underlying writer supports it.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.Status == 0 {
			w.Status = http.StatusOK
		}
		f.Flush()
	}
}

// Hijack hands over the connection when the wrapped writer can, and then
// records 101 Switching Protocols, so that nothing is written to a
// connection that is no longer HTTP's (recovery sees the response as
// started). It returns http.ErrNotSupported when the writer cannot.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	c, brw, err := h.Hijack()
	if err == nil && w.Status == 0 {
		w.Status = http.StatusSwitchingProtocols
	}
	return c, brw, err
}

// ReadFrom copies r into the response through the wrapped writer's
// ReadFrom when it has one (net/http's uses sendfile), counting the bytes.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
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
