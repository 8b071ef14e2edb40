package abuse_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// testTimeout bounds the test stores' commands. The default (250ms) is an
// outage bound for production; under -race on a loaded CI machine a burst
// of 64 callers can queue longer than that, and three such timeouts open
// the store's circuit breaker, turning latency into a run of 503s. These
// tests assert counts, not latency (the load test reports it): the
// outage policy has its own test against a dead server.
const testTimeout = 30 * time.Second

func redisStores(t *testing.T, n int) []*redisstore.Store {
	t.Helper()
	url := testredis.URL(t)
	prefix := testredis.Prefix(t)
	var out []*redisstore.Store
	for range n {
		st, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: testTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out = append(out, st)
	}
	return out
}

// Two replicas on one Redis see one count: cards alternate between them,
// and the 4th distinct card is refused by whichever gets it; the window
// restarts with blocked attempts on either. Redis owns the clock of its
// TTLs, so the test stands in for elapsed time by lowering the TTL one
// replica wrote (PEXPIRE, as if 59 minutes had passed) and reads with
// PTTL that a blocked attempt on the other replica restored the hour.
func TestGuardRedisReplicas(t *testing.T) {
	sts := redisStores(t, 2)
	a := cardGuard(t, sts[0], nil, nil).Handler(echo)
	b := cardGuard(t, sts[1], nil, nil).Handler(echo)
	ip := "203.0.113.77"
	months := []int{1, 1, 2, 3, 3} // three distinct cards, two of them twice
	for i, h := range []http.Handler{a, b, a, b, a} {
		if w := checkout(h, ip, "4000000000001111", months[i]); w.Code != 200 {
			t.Fatalf("card %d: %d", i, w.Code)
		}
	}
	if w := checkout(b, ip, "4000000000001111", 9); w.Code != 403 {
		t.Fatalf("4th distinct card on replica b: %d", w.Code)
	}
	if w := checkout(a, ip, "4000000000001111", 1); w.Code != 403 {
		t.Fatalf("accepted card on replica a while blocked: %d", w.Code)
	}
	// The client's one set (the guard has no other view, and only ip has
	// tried yet), read with a raw client.
	raw := sts[0].Client()
	ctx := context.Background()
	keys, err := raw.Do(ctx, raw.B().Keys().Pattern(sts[0].Prefix()+"abuse:card-testing:*").Build()).AsStrSlice()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the client's set: %v %v", keys, err)
	}
	pttl := func() time.Duration {
		ms, err := raw.Do(ctx, raw.B().Pttl().Key(keys[0]).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return time.Duration(ms) * time.Millisecond
	}
	age := func() { // as if 59 minutes had passed since the last attempt
		if err := raw.Do(ctx, raw.B().Pexpire().Key(keys[0]).Milliseconds(time.Minute.Milliseconds()).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if d := pttl(); d > time.Minute {
			t.Fatalf("PTTL %v after PEXPIRE", d)
		}
	}
	if d := pttl(); d < 59*time.Minute { // replica a's blocked attempt wrote the hour
		t.Fatalf("PTTL %v after a blocked attempt on a, want about an hour", d)
	}
	for i, h := range []http.Handler{b, a, b} { // blocked on b restarts a's hour, and back
		age()
		if w := checkout(h, ip, "4000000000001111", 1+i); w.Code != 403 {
			t.Fatalf("blocked attempt %d: %d", i, w.Code)
		}
		if d := pttl(); d < 59*time.Minute {
			t.Fatalf("blocked attempt %d did not restart the window: PTTL %v", i, d)
		}
	}
	if n, err := raw.Do(ctx, raw.B().Scard().Key(keys[0]).Build()).AsInt64(); err != nil || n != 4 {
		t.Fatalf("the set holds %d members (%v), want 4: blocked attempts add nothing", n, err)
	}
	if w := checkout(a, "198.51.100.7", "4000000000001111", 9); w.Code != 200 {
		t.Fatalf("another IP: %d", w.Code)
	}
}

// The script itself, with a short window on real Redis: a touch restarts
// a sliding set, not a fixed one; a touch never creates; the cap holds;
// the approximate mode counts within its error.
func TestRedisCountDistinct(t *testing.T) {
	st := redisStores(t, 1)[0]
	ctx := t.Context()
	ops := []store.DistinctOp{
		{Key: "s", Member: "m1", TTL: time.Hour, Sliding: true, Cap: 2},
		{Key: "s", Member: "m1", TTL: time.Hour, Sliding: true, Cap: 2},
		{Key: "s", Member: "m2", TTL: time.Hour, Sliding: true, Cap: 2},
		{Key: "s", Member: "m3", TTL: time.Hour, Sliding: true, Cap: 2},
		{Key: "s", Member: "m4", TTL: time.Hour, Sliding: true, Cap: 2},
		{Key: "missing", TTL: time.Hour, Sliding: true},
		{Key: "f", Member: "x", TTL: time.Hour},
	}
	if err := st.CountDistinct(ctx, ops); err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, o := range ops {
		sizes = append(sizes, o.Size)
	}
	if !slices.Equal(sizes, []int64{1, 1, 2, 3, 3, 0, 1}) || ops[3].Added != true || ops[4].Added {
		t.Fatalf("sizes %v ops %+v", sizes, ops)
	}
	c := st.Client()
	pttl := func(k string) int64 {
		v, err := c.Do(ctx, c.B().Pttl().Key(st.Key(k)).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if pttl("missing") != -2 {
		t.Fatal("a touch created a set")
	}
	// Shorten both, then touch: the sliding one is restarted, the fixed
	// one is not.
	for _, k := range []string{"s", "f"} {
		_ = c.Do(ctx, c.B().Pexpire().Key(st.Key(k)).Milliseconds(5000).Build()).Error()
	}
	if err := st.CountDistinct(ctx, []store.DistinctOp{{Key: "s", TTL: time.Hour, Sliding: true}, {Key: "f", Member: "y", TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if s, f := pttl("s"), pttl("f"); s < 3_500_000 || f > 5000 {
		t.Fatalf("pttl s=%d (restarted?) f=%d (fixed?)", s, f)
	}
	// HyperLogLog: 20,000 distinct members, within 3 standard errors.
	batch := make([]store.DistinctOp, 0, 500)
	for i := range 20_000 {
		batch = append(batch, store.DistinctOp{Key: "h", Member: fmt.Sprint("m", i), TTL: time.Hour, Sliding: true, Approximate: true})
		if len(batch) == cap(batch) {
			if err := st.CountDistinct(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	one := []store.DistinctOp{{Key: "h", TTL: time.Hour, Sliding: true, Approximate: true}}
	if err := st.CountDistinct(ctx, one); err != nil {
		t.Fatal(err)
	}
	if d := float64(one[0].Size-20_000) / 20_000; d > 0.0243 || d < -0.0243 {
		t.Fatalf("HyperLogLog estimate %d off by %.2f%%", one[0].Size, d*100)
	}
}

// Redis down: fail closed with one outage event, then recovery.
func TestGuardRedisDown(t *testing.T) {
	st, err := redisstore.Open(redisstore.Options{URL: "redis://127.0.0.1:1/0", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sink := audit.NewMemory()
	h := cardGuard(t, st, sink, nil).Handler(echo)
	for range 3 {
		if w := checkout(h, "203.0.113.9", "4000000000001111", 1); w.Code != 503 {
			t.Fatalf("%d", w.Code)
		}
	}
	n := 0
	for _, e := range sink.Events() {
		if e.Decision == audit.Flag && e.Reason == abuse.ReasonStoreUnavailable {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d outage events, want 1", n)
	}
}

// The load figure: 64 concurrent callers, 10,000 distinct client IPs, the
// guard's decision (HMAC, one script round trip) on a real Redis on
// loopback; p50 and p99 logged. Kept to a few seconds.
func TestGuardRedisLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	st := redisStores(t, 1)[0]
	g := cardGuard(t, st, nil, func(o *abuse.Options) { o.Fingerprint = abuse.Header("X-Card") })
	const workers, perWorker = 64, 300
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			r := httptest.NewRequest("POST", "/api/checkout", nil)
			<-start
			for i := range perWorker {
				n := w*perWorker + i
				r.RemoteAddr = fmt.Sprintf("10.%d.%d.1:4000", (n%10_000)/100, n%100)
				r.Header.Set("X-Card", fmt.Sprint(n%7))
				t0 := time.Now()
				_, p := g.Check(r)
				lat[w] = append(lat[w], time.Since(t0))
				if p != nil { // at most 2 cards per IP: nothing is refused
					t.Errorf("problem %d %s: %v", p.Status, p.Detail, p.Err)
					return
				}
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))] }
	t.Logf("%d decisions by %d callers over 10,000 client IPs in %v (%.0f/s): p50 %v, p99 %v, max %v",
		len(all), workers, el.Round(time.Millisecond), float64(len(all))/el.Seconds(), q(0.50), q(0.99), all[len(all)-1])
}
