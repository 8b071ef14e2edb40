package main

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/authn"
)

// New returns the API: a chi router inside Bulwark's site policy.
//
// Guards are net/http middleware, so chi takes them as they are: the site
// policy's Handler wraps the router, and each route's policy goes in
// r.With. Handlers read the caller from r.Context() with authn.FromContext.
func New(cfg Config) (http.Handler, error) {
	g, err := newGuards(cfg)
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(routeLabel)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	r.Method("GET", "/metrics", g.metrics.Exposition()) // in production, on an admin listener
	r.With(g.list.Handler).Get("/api/items", listItems)
	r.With(g.read.Handler).Get("/api/items/{id}", getItem)
	r.With(g.remove.Handler).Delete("/api/items/{id}", deleteItem)
	return g.site.Handler(r), nil
}

// routeLabel is the adapter that names the route in the access log and the
// metrics: chi knows the whole pattern ("/api/items/{id}", subrouters
// included) once it has routed the request, so record it after next
// returns. chi copies the request when it starts routing, so the pattern it
// sets in r.Pattern never reaches the site policy outside: SetRoute writes
// it into the request state the policy shares. A request no route matched
// has no pattern; the log names its path, the metrics count it as
// "unmatched".
func routeLabel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if p := chi.RouteContext(r.Context()).RoutePattern(); p != "" {
			bulwark.SetRoute(r, p)
		}
	})
}

func listItems(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context()) // set by the route's Authn guard
	writeJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "items": []string{"1", "2"}})
}

func getItem(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "id": chi.URLParam(r, "id")})
}

func deleteItem(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
