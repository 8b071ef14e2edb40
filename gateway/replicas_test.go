package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
	cfg, err := Parse("replica.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	tel, err := NewTelemetry(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, BuildOptions{Telemetry: tel, Resolve: testResolver})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(g)
	t.Cleanup(func() { s.Close(); g.Close(time.Second) })
	return s
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
