package jwks_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
	"github.com/bulwark-go/bulwark/internal/testclock"
)

// idp is a fake identity provider serving a JWKS it can rotate.
type idp struct {
	mu     sync.Mutex
	keys   []*jwt.Key // private keys; their public halves are served
	status int
	body   []byte // overrides the document when set
	hits   atomic.Int64
	gate   chan struct{} // when set, requests wait for it
	cc     []string      // when set, replaces the Cache-Control field (empty: none)
	age    string        // when set, the Age field
}

func (p *idp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != 0 {
		w.WriteHeader(p.status)
		return
	}
	if p.body != nil {
		_, _ = w.Write(p.body)
		return
	}
	h, err := jwt.JWKSHandler(p.keys...)
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	if p.cc != nil {
		w.Header().Del("Cache-Control")
		for _, v := range p.cc {
			w.Header().Add("Cache-Control", v)
		}
	}
	if p.age != "" {
		w.Header().Set("Age", p.age)
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (p *idp) set(fn func(p *idp)) {
	p.mu.Lock()
	fn(p)
	p.mu.Unlock()
}

func genKey(t testing.TB, kid string) *jwt.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwt.NewKey(kid, jwt.ES256, priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t testing.TB, k *jwt.Key, now time.Time) string {
	t.Helper()
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(jwt.Claims{Subject: "user-" + k.ID()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newRemote(t testing.TB, url string, c *testclock.Clock) *jwks.Remote {
	t.Helper()
	r, err := jwks.New(jwks.Options{URL: url, Now: c.Now, Logger: quiet, RefreshInterval: time.Hour, MinRefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestRemoteRotationAndRateLimit(t *testing.T) {
	c := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	k1, k2, k3 := genKey(t, "k1"), genKey(t, "k2"), genKey(t, "k3")
	p := &idp{keys: []*jwt.Key{k1}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r := newRemote(t, srv.URL+"/.well-known/jwks.json", c)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{KeySet: r, Algorithms: []string{jwt.ES256}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(t, k1, c.Now())); err != nil {
		t.Fatal(err)
	}
	if p.hits.Load() != 1 {
		t.Fatalf("%d fetches, want 1", p.hits.Load())
	}
	gen := r.Generation()

	// The provider rotates to k2: the unknown kid triggers one refresh.
	p.set(func(p *idp) { p.keys = []*jwt.Key{k1, k2} })
	c.Advance(2 * time.Minute)
	if _, err := v.Verify(context.Background(), sign(t, k2, c.Now())); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if p.hits.Load() != 2 || r.Generation() == gen {
		t.Fatalf("%d fetches, generation %d→%d", p.hits.Load(), gen, r.Generation())
	}
	// Random kids within MinRefreshInterval cause no more fetches.
	for _, kid := range []string{"x", "y", "z", "k3"} {
		_, err := v.Verify(context.Background(), sign(t, genKey(t, kid), c.Now()))
		if err == nil {
			t.Fatalf("kid %s accepted", kid)
		}
	}
	if p.hits.Load() != 2 {
		t.Fatalf("%d fetches after unknown kids, want 2 (rate-limited)", p.hits.Load())
	}
	// After the interval, k3 is found.
	p.set(func(p *idp) { p.keys = []*jwt.Key{k2, k3} })
	c.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), sign(t, k3, c.Now())); err != nil {
		t.Fatal(err)
	}
	// k1 was withdrawn: its tokens are refused, cached or not.
	_, err = v.Verify(context.Background(), sign(t, k1, c.Now()))
	if err == nil {
		t.Fatal("withdrawn key still verifies")
	}
}

func TestRemoteSingleflight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2 := genKey(t, "k1"), genKey(t, "k2")
		p := &idp{keys: []*jwt.Key{k1}}
		r, err := jwks.New(jwks.Options{URL: "https://idp.test/jwks.json", Logger: quiet, Client: &http.Client{Transport: roundTripper{p}}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		time.Sleep(2 * time.Minute) // past MinRefreshInterval
		gate := make(chan struct{})
		p.set(func(p *idp) { p.keys = []*jwt.Key{k1, k2}; p.gate = gate })
		var wg sync.WaitGroup
		found := atomic.Int64{}
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ks, _ := r.Lookup(context.Background(), "k2", jwt.ES256); len(ks) == 1 {
					found.Add(1)
				}
			}()
		}
		synctest.Wait() // every lookup is now waiting: one on the server, the rest on it
		close(gate)
		wg.Wait()
		if hits := p.hits.Load(); hits != 2 {
			t.Fatalf("%d fetches for 50 concurrent unknown-kid lookups, want 2 (initial + one)", hits)
		}
		if found.Load() != 50 {
			t.Fatalf("%d of 50 lookups found the new key", found.Load())
		}
	})
}

func TestRemoteKeepsStaleKeys(t *testing.T) {
	c := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	k1 := genKey(t, "k1")
	p := &idp{keys: []*jwt.Key{k1}}
	srv := httptest.NewServer(p)
	r := newRemote(t, srv.URL, c)
	for name, mod := range map[string]func(*idp){
		"500":         func(p *idp) { p.status = 500 },
		"broken JSON": func(p *idp) { p.status = 0; p.body = []byte(`{"keys":[`) },
		"empty set":   func(p *idp) { p.body = []byte(`{"keys":[]}`) },
		"secret key": func(p *idp) {
			p.body = []byte(`{"keys":[{"kty":"oct","alg":"HS256","k":"` + strings.Repeat("A", 43) + `"}]}`)
		},
		"off-curve key": func(p *idp) {
			p.body = []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}]}`)
		},
	} {
		p.set(mod)
		if err := r.Refresh(context.Background()); err == nil {
			t.Fatalf("%s: refresh succeeded", name)
		}
		if ks, _ := r.Lookup(context.Background(), "k1", jwt.ES256); len(ks) != 1 {
			t.Fatalf("%s: the last good key was dropped", name)
		}
	}
	srv.Close() // unreachable
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("refresh from a closed server succeeded")
	}
	if ks, _ := r.Lookup(context.Background(), "k1", jwt.ES256); len(ks) != 1 {
		t.Fatal("stale key dropped while the server is unreachable")
	}
	if d := r.Describe(); len(d) != 1 || d[0].ID != "k1" || !strings.HasPrefix(r.DescribeSource(), "http://127.0.0.1") {
		t.Fatalf("describe %+v %s", d, r.DescribeSource())
	}
}

func TestRemoteOptions(t *testing.T) {
	for _, u := range []string{"http://idp.example.com/jwks.json", "ftp://x/jwks", "::bad", ""} {
		if _, err := jwks.New(jwks.Options{URL: u, Logger: quiet}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

// roundTripper serves the IdP in memory, so that the background refresh
// can run on synctest's fake clock.
type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	rt.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Body = io.NopCloser(bytes.NewReader(w.Body.Bytes()))
	return resp, nil
}

func TestRemoteBackgroundRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2 := genKey(t, "k1"), genKey(t, "k2")
		p := &idp{keys: []*jwt.Key{k1}, cc: []string{}} // no max-age: RefreshInterval
		r, err := jwks.New(jwks.Options{
			URL: "https://idp.test/jwks.json", Logger: quiet, RefreshInterval: 10 * time.Minute,
			Client: &http.Client{Transport: roundTripper{p}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p.set(func(p *idp) { p.keys = []*jwt.Key{k2} })
		time.Sleep(9 * time.Minute)
		synctest.Wait()
		if p.hits.Load() != 1 {
			t.Fatalf("%d fetches before the interval", p.hits.Load())
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if p.hits.Load() != 2 {
			t.Fatalf("%d fetches after the interval, want 2", p.hits.Load())
		}
		if ks := r.Keys(); len(ks) != 1 || ks[0].ID() != "k2" {
			t.Fatalf("keys %v", ks)
		}
	})
}

// TestRemoteBackgroundFollowsMaxAge: the background fetches when the
// response's max-age (less its Age) says, within [MinRefreshInterval,
// RefreshInterval]; a response that forbids caching reads as no guidance.
func TestRemoteBackgroundFollowsMaxAge(t *testing.T) {
	for _, tc := range []struct {
		name string
		cc   []string
		age  string
		want time.Duration // the period between background fetches
	}{
		{"max-age", []string{"public, max-age=60"}, "", time.Minute},
		{"max-age less Age", []string{"max-age=120"}, "100", 20 * time.Second},
		{"below the floor", []string{"max-age=1"}, "", 5 * time.Second},
		{"above the ceiling", []string{"max-age=86400"}, "", 10 * time.Minute},
		{"no-cache", []string{"no-cache"}, "", 10 * time.Minute},
		{"no-store", []string{"no-store, max-age=60"}, "", 10 * time.Minute},
		{"max-age=0", []string{"max-age=0"}, "", 10 * time.Minute},
		{"none", []string{}, "", 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &idp{keys: []*jwt.Key{genKey(t, "k1")}, cc: tc.cc, age: tc.age}
				r, err := jwks.New(jwks.Options{
					URL: "https://idp.test/jwks.json", Logger: quiet, RefreshInterval: 10 * time.Minute,
					Client: &http.Client{Transport: roundTripper{p}},
				})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				start := time.Now()
				if got := r.Status().NextRefresh.Sub(start); got != tc.want {
					t.Errorf("Status().NextRefresh in %v, want %v", got, tc.want)
				}
				for i := int64(2); i <= 3; i++ {
					time.Sleep(tc.want - time.Millisecond)
					synctest.Wait()
					if h := p.hits.Load(); h != i-1 {
						t.Fatalf("%d fetches %v before fetch %d is due", h, time.Millisecond, i)
					}
					time.Sleep(time.Millisecond)
					synctest.Wait()
					if h := p.hits.Load(); h != i {
						t.Fatalf("%d fetches after %v, want %d", h, time.Since(start), i)
					}
				}
			})
		})
	}
}

// rsaNoAlgJWK is a well-formed RSA public JWK without "alg", as Microsoft
// Entra publishes them.
func rsaNoAlgJWK(t testing.TB, kid string) map[string]any {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwt.NewKey(kid, jwt.RS256, priv)
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "alg")
	return m
}

func jwksDoc(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRemoteSkipsKeysWithoutAlg: an RSA key without "alg" beside a usable
// EC key is skipped, visibly (Skipped, one log line), instead of failing
// the whole set; with DefaultAlg it is used; a set in which nothing usable
// remains is refused with the reasons.
func TestRemoteSkipsKeysWithoutAlg(t *testing.T) {
	c := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ec := genKey(t, "ec1")
	ecJWK, err := ec.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK := rsaNoAlgJWK(t, "entra-1")
	p := &idp{body: jwksDoc(t, rsaJWK, ecJWK)}
	srv := httptest.NewServer(p)
	defer srv.Close()

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	r, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ks := r.Keys(); len(ks) != 1 || ks[0].ID() != "ec1" {
		t.Fatalf("keys %v, want the EC key alone", ks)
	}
	sk := r.Skipped()
	if len(sk) != 1 || sk[0].ID != "entra-1" || sk[0].Type != "RSA" || sk[0].Index != 0 || !strings.Contains(sk[0].Reason, `"alg"`) {
		t.Fatalf("skipped %+v", sk)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{KeySet: r, Algorithms: []string{jwt.ES256}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(t, ec, c.Now())); err != nil {
		t.Fatalf("the EC key does not verify: %v", err)
	}
	// The skip is logged once, not on every refresh.
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if n := strings.Count(out, "keys skipped"); n != 1 || !strings.Contains(out, "entra-1") {
		t.Fatalf("%d skip log lines, want 1:\n%s", n, out)
	}

	// With DefaultAlg the RSA key is bound and used.
	withDefault, err := jwks.New(jwks.Options{URL: srv.URL, Now: c.Now, Logger: quiet, DefaultAlg: jwt.RS256})
	if err != nil {
		t.Fatal(err)
	}
	defer withDefault.Close()
	if ks := withDefault.Keys(); len(ks) != 2 || len(withDefault.Skipped()) != 0 {
		t.Fatalf("DefaultAlg: keys %v, skipped %v", ks, withDefault.Skipped())
	}

	// Nothing usable left: the fetch fails, saying why, and the last good
	// keys stay.
	p.set(func(p *idp) { p.body = jwksDoc(t, rsaJWK) })
	err = r.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no usable signature key") || !strings.Contains(err.Error(), "entra-1") {
		t.Fatalf("refresh of a set of unbindable keys: %v", err)
	}
	if ks := r.Keys(); len(ks) != 1 {
		t.Fatalf("last good keys dropped: %v", ks)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// recordingTransport records every URL requested through it.
type recordingTransport struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	urls []string
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.urls = append(t.urls, r.URL.String())
	t.mu.Unlock()
	return t.rt.RoundTrip(r)
}

// TestRemoteRefusesSchemeDowngrade: an https JWKS that redirects to http on
// the same host is not followed, whatever client is configured; a
// same-host https redirect is.
func TestRemoteRefusesSchemeDowngrade(t *testing.T) {
	k1 := genKey(t, "k1")
	p := &idp{keys: []*jwt.Key{k1}}
	mux := http.NewServeMux()
	mux.Handle("/jwks.json", p)
	var srv *httptest.Server
	mux.HandleFunc("/downgrade", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+srv.Listener.Addr().String()+"/jwks.json", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/jwks.json", http.StatusMovedPermanently)
	})
	srv = httptest.NewTLSServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path string
		ok   bool
	}{{"/moved", true}, {"/downgrade", false}} {
		rec := &recordingTransport{rt: srv.Client().Transport}
		r, err := jwks.New(jwks.Options{URL: srv.URL + tc.path, Logger: quiet, Client: &http.Client{Transport: rec}})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Refresh(context.Background())
		r.Close()
		rec.mu.Lock()
		urls := append([]string(nil), rec.urls...)
		rec.mu.Unlock()
		for _, u := range urls {
			if strings.HasPrefix(u, "http://") {
				t.Errorf("%s: followed a redirect to %s", tc.path, u)
			}
		}
		if tc.ok {
			if err != nil || len(r.Keys()) != 1 {
				t.Errorf("%s: %v, keys %v", tc.path, err, r.Keys())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "refused") || len(r.Keys()) != 0 {
			t.Errorf("%s: err %v, keys %v; want the redirect refused", tc.path, err, r.Keys())
		}
	}
}

// TestRemoteForcedRefreshAlwaysFetches: a forced refresh that arrives while
// a rate-limited unknown-kid lookup is deciding not to fetch still fetches.
func TestRemoteForcedRefreshAlwaysFetches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2 := genKey(t, "k1"), genKey(t, "k2")
		p := &idp{keys: []*jwt.Key{k1}}
		var (
			mu      sync.Mutex
			gate    chan struct{} // one-shot: the next clock read waits on it
			entered = make(chan struct{})
		)
		now := func() time.Time {
			mu.Lock()
			g := gate
			gate = nil
			mu.Unlock()
			if g != nil {
				close(entered)
				<-g
			}
			return time.Now()
		}
		r, err := jwks.New(jwks.Options{URL: "https://idp.test/jwks.json", Logger: quiet, Now: now, Client: &http.Client{Transport: roundTripper{p}}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p.set(func(p *idp) { p.keys = []*jwt.Key{k1, k2} })

		// An unknown kid within MinRefreshInterval: rate-limited, and held
		// while it reads the clock.
		release := make(chan struct{})
		mu.Lock()
		gate = release
		mu.Unlock()
		lookup := make(chan int, 1)
		go func() {
			ks, _ := r.Lookup(context.Background(), "k2", jwt.ES256)
			lookup <- len(ks)
		}()
		<-entered
		refreshed := make(chan error, 1)
		go func() { refreshed <- r.Refresh(context.Background()) }()
		synctest.Wait()
		close(release)
		if err := <-refreshed; err != nil {
			t.Fatal(err)
		}
		<-lookup
		if hits := p.hits.Load(); hits != 2 {
			t.Fatalf("%d fetches, want 2: the forced refresh did not fetch", hits)
		}
		if ks, _ := r.Lookup(context.Background(), "k2", jwt.ES256); len(ks) != 1 {
			t.Fatal("the forced refresh did not bring the new key")
		}
	})
}

// TestRemoteForcedRefreshesCoalesce: concurrent forced refreshes share one
// fetch.
func TestRemoteForcedRefreshesCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &idp{keys: []*jwt.Key{genKey(t, "k1")}}
		r, err := jwks.New(jwks.Options{URL: "https://idp.test/jwks.json", Logger: quiet, Client: &http.Client{Transport: roundTripper{p}}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		gate := make(chan struct{})
		p.set(func(p *idp) { p.gate = gate })
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Refresh(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		if hits := p.hits.Load(); hits != 2 {
			t.Fatalf("%d fetches for 10 concurrent forced refreshes, want 2 (initial + one)", hits)
		}
	})
}
