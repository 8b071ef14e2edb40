package recovery_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/recovery"
)

func Example() {
	rc, err := recovery.New(recovery.Options{
		// The panic value and stack are logged here (in production, for
		// example slog.New(slog.NewJSONHandler(os.Stderr, nil))).
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		log.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("inventory: negative stock for item 42") // a bug
	})
	h := id.Handler(rc.Handler(app)) // recovery inside identity: the 500 has the request ID

	r := httptest.NewRequest("GET", "/api/items", nil)
	r.RemoteAddr = "10.0.0.7:51234"          // the load balancer,
	r.Header.Set("X-Request-ID", "req-0001") // which assigned the request ID
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body)
	// Output:
	// 500 application/problem+json
	// {"type":"https://bulwark.dev/problems/internal","title":"Internal Server Error","status":500,"detail":"an internal error occurred; quote the request ID when reporting it","instance":"/api/items","request_id":"req-0001"}
}
