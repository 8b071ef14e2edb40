package shared

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
)

// Addr is where Main serves: loopback only, the examples are for trying.
const Addr = "127.0.0.1:8080"

// Main is an example's main: it loads the HS256 key (LoadKey), builds the
// API with newAPI, prints a reader's and an admin's token with curl lines
// to try, and serves on Addr until the process ends. Any error is fatal.
func Main(newAPI func(Config) (http.Handler, error)) {
	key, err := LoadKey()
	if err != nil {
		log.Fatal(err)
	}
	h, err := newAPI(Config{Key: key, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		log.Fatal(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: Issuer, Audience: []string{Audience}, TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	reader, err := iss.Issue(jwt.Claims{Subject: "bob", Scopes: []string{"read"}})
	if err != nil {
		log.Fatal(err)
	}
	admin, err := iss.Issue(jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf(`Serving on http://%[1]s (Ctrl-C stops). Tokens valid for an hour:
  READER=%[2]s
  ADMIN=%[3]s
Try:
  curl -i http://%[1]s/api/items                                      # 401
  curl -i -H "Authorization: Bearer $READER" http://%[1]s/api/items   # 200, then 429 after 60 a minute
  curl -i -X DELETE -H "Authorization: Bearer $READER" http://%[1]s/api/items/1   # 403
  curl -i -X DELETE -H "Authorization: Bearer $ADMIN" http://%[1]s/api/items/1    # 204
  curl -s http://%[1]s/metrics | grep bulwark_http_requests_total
`, Addr, reader, admin)
	srv := &http.Server{Addr: Addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// LoadKey reads the HS256 secret from $EXAMPLE_JWT_SECRET (at least 32
// bytes), or generates one, so that the tokens Main prints die with the
// process.
func LoadKey() (*jwt.Key, error) {
	if os.Getenv("EXAMPLE_JWT_SECRET") != "" {
		return jwt.KeyFromEnv("EXAMPLE_JWT_SECRET", "example", jwt.HS256)
	}
	return jwt.NewHMACKey("example", jwt.HS256, jwt.GenerateSecret(32))
}

// The handlers of the API for routers that take net/http handlers (the
// ServeMux, chi); gin and echo write theirs in their own idiom.

// ListItems answers GET /api/items with the caller and two items.
func ListItems(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context()) // set by the route's Authn guard
	WriteJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "items": []string{"1", "2"}})
}

// GetItem answers GET /api/items/{id} with the caller and the id, which
// param reads from the request the router's way.
func GetItem(param func(r *http.Request, name string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		WriteJSON(w, http.StatusOK, map[string]any{"caller": p.Subject, "id": param(r, "id")})
	}
}

// DeleteItem answers DELETE /api/items/{id}: 204, nothing is stored.
func DeleteItem(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// Health answers GET /healthz.
func Health(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
