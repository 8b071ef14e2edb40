package muxfallback

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST /items", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /dir/", func(http.ResponseWriter, *http.Request) {})
	for _, c := range []struct {
		method, path string
		status       int
		header, want string
	}{
		{"GET", "/nope", 404, "", ""},
		{"DELETE", "/items", 405, "Allow", "GET, HEAD, POST"},
		{"GET", "/dir", 307, "Location", "/dir/"},
	} {
		status, h := Of(mux, httptest.NewRequest(c.method, c.path, nil))
		if status != c.status || (c.header != "" && h.Get(c.header) != c.want) {
			t.Errorf("%s %s: %d %v, want %d %s=%q", c.method, c.path, status, h, c.status, c.header, c.want)
		}
	}
}
