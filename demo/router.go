package demo

import (
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/internal/muxfallback"
	"github.com/bulwark-go/bulwark/problem"
)

// router is a ServeMux whose "no route" answers are problem responses: an
// unknown path gets a 404 problem, a known path with the wrong method a 405
// problem with Allow, instead of net/http's plain-text bodies. It also
// answers `OPTIONS *` (see asterisk).
type router struct {
	mux  *http.ServeMux
	deny problem.Denier
}

// serverMethods are the methods the demo's routes answer, for the Allow
// header of `OPTIONS *`.
const serverMethods = "GET, HEAD, POST, PUT, DELETE, OPTIONS"

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.RequestURI == "*" {
		rt.asterisk(w, r)
		return
	}
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r) // sets r.Pattern, which the site policy records
		return
	}
	// No route matched: let the mux decide between 404, 405 and a
	// redirect (trailing slash, cleaned path), then answer with a problem.
	status, h := muxfallback.Of(rt.mux, r)
	switch status {
	case http.StatusMethodNotAllowed:
		rt.deny.Deny(w, r, problem.MethodNotAllowed(strings.Split(h.Get("Allow"), ", ")))
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
		if loc := h.Get("Location"); loc != "" {
			w.Header().Set("Location", loc)
		}
		w.WriteHeader(status)
	default:
		rt.deny.Deny(w, r, problem.NotFound())
	}
}

// asterisk answers a request for the server as a whole, the target "*"
// (RFC 9110 §9.3.7), which a server reaches its handler with only when
// http.Server.DisableGeneralOptionsHandler is set, as `bulwark demo` sets
// it so that the request passes every guard before this. OPTIONS * is a
// "ping": 200, no body, and in Allow the methods the demo's routes use,
// as net/http itself would answer save Allow. It is counted and logged
// under the route "OPTIONS *". Any other method has no business with "*"
// (ServeMux answers it with a bare 400): a 400 problem.
func (rt *router) asterisk(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodOptions {
		rt.deny.Deny(w, r, problem.New(http.StatusBadRequest, problem.TypeBadRequest,
			"the request target * is for OPTIONS only").WithReason("asterisk_target"))
		return
	}
	bulwark.SetRoute(r, "OPTIONS *")
	w.Header().Set("Allow", serverMethods)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
