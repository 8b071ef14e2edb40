package bench

// Abuse detection (distinct-value velocity): Bulwark's abuse.Guard decision
// against the obvious hand-rolled detector (a mutex, a map of sets,
// crypto/hmac per call), in the same run; no peer library implements the
// seed's algorithm. Memory: 10,000 client IPs, parallel, HMAC fingerprint
// included; the JSON body extraction reported separately. Redis: 64
// concurrent callers on loopback, p50/p99 reported.
//
//	go test -run '^$' -bench 'Abuse' -benchmem

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

var abuseSecret = []byte(strings.Repeat("b", 32))

func abuseGuard(b *testing.B, st store.DistinctCounter, fp abuse.Source) *abuse.Guard {
	g, err := abuse.New(abuse.Options{Name: "bench", Store: st, Fingerprint: fp, Threshold: 3, Secret: abuseSecret})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// abuseRequests are 10,000 clients, each with one of 3 cards (under the
// threshold: the decision path, not the refusal).
func abuseRequests() []*http.Request {
	rs := make([]*http.Request, 10_000)
	for i := range rs {
		r := httptest.NewRequest("POST", "/api/checkout", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4000", i>>16&255, i>>8&255, i&255)
		r.Header.Set("X-Card", fmt.Sprintf("%04d|12/2030", i%3))
		rs[i] = r
	}
	return rs
}

func BenchmarkAbuse_Memory_Bulwark(b *testing.B) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	g := abuseGuard(b, st, abuse.Header("X-Card"))
	rs := abuseRequests()
	var n atomic.Uint64
	b.ReportAllocs()
	m := startMeter(b, nil)
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(7919))
		for pb.Next() {
			i++
			if _, p := g.Check(rs[i%len(rs)]); p != nil {
				b.Fatal(p)
			}
		}
	})
	m.stop()
}

// The same decision with the card read from a JSON body (bind.Peek, a
// top-level decode, the replayed body): the extraction's cost on top.
func BenchmarkAbuse_MemoryJSONBody_Bulwark(b *testing.B) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	g := abuseGuard(b, st, abuse.Card("card_number", "exp_month", "exp_year"))
	body := []byte(`{"card_number":"4242424242424242","exp_month":12,"exp_year":2030,"cvv":"123","amount":5,"email":"a@example.com"}`)
	var n atomic.Uint64
	b.ReportAllocs()
	m := startMeter(b, nil)
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(7919))
		r := httptest.NewRequest("POST", "/api/checkout", nil)
		r.Header.Set("Content-Type", "application/json")
		rd := bytes.NewReader(body)
		for pb.Next() {
			i++
			r.RemoteAddr = "10.0.0.1:4000"
			rd.Reset(body)
			r.Body = io.NopCloser(rd)
			if _, p := g.Check(r); p != nil {
				b.Fatal(p)
			}
		}
	})
	m.stop()
}

// naive is the detector one writes by hand: a mutex, a map of sets, a new
// HMAC per call; no expiry, no bound.
type naive struct {
	mu   sync.Mutex
	sets map[string]map[string]struct{}
}

func (d *naive) observe(client, value string) bool {
	m := hmac.New(sha256.New, abuseSecret)
	m.Write([]byte(value))
	fp := string(m.Sum(nil)[:16])
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sets[client]
	if s == nil {
		s = map[string]struct{}{}
		d.sets[client] = s
	}
	s[fp] = struct{}{}
	return len(s) > 3
}

func BenchmarkAbuse_Memory_HandRolled(b *testing.B) {
	d := &naive{sets: map[string]map[string]struct{}{}}
	rs := abuseRequests()
	var n atomic.Uint64
	b.ReportAllocs()
	m := startMeter(b, nil)
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(7919))
		for pb.Next() {
			i++
			r := rs[i%len(rs)]
			_ = d.observe(abuse.ClientKey(r), r.Header.Get("X-Card"))
		}
	})
	m.stop()
}

// 64 concurrent callers on a real Redis; p50 and p99 of one decision
// (HMAC, one EVALSHA round trip) reported as custom metrics.
func BenchmarkAbuse_Redis64_Bulwark(b *testing.B) {
	st, err := redisstore.Open(redisstore.Options{URL: benchRedisURL(b), Prefix: fmt.Sprintf("bench-abuse-%d:", time.Now().UnixNano())})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	g := abuseGuard(b, st, abuse.Header("X-Card"))
	rs := abuseRequests()
	var mu sync.Mutex
	var lat []time.Duration
	var n atomic.Uint64
	callers64(b)
	b.ReportAllocs()
	m := startMeter(b, rlGoRedis(b)) // this process's and the server's CPU per decision
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := int(n.Add(1))
			r := rs[i%len(rs)].Clone(b.Context())
			t0 := time.Now()
			if _, p := g.Check(r); p != nil {
				b.Error(p)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	m.stop()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
