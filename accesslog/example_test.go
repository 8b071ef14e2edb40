package accesslog_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/bulwark-go/bulwark/accesslog"
)

// One line per request, naming the route pattern that served it, never
// the query string (which may hold a token) or any header.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // they vary from run to run
			}
			return a
		},
	}))
	log, err := accesslog.New(accesslog.Options{Logger: logger})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("{}"))
	})
	h := log.Handler(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42?access_token=secret", nil))
	// Output:
	// level=INFO msg=request method=GET route="GET /users/{id}" status=200 bytes=2
}
