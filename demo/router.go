package demo

import (
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/problem"
)

// router is a ServeMux whose "no route" answers are problem responses: an
// unknown path gets a 404 problem, a known path with the wrong method a 405
// problem with Allow, instead of net/http's plain-text bodies.
type router struct {
	mux  *http.ServeMux
	deny problem.Denier
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r) // sets r.Pattern, which the site policy records
		return
	}
	// No route matched: let the mux decide between 404, 405 and a
	// redirect (trailing slash, cleaned path), then answer with a problem.
	rec := &statusRecorder{header: http.Header{}}
	rt.mux.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		rt.deny.Deny(w, r, problem.MethodNotAllowed(strings.Split(rec.header.Get("Allow"), ", ")))
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
		if loc := rec.header.Get("Location"); loc != "" {
			w.Header().Set("Location", loc)
		}
		w.WriteHeader(rec.status)
	default:
		rt.deny.Deny(w, r, problem.NotFound())
	}
}

// statusRecorder captures what the mux's fallback handler would send.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
