package bench

// Rate limiting: Bulwark's ratelimit against the limiters Go users pick
// today, in the same run. Memory: 100,000 keys, parallel. Redis: 64
// concurrent callers (on any number of CPUs) over 100,000 keys, database 15
// (REDIS_URL to change it; nothing is flushed, every benchmark uses its own
// key prefix).
//
//	go test -run '^$' -bench 'Limiter_' -benchmem
//	go test -run '^$' -bench 'RedisLimiter_' -benchmem
//
// Besides ns/op, each reports decisions/s, cpu-ns/op (this process's CPU
// time per decision: steadier than wall time on a shared machine) and, for
// Redis, redis-cpu-ns/op (the server's CPU time per decision, from INFO
// cpu; other clients of the same server inflate it).

import (
	"context"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	sredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/bulwark-go/bulwark/internal/testhttp"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

const rlKeys = 100_000

var rlKeyList = func() []string {
	k := make([]string, rlKeys)
	for i := range k {
		k[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	return k
}()

// decisionsPerSecond reports the throughput of a parallel benchmark.
func decisionsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// cpuTime is the CPU time this process has used. On a shared machine the
// CPU time per decision is steadier than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter reports, when stopped, decisions/s and the CPU time per decision
// of this process and, given a Redis client, of the Redis server.
type meter struct {
	b          *testing.B
	cpu        time.Duration
	rdb        *redis.Client
	redisStart float64
}

func startMeter(b *testing.B, rdb *redis.Client) *meter {
	m := &meter{b: b, rdb: rdb}
	if rdb != nil {
		m.redisStart = redisCPU(b, rdb)
	}
	b.ResetTimer()
	m.cpu = cpuTime()
	return m
}

func (m *meter) stop() {
	m.b.StopTimer()
	n := float64(m.b.N)
	m.b.ReportMetric(float64(cpuTime()-m.cpu)/n, "cpu-ns/op")
	if m.rdb != nil {
		m.b.ReportMetric((redisCPU(m.b, m.rdb)-m.redisStart)*1e9/n, "redis-cpu-ns/op")
	}
	decisionsPerSecond(m.b)
}

// runDecisions meters decisions over the benchmark's keys from
// RunParallel's goroutines (and, given rdb, the Redis server's CPU time).
// Each goroutine calls worker once for its decide, then calls decide with
// the index of the next key, taken from one shared counter: one contended
// atomic per decision, which every limiter here pays alike.
func runDecisions(b *testing.B, rdb *redis.Client, worker func() func(key int) error) {
	var n atomic.Uint64
	b.ReportAllocs()
	m := startMeter(b, rdb)
	b.RunParallel(func(pb *testing.PB) {
		decide := worker()
		for pb.Next() {
			if err := decide(int(n.Add(1) % rlKeys)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	m.stop()
}

// shared is the worker of a decide that goroutines can share.
func shared(decide func(key int) error) func() func(int) error {
	return func() func(int) error { return decide }
}

// redisCPU is the CPU time (seconds) the Redis server has used.
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

func benchBulwarkMemory(b *testing.B, l ratelimit.Limit) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runDecisions(b, nil, shared(func(i int) error {
		_, err := lim.Allow(ctx, rlKeyList[i])
		return err
	}))
}

func BenchmarkLimiter_BulwarkGCRA(b *testing.B) {
	benchBulwarkMemory(b, ratelimit.GCRA(1<<30, time.Minute, 1<<30).By(ratelimit.Global()))
}

func BenchmarkLimiter_BulwarkTokenBucket(b *testing.B) {
	benchBulwarkMemory(b, ratelimit.TokenBucket(1<<30, 1<<24).By(ratelimit.Global()))
}

func BenchmarkLimiter_BulwarkFixedWindow(b *testing.B) {
	benchBulwarkMemory(b, ratelimit.FixedWindow(1<<30, time.Minute).By(ratelimit.Global()))
}

func BenchmarkLimiter_BulwarkSlidingWindow(b *testing.B) {
	// An exact log of 100 timestamps per key; 100 per minute is never
	// reached at 1 request per key per 100,000.
	benchBulwarkMemory(b, ratelimit.SlidingWindow(100, time.Minute).By(ratelimit.Global()))
}

// The same keyed decision through the HTTP path, like for like with
// httprate's OnLimit below: each derives the key from the request's peer
// address (IPv6 grouped by /64 in both) and writes its rate-limit headers
// (RateLimit-Policy and RateLimit here, X-RateLimit-Limit, -Remaining and
// -Reset there) into a fresh header map per request.
func BenchmarkLimiter_BulwarkDecideByIP(b *testing.B) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{
		ratelimit.GCRA(1<<30, time.Minute, 1<<30).By(ratelimit.ByIP())}})
	if err != nil {
		b.Fatal(err)
	}
	runByIP(b, func(w *testhttp.NopWriter, r *http.Request) error {
		_, err := bulwarkByIP(lim, w, r)
		return err
	})
}

// runByIP meters step over one request per benchmark key, each from that
// key as its peer address; every goroutine has its own header map.
func runByIP(b *testing.B, step func(w *testhttp.NopWriter, r *http.Request) error) {
	reqs := make([]*http.Request, rlKeys)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", "/", nil)
		reqs[i].RemoteAddr = rlKeyList[i] + ":1234"
	}
	runDecisions(b, nil, func() func(int) error {
		w := &testhttp.NopWriter{H: http.Header{}}
		return func(i int) error { return step(w, reqs[i]) }
	})
}

// The floor under every memory limiter above, in the same harness: the
// loop alone (a shared counter picking one of 100,000 keys — one
// contended atomic per decision, which every benchmark here pays), then
// with what any exact limiter adds before it touches its table: hashing
// the key and reading the monotonic clock. What a limiter costs above
// "harness+hash+clock" is its own work.
func BenchmarkLimiter_Floor(b *testing.B) {
	seed := maphash.MakeSeed()
	start := time.Now()
	for _, c := range []struct {
		name string
		op   func(string) int64
	}{
		{"harness", func(k string) int64 { return int64(len(k)) }},
		{"harness+hash+clock", func(k string) int64 {
			return int64(maphash.String(seed, k)) ^ int64(time.Since(start))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			runDecisions(b, nil, func() func(int) error {
				var acc int64 // the goroutine's own: the results are used, no line is shared
				return func(i int) error {
					acc += c.op(rlKeyList[i])
					return nil
				}
			})
		})
	}
}

func BenchmarkLimiter_PeerSethvargoMemory(b *testing.B) {
	st, err := memorystore.New(&memorystore.Config{Tokens: 1 << 30, Interval: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(context.Background())
	ctx := context.Background()
	runDecisions(b, nil, shared(func(i int) error {
		_, _, _, _, err := st.Take(ctx, rlKeyList[i])
		return err
	}))
}

func BenchmarkLimiter_PeerUluleMemory(b *testing.B) {
	lim := limiter.New(memory.NewStore(), limiter.Rate{Period: time.Minute, Limit: 1 << 30})
	ctx := context.Background()
	runDecisions(b, nil, shared(func(i int) error {
		_, err := lim.Get(ctx, rlKeyList[i])
		return err
	}))
}

// httprate keyed by the peer address the way its KeyByIP does (split the
// host, CanonicalizeIP; KeyByIP itself is deprecated for trusting
// RemoteAddr, which this benchmark means to), headers written by OnLimit.
func BenchmarkLimiter_PeerHttprate(b *testing.B) {
	rl := httprate.NewRateLimiter(1<<30, time.Minute)
	runByIP(b, func(w *testhttp.NopWriter, r *http.Request) error {
		httprateByIP(rl, w, r)
		return nil
	})
}

// bulwarkByIP is one request of BenchmarkLimiter_BulwarkDecideByIP: decide
// by the request's IP and write the headers into a fresh header map.
func bulwarkByIP(lim *ratelimit.Limiter, w *testhttp.NopWriter, r *http.Request) (allowed bool, err error) {
	clear(w.H)
	d, err := lim.Decide(r)
	if err != nil {
		return false, err
	}
	lim.SetHeaders(w.H, d)
	return d.Allowed, nil
}

// httprateByIP is one request of BenchmarkLimiter_PeerHttprate: the same,
// through httprate.
func httprateByIP(rl *httprate.RateLimiter, w *testhttp.NopWriter, r *http.Request) (allowed bool) {
	clear(w.H)
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return !rl.OnLimit(w, r, httprate.CanonicalizeIP(host))
}

// TestByIPBenchmarksAlike checks that the two benchmarks above compare
// like with like: each keys by the request's peer address, and each writes
// its rate-limit headers.
func TestByIPBenchmarksAlike(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ratelimit.FixedWindow(1, time.Hour).By(ratelimit.ByIP())}})
	if err != nil {
		t.Fatal(err)
	}
	rl := httprate.NewRateLimiter(1, time.Hour)
	for name, step := range map[string]func(*testhttp.NopWriter, *http.Request) bool{
		"bulwark": func(w *testhttp.NopWriter, r *http.Request) bool {
			ok, err := bulwarkByIP(lim, w, r)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		},
		"httprate": func(w *testhttp.NopWriter, r *http.Request) bool { return httprateByIP(rl, w, r) },
	} {
		w := &testhttp.NopWriter{H: http.Header{}}
		from := func(addr string) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = addr
			return r
		}
		if !step(w, from("10.0.0.1:1111")) || len(w.H) == 0 {
			t.Errorf("%s: first request refused, or no headers written (%v)", name, w.H)
		}
		if step(w, from("10.0.0.1:2222")) {
			t.Errorf("%s: the same IP from another port was not limited", name)
		}
		if !step(w, from("10.0.0.2:1111")) {
			t.Errorf("%s: another IP shared the limit", name)
		}
	}
}

// Redis: 64 concurrent callers, 100,000 keys.

// callers64 makes RunParallel start 64 goroutines (at least, and fewer
// than 64 + GOMAXPROCS) on any machine: RunParallel starts parallelism ×
// GOMAXPROCS.
func callers64(b *testing.B) { b.SetParallelism(parallelismFor64(runtime.GOMAXPROCS(0))) }

// parallelismFor64 is ceil(64 / procs).
func parallelismFor64(procs int) int { return (64 + procs - 1) / procs }

func TestParallelismFor64(t *testing.T) {
	for _, procs := range []int{1, 2, 3, 4, 6, 8, 24, 64, 96, 128} {
		if n := parallelismFor64(procs) * procs; n < 64 || n >= 64+procs {
			t.Errorf("GOMAXPROCS %d: %d callers", procs, n)
		}
	}
}

func rlRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

func rlGoRedis(b *testing.B) *redis.Client {
	opt, err := redis.ParseURL(rlRedisURL())
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 64
	c := redis.NewClient(opt)
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Skip("no redis:", err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// cleanRedisPrefix deletes, when b ends, every key the benchmark left
// under prefix, so that no run leaves state behind (the exact GCRA
// benchmark's keys would otherwise live for their 18-minute burst) and
// every benchmark meets a keyspace of the same size.
func cleanRedisPrefix(b *testing.B, rdb *redis.Client, pattern string) {
	b.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, pattern, 10_000).Iterator()
		batch := make([]string, 0, 1000)
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
				rdb.Unlink(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			rdb.Unlink(ctx, batch...)
		}
		if err := iter.Err(); err != nil {
			b.Error(err)
		}
	})
}

func benchBulwarkRedis(b *testing.B, maxBatch int) {
	rdb := rlGoRedis(b) // skips without Redis; reads the server's CPU time
	client, err := redisstore.NewClient(redisstore.Options{URL: rlRedisURL()})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	prefix := fmt.Sprintf("b%x:", time.Now().UnixNano()&0xffffff)
	cleanRedisPrefix(b, rdb, prefix+"*")
	st, err := redislimit.New(redislimit.Options{Client: client, Prefix: prefix, MaxBatch: maxBatch, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// GCRA, exact: a refill interval of 1µs (Redis's resolution) and a
	// burst no key reaches, so every decision is a full read-check-write.
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.GCRA(1_000_000, time.Second, 1<<30).By(ratelimit.Global())},
		Store:  st, Outage: ratelimit.FailClosed,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	callers64(b)
	runDecisions(b, rdb, shared(func(i int) error {
		d, err := lim.Allow(ctx, rlKeyList[i])
		if err == nil && !d.Allowed {
			err = fmt.Errorf("refused: %+v", d)
		}
		return err
	}))
}

func BenchmarkRedisLimiter_BulwarkGCRA(b *testing.B)           { benchBulwarkRedis(b, 0) }
func BenchmarkRedisLimiter_BulwarkGCRANoCoalesce(b *testing.B) { benchBulwarkRedis(b, 1) }

func BenchmarkRedisLimiter_PeerUluleGoRedis(b *testing.B) {
	c := rlGoRedis(b)
	prefix := fmt.Sprintf("ulule%d", time.Now().UnixNano())
	cleanRedisPrefix(b, c, prefix+"*")
	st, err := sredis.NewStoreWithOptions(c, limiter.StoreOptions{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	lim := limiter.New(st, limiter.Rate{Period: time.Minute, Limit: 1 << 30})
	ctx := context.Background()
	callers64(b)
	runDecisions(b, c, shared(func(i int) error {
		_, err := lim.Get(ctx, rlKeyList[i])
		return err
	}))
}

func BenchmarkRedisLimiter_PeerRedisRateGCRA(b *testing.B) {
	c := rlGoRedis(b)
	lim := redis_rate.NewLimiter(c)
	ctx := context.Background()
	prefix := fmt.Sprintf("rr%d:", time.Now().UnixNano())
	cleanRedisPrefix(b, c, "*"+prefix+"*")
	keys := make([]string, rlKeys)
	for i := range keys {
		keys[i] = prefix + rlKeyList[i]
	}
	callers64(b)
	runDecisions(b, c, shared(func(i int) error {
		_, err := lim.Allow(ctx, keys[i], redis_rate.PerMinute(1<<30))
		return err
	}))
}
