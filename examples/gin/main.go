// Command gin serves a small JSON API on a gin engine with
// Bulwark's guards: the site policy (client identity, access log, metrics,
// panic recovery, security headers, CORS, a body cap) around the router, and
// per route a JWT, a rate limit and a scope or role.
//
//	go run .
//
// serves on 127.0.0.1:8080 and prints tokens to call it with. The HS256 key
// comes from $EXAMPLE_JWT_SECRET (at least 32 bytes), or is generated at
// start, so that the tokens printed die with the process.
package main

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

const addr = "127.0.0.1:8080"

func main() {
	gin.SetMode(gin.ReleaseMode)
	key, err := loadKey()
	if err != nil {
		log.Fatal(err)
	}
	h, err := New(Config{Key: key, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		log.Fatal(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: issuer, Audience: []string{audience}, TTL: time.Hour})
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
`, addr, reader, admin)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// loadKey reads the HS256 secret from $EXAMPLE_JWT_SECRET, or generates one.
func loadKey() (*jwt.Key, error) {
	if os.Getenv("EXAMPLE_JWT_SECRET") != "" {
		return jwt.KeyFromEnv("EXAMPLE_JWT_SECRET", "example", jwt.HS256)
	}
	return jwt.NewHMACKey("example", jwt.HS256, jwt.GenerateSecret(32))
}
