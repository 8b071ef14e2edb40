package headers

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// stripWriter deletes headers when the handler sends its response
// (Options.RemoveOnWrite), catching those the handler itself set.
type stripWriter struct {
	http.ResponseWriter
	remove []string
	done   bool
}

func (s *stripWriter) strip() {
	if s.done {
		return
	}
	h := s.ResponseWriter.Header()
	for _, name := range s.remove {
		delete(h, name)
	}
}

// WriteHeader strips the headers, then passes code on. Informational
// (1xx) responses carry headers too, so they are stripped each time.
func (s *stripWriter) WriteHeader(code int) {
	s.strip()
	if code >= 200 {
		s.done = true
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write strips the headers before the first byte.
func (s *stripWriter) Write(b []byte) (int, error) {
	if !s.done {
		s.strip()
		s.done = true
	}
	return s.ResponseWriter.Write(b)
}

// ReadFrom keeps io.Copy's fast paths (sendfile) of the wrapped writer.
func (s *stripWriter) ReadFrom(r io.Reader) (int64, error) {
	if !s.done {
		s.strip()
		s.done = true
	}
	return io.Copy(s.ResponseWriter, r)
}

// Flush strips the headers and flushes when the wrapped writer can.
func (s *stripWriter) Flush() {
	if !s.done {
		s.strip()
		s.done = true
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Hijack passes a hijack on (for WebSocket libraries that type-assert
// http.Hijacker).
func (s *stripWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (s *stripWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
