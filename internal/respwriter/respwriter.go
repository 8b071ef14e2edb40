// Package respwriter wraps an http.ResponseWriter to observe the status code
// and body size a handler sends, for the access log and metrics. The wrapper
// keeps http.ResponseController working through Unwrap.
package respwriter

import "net/http"

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
