package bench

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/password"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/crypto/argon2"
)

// HTTP Basic is dominated by argon2id by design (password.Default: 19 MiB,
// t=2): these benchmarks report that cost per check, what the concurrency
// budget does to it under parallel load, and two peers — the same argon2id
// check stitched from net/http and x/crypto without a budget, and chi's
// BasicAuth middleware, which compares plain-text passwords (no hash at
// all: the price of storing passwords in the clear).
//
//	go test -run '^$' -bench 'Basic' -benchmem

const basicPW = "wonderland-2026"

var basicCred = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+basicPW))

func bulwarkBasic(b *testing.B, maxConc int) (http.Handler, *password.Verifier) {
	b.Helper()
	v, err := password.NewVerifier(password.Options{MaxConcurrent: maxConc, MaxWait: password.MaxMaxWait})
	if err != nil {
		b.Fatal(err)
	}
	h, _ := password.Hash(basicPW)
	a, err := basic.New(basic.Options{Users: map[string]basic.User{"alice": {Hash: h}}, Verifier: v})
	if err != nil {
		b.Fatal(err)
	}
	g, _ := authn.New(authn.Options{Authenticator: a})
	return g.Require(okHandler(false)), v
}

// stitchedBasic is what a Go user writes with net/http and x/crypto:
// r.BasicAuth, the PHC string's salt and key, argon2.IDKey, a
// constant-time compare — no budget, no stand-in for unknown users.
func stitchedBasic(b *testing.B) http.Handler {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(basicPW), salt, 2, 19*1024, 1, 32)
	next := okHandler(false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "alice" || subtle.ConstantTimeCompare(argon2.IDKey([]byte(p), salt, 2, 19*1024, 1, 32), key) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func chiBasic() http.Handler {
	return middleware.BasicAuth("api", map[string]string{"alice": basicPW})(okHandler(false))
}

func serveBasic(b *testing.B, h http.Handler, cred string) int {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", cred)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// TestBasicPeersAgree: every compared handler admits alice and refuses a
// wrong password.
func TestBasicPeersAgree(t *testing.T) {
	b := &testing.B{}
	bw, _ := bulwarkBasic(b, 1)
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:nope"))
	for name, h := range map[string]http.Handler{"bulwark": bw, "stitched": stitchedBasic(b), "chi": chiBasic()} {
		if got := serveBasic(b, h, basicCred); got != 200 {
			t.Errorf("%s: right password answered %d", name, got)
		}
		if got := serveBasic(b, h, wrong); got != 401 {
			t.Errorf("%s: wrong password answered %d", name, got)
		}
	}
}

func runBasicSerial(b *testing.B, h http.Handler, cred string) {
	b.ReportAllocs()
	for b.Loop() {
		if serveBasic(b, h, cred) == 500 {
			b.Fatal("500")
		}
	}
}

func BenchmarkBasic_Bulwark(b *testing.B) {
	h, _ := bulwarkBasic(b, 1)
	runBasicSerial(b, h, basicCred)
}

// Unknown user: the stand-in hash, the same work as a real check.
func BenchmarkBasic_BulwarkUnknownUser(b *testing.B) {
	h, _ := bulwarkBasic(b, 1)
	runBasicSerial(b, h, "Basic "+base64.StdEncoding.EncodeToString([]byte("mallory:"+basicPW)))
}

// Malformed header: refused before any hash work.
func BenchmarkBasic_BulwarkMalformed(b *testing.B) {
	h, _ := bulwarkBasic(b, 1)
	runBasicSerial(b, h, "Basic "+strings.Repeat("!", 64))
}

func BenchmarkBasic_PeerStitchedArgon2(b *testing.B) { runBasicSerial(b, stitchedBasic(b), basicCred) }
func BenchmarkBasic_PeerChiPlaintext(b *testing.B)   { runBasicSerial(b, chiBasic(), basicCred) }

// Parallel load (-cpu decides the goroutines: RunParallel runs
// GOMAXPROCS of them, more with SetParallelism): the budget bounds the
// checks computing at once, so argon2 memory stays at MaxConcurrent ×
// 19 MiB whatever the load; peak-running reports it. The unbounded peer
// runs as many as arrive.
func runBasicParallel(b *testing.B, h http.Handler, v *password.Verifier) {
	b.ReportAllocs()
	b.SetParallelism(4)
	var refused atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			switch serveBasic(b, h, basicCred) {
			case 200:
			case 503:
				refused.Add(1)
			default:
				b.Error("unexpected status")
			}
		}
	})
	if v != nil {
		s := v.Stats()
		b.ReportMetric(float64(s.PeakRunning), "peak-running")
		b.ReportMetric(float64(s.PeakMemory>>20), "peak-argon2-MiB")
	}
	b.ReportMetric(float64(refused.Load()), "503s")
}

func BenchmarkBasicParallel_BulwarkBudget1(b *testing.B) {
	h, v := bulwarkBasic(b, 1)
	runBasicParallel(b, h, v)
}

func BenchmarkBasicParallel_BulwarkBudget4(b *testing.B) {
	h, v := bulwarkBasic(b, 4)
	runBasicParallel(b, h, v)
}

func BenchmarkBasicParallel_PeerStitchedUnbounded(b *testing.B) {
	runBasicParallel(b, stitchedBasic(b), nil)
}
