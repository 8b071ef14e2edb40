package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/examples/shared"
)

// New returns the API: a chi router inside Bulwark's site policy.
//
// Guards are net/http middleware, so chi takes them as they are: the site
// policy's Handler wraps the router, and each route's policy goes in
// r.With. Handlers read the caller from r.Context() with authn.FromContext.
func New(cfg shared.Config) (http.Handler, error) {
	g, err := shared.NewGuards(cfg)
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(routeLabel)
	r.Get("/healthz", shared.Health)
	r.Method("GET", "/metrics", g.Metrics.Exposition()) // in production, on an admin listener
	r.With(g.List.Handler).Get("/api/items", shared.ListItems)
	r.With(g.Read.Handler).Get("/api/items/{id}", shared.GetItem(chi.URLParam))
	r.With(g.Remove.Handler).Delete("/api/items/{id}", shared.DeleteItem)
	return g.Site.Handler(r), nil
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
