// Command loadgen measures, in one run on loopback, the requests per second
// and the p50/p99 latency of: the upstream direct, a bare
// httputil.ReverseProxy, and the gateway with JWT (HS256, cache on) + rate
// limits (in memory, then in Redis) + CORS + the API header profile, with
// traffic drawn from 10,000 distinct tokens, Zipf-distributed.
//
//	go run ./cmd/loadgen [-d 5s] [-c 32] [-redis redis://127.0.0.1:6379/0]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"

	"sync"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/gateway"
)

const secret = "loadgen-secret-0123456789abcdef-0123456789"

func main() {
	dur := flag.Duration("d", 5*time.Second, "duration of each measurement")
	conc := flag.Int("c", 32, "concurrent clients")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis for the shared-state run; empty: skip it")
	tokens := flag.Int("tokens", 10000, "distinct tokens")
	rounds := flag.Int("rounds", 5, "interleaved rounds: each target is measured d/rounds per round, so that drift in the machine's load hits every target alike")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the in-memory gateway run to this file")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))

	upstream := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":42,"name":"widget","price":"9.99"}`)
	}))
	target, _ := url.Parse(upstream)
	bare := serve(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: true},
	})
	toks := issue(*tokens)

	type run struct{ name, url string }
	runs := []run{{"upstream direct", upstream}, {"bare ReverseProxy", bare}}
	gwMem := startGateway(config(upstream, "memory", ""))
	runs = append(runs, run{"bulwark gateway (memory)", gwMem})
	if *redisURL != "" {
		runs = append(runs, run{"bulwark gateway (Redis)", startGateway(config(upstream, "redis", *redisURL))})
	}
	fmt.Printf("loadgen: %d clients, %s per target in %d interleaved rounds, %d tokens (Zipf s=1.1), one process on loopback\n\n", *conc, *dur, *rounds, *tokens)
	fmt.Printf("%-28s %10s %10s %10s %8s\n", "target", "req/s", "p50", "p99", "errors")
	for _, r := range runs {
		load(r.url, toks, *conc, *dur/10) // warm-up: connections, caches
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			panic(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	total := make([]sample, len(runs))
	for range *rounds {
		for i, r := range runs {
			total[i].add(load(r.url, toks, *conc, *dur/time.Duration(*rounds)))
		}
	}
	var bareRPS float64
	var bareP99 time.Duration
	for i, r := range runs {
		res := total[i].result()
		ratio := ""
		if r.name == "bare ReverseProxy" {
			bareRPS, bareP99 = res.rps, res.p99
		} else if bareRPS > 0 {
			ratio = fmt.Sprintf("  %.0f%% of bare req/s, p99 %.2f×", 100*res.rps/bareRPS, float64(res.p99)/float64(bareP99))
		}
		fmt.Printf("%-28s %10.0f %10s %10s %8d%s\n", r.name, res.rps, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.errors, ratio)
	}
}

func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return "http://" + ln.Addr().String()
}

func config(upstream, store, redisURL string) string {
	redis := ""
	if store == "redis" {
		redis = fmt.Sprintf("redis: {url: %q, prefix: \"bulwark:loadgen:%d:\"}\n", redisURL, time.Now().UnixNano())
	}
	return redis + `
listen: {addr: "127.0.0.1:0"}
upstreams: {app: {urls: ["` + upstream + `"]}}
cors:
  spa: {allowed_origins: ["https://app.example.com"], allowed_headers: [Authorization], exposed_headers: [X-Request-ID]}
limits:
  per_user: {store: ` + store + `, limits: [{name: u, algorithm: token_bucket, limit: 1000000, window: 1s, key: principal}]}
authenticators:
  jwt: {jwt: {algorithms: [HS256], cache_size: 20000, keys: [{kid: k1, alg: HS256, secret: "${LOADGEN_SECRET}"}]}}
policies:
  api: {cors: spa, authn: [jwt], principal_limits: [per_user]}
routes:
  - {match: "GET /api/", upstream: app, policy: api}
`
}

func startGateway(config string) string {
	cfg, err := gateway.Parse("loadgen.yaml", []byte(config))
	if err != nil {
		panic(err)
	}
	tel, err := gateway.NewTelemetry(nil, nil)
	if err != nil {
		panic(err)
	}
	res := func(string) (string, bool) { return secret, true }
	g, err := gateway.Build(cfg, gateway.BuildOptions{Telemetry: tel, Resolve: res})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	return serve(g)
}

func issue(n int) []string {
	k, err := jwt.NewHMACKey("k1", jwt.HS256, []byte(secret))
	if err != nil {
		panic(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, TTL: time.Hour, Type: "JWT"})
	if err != nil {
		panic(err)
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = iss.Issue(jwt.Claims{Subject: fmt.Sprintf("user-%d", i), Scopes: []string{"read"}}); err != nil {
			panic(err)
		}
	}
	return out
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// sample is what one or more measurements of a target saw.
type sample struct {
	lat     []time.Duration
	elapsed time.Duration
	errors  int
}

func (s *sample) add(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.elapsed += o.elapsed
	s.errors += o.errors
}

func (s *sample) result() result {
	slices.Sort(s.lat)
	pct := func(p float64) time.Duration {
		if len(s.lat) == 0 {
			return 0
		}
		return s.lat[min(len(s.lat)-1, int(p*float64(len(s.lat))))]
	}
	return result{rps: float64(len(s.lat)) / s.elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: s.errors}
}

func load(base string, toks []string, conc int, dur time.Duration) sample {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, DisableCompression: true}}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(toks)-1))
			lat := make([]time.Duration, 0, 1<<14)
			e := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequest("GET", base+"/api/items/42", nil)
				req.Header.Set("Authorization", "Bearer "+toks[zipf.Uint64()])
				req.Header.Set("Origin", "https://app.example.com")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						e++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					e++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	client.CloseIdleConnections()
	return sample{lat: all, elapsed: elapsed, errors: errs}
}
