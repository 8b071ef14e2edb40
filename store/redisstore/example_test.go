package redisstore_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Open a Store shared by every replica, and apply an outage policy when
// Redis does not answer. Open succeeds even if Redis is still starting.
func Example() {
	s, err := redisstore.Open(redisstore.Options{
		URL:     "redis://127.0.0.1:6379/0",
		Prefix:  "myapp:",
		Timeout: 200 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err) // a malformed URL or a rejected password
	}
	defer s.Close()

	n, err := s.Incr(context.Background(), "login:203.0.113.7", 1, 5*time.Minute)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		log.Print("Redis is unavailable: failing closed") // or open, per guard
	case err != nil:
		log.Print(err)
	case n > 5:
		log.Print("too many attempts")
	}
}

// Scripts of your own that use several keys keep them in one Redis Cluster
// slot with a hash tag.
func ExampleTag() {
	s, err := redisstore.Open(redisstore.Options{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	family := "f9c2"
	members := s.Key(redisstore.Tag(family) + ":members") // bulwark:{f9c2}:members
	revoked := s.Key(redisstore.Tag(family) + ":revoked") // bulwark:{f9c2}:revoked

	ctx, cancel := s.Context(context.Background())
	defer cancel()
	c := s.Client()
	err = c.Do(ctx, c.B().Smove().Source(members).Destination(revoked).Member("token-1").Build()).Error()
	if err = redisstore.Unavailable("revoke", err); errors.Is(err, store.ErrUnavailable) {
		log.Print("Redis is unavailable")
	}
}

// A readiness check: not ready while the Store's circuit breaker is open
// (Redis failed repeatedly; calls fail at once). The breaker's changes are
// audit events; here they go to the application's log.
func ExampleStore_Available() {
	s, err := redisstore.Open(redisstore.Options{
		URL:   "redis://127.0.0.1:6379/0",
		Audit: audit.NewSlog(slog.Default()), // store_unavailable, store_recovered
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	http.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.Available() {
			http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
		}
	})
}
