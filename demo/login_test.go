package demo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// One IPv6 client rotating its interface ID inside its /64 is one client
// for the credential-stuffing detector, as it is for the login limit: the
// 6th distinct username failing from the /64 within the hour is refused
// (403), however many addresses the attempts came from.
func TestCredentialStuffingIPv6By64(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	from := func(i int) []string {
		return []string{"X-Forwarded-For", fmt.Sprintf("2001:db8:77:1:%x::%x", i+1, i+7)}
	}
	for i := range 5 {
		if r := login(t, srv, fmt.Sprintf("victim%d", i), "guess", from(i)...); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.raw)
		}
		advance(61 * time.Second) // stay under the login rate limit
	}
	advance(5 * time.Minute)
	wantProblem(t, login(t, srv, "victim5", "guess", from(5)...), 403)
	// Another /64 is another client.
	if r := login(t, srv, "victim6", "guess", "X-Forwarded-For", "2001:db8:77:2::1"); r.status != 401 {
		t.Fatalf("neighbouring /64: %d %s", r.status, r.raw)
	}
}
