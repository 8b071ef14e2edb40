package main

import (
	"net/http"

	"github.com/bulwark-go/bulwark/examples/shared"
)

// New returns the API: net/http's ServeMux inside Bulwark's site policy.
//
// The route label: the ServeMux records the pattern it matched in
// r.Pattern ("GET /api/items/{id}"), and the site policy's Handler
// (bulwark.RecordRoute) hands it to the access log and the metrics around
// the mux. No adapter is needed; a request no route matched is logged by
// its path and counted as "unmatched".
func New(cfg shared.Config) (http.Handler, error) {
	g, err := shared.NewGuards(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", shared.Health)
	mux.Handle("GET /metrics", g.Metrics.Exposition()) // in production, on an admin listener
	mux.Handle("GET /api/items", g.List.Handler(http.HandlerFunc(shared.ListItems)))
	mux.Handle("GET /api/items/{id}", g.Read.Handler(shared.GetItem(func(r *http.Request, name string) string { return r.PathValue(name) })))
	mux.Handle("DELETE /api/items/{id}", g.Remove.Handler(http.HandlerFunc(shared.DeleteItem)))
	return g.Site.Handler(mux), nil
}
