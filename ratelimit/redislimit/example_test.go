package redislimit_test

import (
	"log"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// One login limit shared by every replica: the state lives in Redis, and
// while Redis is unreachable each replica falls back to a local limiter.
func Example() {
	client, err := redisstore.NewClient(redisstore.Options{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	st, err := redislimit.New(redislimit.Options{Client: client, Timeout: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	login, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())},
		Store:  st,
		Outage: ratelimit.FallbackLocal,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", login.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
}
