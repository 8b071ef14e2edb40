package panel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/panel"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// The panel sits in the audit chain, records what passes and hands it on;
// its page (and, with ?format=json, its figures) is served by the panel
// itself, which the application mounts behind its admin check.
func Example() {
	p, err := panel.New(panel.Options{})
	if err != nil {
		log.Fatal(err)
	}
	sink := p.Sink(audit.NewMemory()) // in an application: metrics.Sink(p.Sink(audit.NewSlog(logger)))

	limiter, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.FixedWindow(2, time.Minute).Named("login").By(ratelimit.ByIP())},
		Audit:  sink,
	})
	if err != nil {
		log.Fatal(err)
	}
	identity, err := clientip.New(clientip.Options{}) // events name the client it resolves
	if err != nil {
		log.Fatal(err)
	}
	login := identity.Handler(limiter.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	for range 5 {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = "198.51.100.7:4242"
		login.ServeHTTP(httptest.NewRecorder(), r)
	}

	s := p.Snapshot(context.Background())
	fmt.Println("denied in the last hour:", s.DeniedHour)
	for _, d := range s.Denials {
		fmt.Println("guard", d.Guard, "reason", d.Reason, "count", d.Hour)
	}
	for _, c := range s.Clients {
		fmt.Println("client", c.Client, "refused", c.Count)
	}
	for _, pol := range s.Policies {
		fmt.Println("policy", pol.Policy, "("+pol.Limit+")", "refused", pol.Hour)
	}
	// Output:
	// denied in the last hour: 3
	// guard ratelimit reason rate_limited count 3
	// client 198.51.100.7 refused 3
	// policy login (2 per 1m0s by ip) refused 3
}
