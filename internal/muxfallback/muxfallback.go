// Package muxfallback tells what an http.ServeMux would answer a request
// that none of its patterns matches — 404, 405 with Allow, or a redirect
// to a cleaned path — without writing it, so that a router can send the
// same answer as an RFC 9457 problem instead of net/http's plain text.
package muxfallback

import "net/http"

// Of runs mux's own handler for r against a recorder and returns the
// status it chose (http.StatusOK if it wrote a body without one) and the
// headers it set (Allow for a 405, Location for a redirect).
func Of(mux *http.ServeMux, r *http.Request) (status int, header http.Header) {
	rec := &recorder{header: http.Header{}}
	h, _ := mux.Handler(r)
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.status, rec.header
}

type recorder struct {
	header http.Header
	status int
}

func (s *recorder) Header() http.Header { return s.header }

func (s *recorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}

func (s *recorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
