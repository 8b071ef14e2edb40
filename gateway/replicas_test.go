package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// replica builds one gateway process's handler from config (its own
// telemetry, as a separate process would have).
func replica(t *testing.T, config string) *httptest.Server {
	t.Helper()
	return replicaResolve(t, config, testResolver)
}

func replicaConfig(redisURL, prefix, upstream string) string {
	return fmt.Sprintf(`
listen: {addr: 127.0.0.1:0}
redis: {url: %q, prefix: %q, required: true, timeout: 2s}
upstreams: {app: {urls: [%q]}}
limits:
  global: {store: redis, limits: [{name: g, algorithm: fixed_window, limit: 30, window: 1h, key: global}]}
  local_fallback: {store: redis, outage: fallback_local, limits: [{name: f, algorithm: token_bucket, limit: 1000, window: 1s, key: ip}]}
  closed: {store: redis, outage: fail_closed, limits: [{name: c, algorithm: token_bucket, limit: 1000, window: 1s, key: ip}]}
policies:
  global: {rate_limits: [global]}
  fallback: {rate_limits: [local_fallback]}
  closed: {rate_limits: [closed]}
routes:
  - {match: "/global", upstream: app, policy: global}
  - {match: "/fallback", upstream: app, policy: fallback}
  - {match: "/closed", upstream: app, policy: closed}
`, redisURL, prefix, upstream)
}

func get(url string) int {
	resp, err := client.Get(url)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Three gateways on one Redis admit exactly the global limit; with Redis
// killed, each limit follows its outage policy (never a 500), and
// decisions return to Redis when it comes back, without a restart.
func TestReplicasShareRedis(t *testing.T) {
	rs := testredis.StartServer(t)
	up, _ := startEcho(t, "app")
	cfg := replicaConfig(rs.URL(), testredis.Prefix(t), up.URL)
	reps := []*httptest.Server{replica(t, cfg), replica(t, cfg), replica(t, cfg)}

	var admitted, limited, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 90 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch get(reps[i%3].URL + "/global") {
			case 200:
				admitted.Add(1)
			case 429:
				limited.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 30 || limited.Load() != 60 || other.Load() != 0 {
		t.Fatalf("admitted %d, limited %d, other %d; want exactly 30 of 90", admitted.Load(), limited.Load(), other.Load())
	}

	// Redis killed mid-load.
	stop := make(chan struct{})
	codes := map[string]map[int]int{"/fallback": {}, "/closed": {}}
	var mu sync.Mutex
	for _, path := range []string{"/fallback", "/closed"} {
		for r := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					c := get(reps[r].URL + path)
					mu.Lock()
					codes[path][c]++
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
	}
	time.Sleep(100 * time.Millisecond)
	rs.Stop()
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	down := map[string]map[int]int{"/fallback": {}, "/closed": {}}
	for p := range codes {
		for c, n := range codes[p] {
			down[p][c] = n
		}
		codes[p] = map[int]int{}
	}
	mu.Unlock()
	rs.Start()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		n := codes["/closed"][200]
		codes["/closed"] = map[int]int{}
		mu.Unlock()
		if n > 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("while and after Redis died: %v", down)
	if down["/fallback"][500] != 0 || down["/closed"][500] != 0 || down["/fallback"][503] != 0 {
		t.Errorf("outage answers: %v", down)
	}
	if down["/closed"][503] == 0 {
		t.Errorf("fail_closed never answered 503 while Redis was down: %v", down)
	}
	if time.Now().After(deadline) {
		t.Errorf("fail_closed did not recover after Redis came back")
	}
	if c := get(reps[0].URL + "/fallback"); c != 200 {
		t.Errorf("fallback after recovery: %d", c)
	}
}

// Replicas share one revocation list: a token revoked once is refused by
// every gateway, even those that had already cached it.
func TestReplicasShareRevocation(t *testing.T) {
	redisURL := testredis.URL(t)
	prefix := testredis.Prefix(t)
	up, _ := startEcho(t, "app")
	cfg := fmt.Sprintf(`
listen: {addr: 127.0.0.1:0}
redis: {url: %q, prefix: %q}
upstreams: {app: {urls: [%q]}}
authenticators:
  jwt: {jwt: {algorithms: [HS256], revocation: redis, keys: [{kid: demo, alg: HS256, secret: "${JWT_SECRET}"}]}}
policies: {p: {authn: [jwt]}}
routes: [{match: "/", upstream: app, policy: p}]
`, redisURL, prefix, up.URL)
	a, b := replica(t, cfg), replica(t, cfg)
	tok := hsToken(t, "dave", nil, nil)
	call := func(s *httptest.Server) int {
		req, _ := http.NewRequest("GET", s.URL+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if call(a) != 200 || call(b) != 200 {
		t.Fatal("token refused before revocation")
	}
	// Revoke through a verifier of its own on the same Redis keys, as an
	// identity service's logout would.
	c := testredis.ClientOf(t, redisURL)
	k, _ := jwt.NewHMACKey("demo", jwt.HS256, []byte(testSecret))
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{k}, Store: redisstore.New(c, prefix+"jwt:")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Revoke(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if ca, cb := call(a), call(b); ca != 401 || cb != 401 {
		t.Errorf("after revocation: %d, %d", ca, cb)
	}
}

func TestReadyNeedsRequiredRedis(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	cfg, err := Parse("r.yaml", []byte(`
listen: {addr: 127.0.0.1:0}
redis: {url: "redis://`+addr+`/0", required: true, timeout: 100ms}
upstreams: {app: {urls: ["http://127.0.0.1:1"]}}
policies: {p: {}}
routes: [{match: "/", upstream: app, policy: p}]
`))
	if err != nil {
		t.Fatal(err)
	}
	tel, _ := NewTelemetry(nil, nil)
	g, err := Build(cfg, BuildOptions{Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(0)
	if err := g.Ready(context.Background()); err == nil {
		t.Error("ready without Redis")
	}
}

// Store errors of Redis-backed limiters reach /metrics.
func TestStoreErrorsMetric(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	up, _ := startEcho(t, "app")
	g := startGateway(t, fmt.Sprintf(`
listen: {addr: 127.0.0.1:0}
redis: {url: "redis://%s/0", timeout: 100ms}
upstreams: {app: {urls: [%q]}}
limits:
  shared: {store: redis, limits: [{algorithm: token_bucket, limit: 10, window: 1s, key: ip}]}
policies: {p: {rate_limits: [shared]}}
routes: [{match: "/", upstream: app, policy: p}]
`, addr, up.URL))
	if resp, _ := g.do("GET", "/x", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("fallback_local during the outage: %d", resp.StatusCode)
	}
	resp, err := http.Get(g.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `bulwark_store_errors_total{limiter="shared"} 1`) ||
		!strings.Contains(string(b), `bulwark_store_degraded{limiter="shared"} 1`) {
		t.Errorf("store metrics missing:\n%s", grepLines(string(b), "bulwark_store"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Two gateways on one Redis share sessions (a login on one is a session
// on the other; a logout on the other ends it everywhere), CSRF tokens
// and abuse counts (cards tried on either replica add up).
func TestReplicasShareSessionsAndAbuse(t *testing.T) {
	rs := testredis.StartServer(t)
	up, _ := startEcho(t, "app")
	users, err := filepath.Abs("../examples/gateway/browser-app/users.txt")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
listen: {addr: 127.0.0.1:0}
redis: {url: %q, prefix: %q, timeout: 2s}
upstreams: {app: {urls: [%q]}}
authenticators:
  users: {basic: {file: %q}}
  web: {session: {store: redis}}
csrf:
  web: {keys: ["${SESSION_CSRF_KEY}"], upstream_header: X-CSRF-Token}
abuse:
  cards: {fingerprint: "card:card_number,exp_month,exp_year", threshold: 3, store: redis, secret: "${ABUSE_SECRET}"}
policies:
  pages: {authn: [web], authn_optional: true, csrf: web}
  login: {csrf: web}
  app: {authn: [web], csrf: web, principal_headers: {subject: X-Auth-Subject}}
  pay: {abuse: [cards]}
routes:
  - {match: "GET /page", upstream: app, policy: pages}
  - {match: "POST /login", policy: login, session: {action: login, session: web, users: users, redirect: /app}}
  - {match: "POST /logout", policy: app, session: {action: logout, session: web}}
  - {match: "/app", upstream: app, policy: app}
  - {match: "POST /pay", upstream: app, policy: pay}
`, rs.URL(), testredis.Prefix(t), up.URL, users)
	a, b := replicaResolve(t, cfg, guardsResolver), replicaResolve(t, cfg, guardsResolver)
	send := func(base, method, path string, j jar, hdr map[string]string, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if c := j.header(); c != "" {
			req.Header.Set("Cookie", c)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		j.take(resp)
		return resp, out
	}
	j := jar{}
	_, page := send(a.URL, "GET", "/page", j, nil, "")
	token := decodeEcho(t, page).Header.Get("X-Csrf-Token")
	form := url.Values{"username": {"bob"}, "password": {"builder-2026"}, "csrf_token": {token}}
	resp, _ := send(b.URL, "POST", "/login", j, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if resp.StatusCode != 303 || j["session"] == "" {
		t.Fatalf("login on replica B: %d %v", resp.StatusCode, j)
	}
	// The session store honours redis.timeout (2s), not the library's
	// 250ms default: a Redis that stalls for 600ms (as a loaded machine
	// may) delays the request, and does not fail it. Redis lifts the
	// pause by itself.
	pauser := testredis.ClientOf(t, rs.URL())
	if err := pauser.Do(context.Background(), pauser.B().ClientPause().Timeout(600).All().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	resp, out := send(a.URL, "GET", "/app", j, nil, "")
	if resp.StatusCode != 200 || decodeEcho(t, out).Header.Get("X-Auth-Subject") != "bob" {
		t.Fatalf("session from B on A: %d %s", resp.StatusCode, out)
	}
	token = decodeEcho(t, out).Header.Get("X-Csrf-Token")
	if resp, _ := send(b.URL, "POST", "/logout", j.clone(), map[string]string{"X-CSRF-Token": token}, ""); resp.StatusCode != 303 {
		t.Fatalf("logout on B: %d", resp.StatusCode)
	}
	if resp, _ := send(a.URL, "GET", "/app", j, nil, ""); resp.StatusCode != 401 {
		t.Errorf("session logged out on B still works on A: %d", resp.StatusCode)
	}

	var codes []int
	for i, card := range []string{"4111111111111111", "4000000000000002", "5555555555554444", "378282246310005"} {
		base := []string{a.URL, b.URL}[i%2]
		resp, _ := send(base, "POST", "/pay", jar{}, map[string]string{"Content-Type": "application/json"},
			`{"card_number":"`+card+`","exp_month":1,"exp_year":2031}`)
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 403]" {
		t.Errorf("cards across replicas: %v, want the 4th refused", codes)
	}
}

// replicaResolve is replica with its own secret resolver.
func replicaResolve(t *testing.T, config string, res Resolver) *httptest.Server {
	t.Helper()
	cfg, err := Parse("replica.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	tel, err := NewTelemetry(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, BuildOptions{Telemetry: tel, Resolve: res})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(g)
	t.Cleanup(func() { s.Close(); g.Close(time.Second) })
	return s
}
