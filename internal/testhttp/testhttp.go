// Package testhttp holds what in-process tests and benchmarks of handlers
// share.
package testhttp

import "net/http"

// NopWriter is an http.ResponseWriter that discards the body and records
// the status, keeping whatever header map it is given, so that a benchmark
// or an allocation test decides what a response's header map costs:
// reused, cleared, or new per request. Unlike httptest.ResponseRecorder it
// allocates nothing.
type NopWriter struct {
	H    http.Header
	Code int // the status of the last WriteHeader, 0 if none
}

// Header returns H.
func (w *NopWriter) Header() http.Header { return w.H }

// Write discards p.
func (w *NopWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteHeader records code.
func (w *NopWriter) WriteHeader(code int) { w.Code = code }
