// Command loadgen measures, in one run on loopback, the requests per second
// and the p50/p99 latency of: the upstream direct, a bare
// httputil.ReverseProxy, and `bulwark serve` — the gateway's real server
// path, gateway.NewServer with its public listener settings (header
// timeouts and size cap), the admin listener, the config-file watcher and
// the access log on (JSON lines to a file) — with JWT (HS256, cache on) +
// a rate limit (in memory, then in Redis) + CORS + the API header
// profile, with traffic drawn from 10,000 distinct tokens, Zipf-distributed.
// The rate limit (1,000,000 per second per principal) is high enough never
// to deny: the figures are the cost of checking it, and a denial would be
// counted as an error.
//
//	go run ./cmd/loadgen [-d 5s] [-c 32] [-redis redis://127.0.0.1:6379/0] [-accesslog FILE] [-cpuprofile FILE] [-memprofile FILE]
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
	"path/filepath"
	"runtime"
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
	profile := flag.String("cpuprofile", "", "write a CPU profile of the measured rounds (every target) to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the measured rounds (every target) to this file")
	logPath := flag.String("accesslog", "", "the gateway's access and audit log; default a temporary file, removed at exit")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if *logPath == "" {
		*logPath = filepath.Join(dir, "gateway.log")
	}
	logFile, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		panic(err)
	}
	defer logFile.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	gw := &gateways{ctx: ctx, dir: dir, log: logFile}

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
	runs = append(runs, run{"bulwark serve (memory)", gw.start(config(upstream, "memory", "", *logPath))})
	if *redisURL != "" {
		runs = append(runs, run{"bulwark serve (Redis)", gw.start(config(upstream, "redis", *redisURL, *logPath))})
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
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			f, err := os.Create(*memProfile)
			if err != nil {
				panic(err)
			}
			defer f.Close()
			pprof.Lookup("allocs").WriteTo(f, 0)
		}()
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

func config(upstream, store, redisURL, logPath string) string {
	redis := ""
	if store == "redis" {
		redis = fmt.Sprintf("redis: {url: %q, prefix: \"bulwark:loadgen:%d:\"}\n", redisURL, time.Now().UnixNano())
	}
	return redis + `
listen: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0"}
log: {access_log: true, audit_file: "` + logPath + `"}
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

// gateways start `bulwark serve`'s server: gateway.NewServer on a config
// file, run until ctx ends.
type gateways struct {
	ctx context.Context
	dir string
	log io.Writer
	n   int
}

func (g *gateways) start(config string) string {
	g.n++
	path := filepath.Join(g.dir, fmt.Sprintf("gateway-%d.yaml", g.n))
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		panic(err)
	}
	// The listener is the one serve would open on listen.addr; passing it
	// only tells loadgen its port. Everything else is serve's own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv, err := gateway.NewServer(gateway.ServerOptions{
		ConfigPath: path,
		Logger:     slog.New(slog.NewJSONHandler(g.log, nil)),
		Resolve:    func(string) (string, bool) { return secret, true },
		Listener:   ln,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	go func() {
		if err := srv.Run(g.ctx); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: serve:", err)
			os.Exit(1)
		}
	}()
	return "http://" + ln.Addr().String()
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
