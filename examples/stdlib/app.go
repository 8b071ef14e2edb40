package main

import (
	"encoding/json"
	"net/http"

	"github.com/bulwark-go/bulwark/authn"
)

// New returns the API: net/http's ServeMux inside Bulwark's site policy.
//
// The route label: the ServeMux records the pattern it matched in
// r.Pattern ("GET /api/items/{id}"), and the site policy's Handler
// (bulwark.RecordRoute) hands it to the access log and the metrics around
// the mux. No adapter is needed; a request no route matched is logged by
// its path and counted as "unmatched".
func New(cfg Config) (http.Handler, error) {
	g, err := newGuards(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.Handle("GET /metrics", g.metrics.Exposition()) // in production, on an admin listener
	mux.Handle("GET /api/items", g.list.Handler(http.HandlerFunc(listItems)))
	mux.Handle("GET /api/items/{id}", g.read.Handler(http.HandlerFunc(getItem)))
	mux.Handle("DELETE /api/items/{id}", g.remove.Handler(http.HandlerFunc(deleteItem)))
	return g.site.Handler(mux), nil
}

func listItems(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context()) // set by the route's Authn guard
	writeJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "items": []string{"1", "2"}})
}

func getItem(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "id": r.PathValue("id")})
}

func deleteItem(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
