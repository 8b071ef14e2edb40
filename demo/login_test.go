package demo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/password"
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

// 120 simultaneous failed logins from distinct clients (each within its
// own login limit), for users that do not exist: every one goes through
// the password budget (a missing user costs what a real one does), which lets
// at most MaxConcurrent argon2id checks (19 MiB each)
// compute at once; the others wait briefly, then get 503 with Retry-After —
// never an unbounded queue of 19 MiB allocations (the demo once took 2.4 GB
// of RSS under this load).
func TestLoginPasswordBudget(t *testing.T) {
	app, err := demo.New(demo.Config{TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() { srv.Close(); _ = app.Close() })

	const n = 120
	results := make(chan response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			req := loginRequest(srv, fmt.Sprintf("user%d", i%7), "guess", "X-Forwarded-For", fmt.Sprintf("2001:db8:%x::1", i+1))
			<-start
			results <- send(srv, req)
		})
	}
	close(start)
	wg.Wait()
	close(results)
	counts := map[int]int{}
	for r := range results {
		if r.status < 0 {
			t.Fatalf("request failed: %s", r.raw)
		}
		counts[r.status]++
		switch r.status {
		case 401:
		case 503:
			wantProblem(t, r, 503)
			if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Fatalf("503 without Retry-After: %s", r.raw)
			}
		default:
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
	}
	v := demo.PasswordVerifier(app)
	s := v.Stats()
	t.Logf("statuses %v, verifier %+v", counts, s)
	if got := s.Verified + s.Busy; got != n {
		t.Fatalf("%d logins went through the password budget, want all %d", got, n)
	}
	if s.PeakRunning < 1 || s.PeakRunning > v.MaxConcurrent() || v.MaxConcurrent() > password.MaxDefaultConcurrent {
		t.Fatalf("%d password checks computed at once, want 1..%d", s.PeakRunning, v.MaxConcurrent())
	}
	if budget := v.MemoryBudget(); s.PeakMemory > budget || budget > password.MaxDefaultConcurrent*19<<20 {
		t.Fatalf("argon2 memory peaked at %d bytes of a %d budget", s.PeakMemory, budget)
	}
	if uint64(counts[401]) != s.Verified || uint64(counts[503]) != s.Busy {
		t.Fatalf("statuses %v do not match the verifier's counts %+v", counts, s)
	}
}

// loginRequest is the request login sends, for tests that send many at
// once.
func loginRequest(srv *httptest.Server, user, pw string, hdr ...string) *http.Request {
	req, _ := http.NewRequest("POST", srv.URL+"/api/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// send is do for any goroutine: a transport error comes back as status -1
// with the error's text in raw, instead of failing the test.
func send(srv *httptest.Server, req *http.Request) response {
	res, err := srv.Client().Do(req)
	if err != nil {
		return response{status: -1, raw: err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}
