package introspect_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/internal/testas"
	"github.com/bulwark-go/bulwark/authn/introspect"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/problem"
)

// clientKey is the private_key_jwt client's key, shared by the tests.
var clientKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

func clientKeyPEM(t testing.TB) string {
	der, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func startAS(t testing.TB) *testas.Server { return testas.Start(t, "", &clientKey.PublicKey) }

// basicOpts are Options for the AS's client_secret_basic client.
func basicOpts(as *testas.Server) introspect.Options {
	return introspect.Options{Endpoint: as.URL + "/introspect", ClientID: as.ClientID, ClientSecret: as.ClientSecret}
}

func newAuth(t testing.TB, opts introspect.Options) *introspect.Authenticator {
	t.Helper()
	a, err := introspect.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func bearerReq(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// statusOf returns the status and reason of an Authenticate error.
func statusOf(t testing.TB, err error) (int, string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v is not a problem", err)
	}
	return p.Status, p.Reason
}

// serve runs r through a Guard over a and returns the response and the
// audit reasons.
func serve(t testing.TB, a authn.Authenticator, r *http.Request) (*httptest.ResponseRecorder, []string, *authn.Principal) {
	t.Helper()
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: a, Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	var got *authn.Principal
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = authn.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var reasons []string
	for _, e := range mem.Events() {
		reasons = append(reasons, e.Reason)
	}
	return w, reasons, got
}

func TestActiveTokenBasicAuth(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, basicOpts(as))
	tok := as.Issue(time.Hour, map[string]any{"sub": "alice", "scope": "read write", "roles": []string{"admin"}, "client_id": "app", "jti": "t1", "tenant": "acme"})
	w, reasons, p := serve(t, a, bearerReq(tok))
	if w.Code != http.StatusNoContent || len(reasons) != 0 {
		t.Fatalf("status %d, reasons %v, body %s", w.Code, reasons, w.Body)
	}
	if p.Method != "introspect" || p.Subject != "alice" || !p.HasScope("read") || !p.HasScope("write") || !p.HasRole("admin") || p.TokenID != "t1" {
		t.Fatalf("principal %+v", p)
	}
	if p.Source != authn.SourceHeader || p.ExpiresAt.IsZero() || time.Until(p.ExpiresAt) > time.Hour {
		t.Fatalf("source %v, exp %v", p.Source, p.ExpiresAt)
	}
	if v, _ := authn.Claim[string](p, "tenant"); v != "acme" {
		t.Fatalf("tenant claim %v", p.Claims)
	}
	if v, _ := authn.Claim[string](p, "client_id"); v != "app" {
		t.Fatalf("client_id claim %v", p.Claims)
	}
	if _, ok := p.Claims["roles"]; ok {
		t.Fatal("roles left in Claims")
	}
}

func TestSubjectFallsBack(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, basicOpts(as))
	for _, tc := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"client_id": "machine", "username": "bob"}, "machine"},
		{map[string]any{"username": "bob"}, "bob"},
	} {
		p, err := a.Authenticate(bearerReq(as.Issue(time.Hour, tc.claims)))
		if err != nil || p.Subject != tc.want {
			t.Fatalf("%v: %v, %v", tc.claims, p, err)
		}
	}
	_, err := a.Authenticate(bearerReq(as.Issue(time.Hour, nil)))
	if s, r := statusOf(t, err); s != 401 || r != "subject_missing" {
		t.Fatalf("no subject: %d %s", s, r)
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	as := startAS(t)
	der, _ := x509.MarshalPKCS8PrivateKey(clientKey)
	_ = der
	pub, _ := clientKey.PublicKey.Bytes()
	d, _ := clientKey.Bytes()
	jwk, _ := json.Marshal(map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "client-key-1",
		"x": base64.RawURLEncoding.EncodeToString(pub[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(pub[33:]),
		"d": base64.RawURLEncoding.EncodeToString(d),
	})
	for name, key := range map[string]string{"pem": clientKeyPEM(t), "jwk": string(jwk)} {
		t.Run(name, func(t *testing.T) {
			a := newAuth(t, introspect.Options{Endpoint: as.URL + "/introspect", Issuer: as.Issuer, ClientID: as.JWTClientID, PrivateKey: key})
			for range 2 { // two assertions: each has its own jti (the AS refuses a replay)
				tok := as.Issue(time.Hour, map[string]any{"sub": "carol", "scope": "read"})
				p, err := a.Authenticate(bearerReq(tok))
				if err != nil || p.Subject != "carol" {
					t.Fatalf("%v %v", p, err)
				}
			}
			c := as.LastAssertion()
			if c["iss"] != as.JWTClientID || c["sub"] != as.JWTClientID || c["aud"] != as.Issuer || c["jti"] == "" {
				t.Fatalf("assertion claims %v", c)
			}
			exp, _ := c.GetExpirationTime()
			iat, _ := c.GetIssuedAt()
			if exp.Sub(iat.Time) != introspect.AssertionTTL {
				t.Fatalf("assertion lifetime %v", exp.Sub(iat.Time))
			}
		})
	}
	// The wrong key: the AS refuses the client, which is the service's
	// fault: 503, never 401.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ = x509.MarshalPKCS8PrivateKey(other)
	a := newAuth(t, introspect.Options{Endpoint: as.URL + "/introspect", Issuer: as.Issuer, ClientID: as.JWTClientID,
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	_, err := a.Authenticate(bearerReq(as.Issue(time.Hour, map[string]any{"sub": "x"})))
	if s, r := statusOf(t, err); s != 503 || r != "introspection_client_rejected" {
		t.Fatalf("wrong key: %d %s", s, r)
	}
}

func TestInactiveIs401(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, basicOpts(as))
	w, reasons, _ := serve(t, a, bearerReq("not-a-token-the-as-knows"))
	if w.Code != 401 || len(reasons) != 1 || reasons[0] != "token_inactive" {
		t.Fatalf("status %d reasons %v", w.Code, reasons)
	}
	if ch := w.Header().Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
		t.Fatalf("challenge %q", ch)
	}
	_, err := a.Authenticate(bearerReq("not-a-token-the-as-knows"))
	if !errors.Is(err, introspect.ErrInactive) {
		t.Fatalf("err %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, introspect.Options{Endpoint: as.URL + "/introspect", ClientID: as.ClientID, ClientSecret: as.ClientSecret, MaxTokenSize: 64})
	for _, tc := range []struct {
		name   string
		header []string
		status int
		reason string
	}{
		{"none", nil, 401, "token_missing"},
		{"other scheme", []string{"Basic YTpi"}, 401, "authorization_scheme_unsupported"},
		{"no scheme", []string{"opaque-token-without-scheme"}, 401, "authorization_malformed"},
		{"empty bearer", []string{"Bearer   "}, 400, "token_invalid_request"},
		{"two headers", []string{"Bearer a", "Bearer b"}, 400, "token_invalid_request"},
		{"too large", []string{"Bearer " + strings.Repeat("a", 65)}, 401, "token_too_large"},
		{"bad chars", []string{"Bearer a b"}, 401, "token_malformed"},
		{"control byte", []string{"Bearer a\x01"}, 401, "token_malformed"},
		{"non-utf8", []string{"Bearer a\xff"}, 401, "token_malformed"},
		{"inner padding", []string{"Bearer a=b"}, 401, "token_malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = tc.header
			w, reasons, _ := serve(t, a, r)
			if w.Code != tc.status || len(reasons) != 1 || reasons[0] != tc.reason {
				t.Fatalf("status %d reasons %v, want %d %s", w.Code, reasons, tc.status, tc.reason)
			}
		})
	}
	if n := as.Calls(); n != 0 {
		t.Fatalf("%d calls for refused requests", n)
	}
}

// TestRevokedWorksUntilCacheTTL: a token revoked at the AS keeps working
// from the cache until CacheTTL after it was introspected, then is
// refused.
func TestRevokedWorksUntilCacheTTL(t *testing.T) {
	as := startAS(t)
	clk := testclock.New(time.Now())
	opts := basicOpts(as)
	opts.Now = clk.Now
	a := newAuth(t, opts)
	tok := as.Issue(24*time.Hour, map[string]any{"sub": "alice"})
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatal(err)
	}
	as.Revoke(tok)
	clk.Advance(introspect.DefaultCacheTTL - time.Second)
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatalf("within CacheTTL: %v", err)
	}
	if n := as.Calls(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	clk.Advance(time.Second)
	_, err := a.Authenticate(bearerReq(tok))
	if s, r := statusOf(t, err); s != 401 || r != "token_inactive" {
		t.Fatalf("after CacheTTL: %d %s", s, r)
	}
	if n := as.Calls(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
}

// TestCacheStopsAtExp: an answer is not reused past the token's exp, even
// within CacheTTL.
func TestCacheStopsAtExp(t *testing.T) {
	as := startAS(t)
	clk := testclock.New(time.Now())
	opts := basicOpts(as)
	opts.Now = clk.Now
	opts.Leeway = -1
	a := newAuth(t, opts)
	exp := clk.Now().Add(30 * time.Second).Unix()
	tok := as.Issue(time.Hour, map[string]any{"sub": "alice", "exp": exp})
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Unix(exp, 0).Add(-time.Millisecond))
	if _, err := a.Authenticate(bearerReq(tok)); err != nil || as.Calls() != 1 {
		t.Fatalf("before exp: %v, %d calls", err, as.Calls())
	}
	clk.Set(time.Unix(exp, 0))
	_, err := a.Authenticate(bearerReq(tok))
	if s, r := statusOf(t, err); s != 401 || r != "token_expired" || as.Calls() != 2 {
		t.Fatalf("at exp: %d %s, %d calls", s, r, as.Calls())
	}
}

func TestNegativeCache(t *testing.T) {
	as := startAS(t)
	clk := testclock.New(time.Now())
	opts := basicOpts(as)
	opts.Now = clk.Now
	a := newAuth(t, opts)
	for range 3 {
		_, _ = a.Authenticate(bearerReq("dead-token"))
	}
	if n := as.Calls(); n != 1 {
		t.Fatalf("%d calls for a dead token retried, want 1", n)
	}
	clk.Advance(introspect.DefaultNegativeCacheTTL)
	_, _ = a.Authenticate(bearerReq("dead-token"))
	if n := as.Calls(); n != 2 {
		t.Fatalf("%d calls after NegativeCacheTTL, want 2", n)
	}
}

func TestChecks(t *testing.T) {
	as := startAS(t)
	opts := basicOpts(as)
	opts.Issuers = []string{as.Issuer}
	opts.Audience = []string{"api"}
	a := newAuth(t, opts)
	for _, tc := range []struct {
		claims map[string]any
		reason string
	}{
		{map[string]any{"sub": "a", "aud": "api"}, ""},
		{map[string]any{"sub": "a", "aud": []string{"other", "api"}}, ""},
		{map[string]any{"sub": "a", "aud": "other"}, "audience_invalid"},
		{map[string]any{"sub": "a"}, "audience_invalid"},
		{map[string]any{"sub": "a", "aud": "api", "iss": "https://evil.example"}, "issuer_invalid"},
		{map[string]any{"sub": "a", "aud": "api", "exp": time.Now().Add(-time.Hour).Unix()}, "token_expired"},
		{map[string]any{"sub": "a", "aud": "api", "nbf": time.Now().Add(time.Hour).Unix()}, "token_not_yet_valid"},
	} {
		_, err := a.Authenticate(bearerReq(as.Issue(time.Hour, tc.claims)))
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.claims, err)
			}
			continue
		}
		if s, r := statusOf(t, err); s != 401 || r != tc.reason {
			t.Errorf("%v: %d %s, want 401 %s", tc.claims, s, r, tc.reason)
		}
	}
}

// TestServerFailures: whatever goes wrong at the AS, the answer is a 503
// with Retry-After and a specific reason, never a 401 or a 500, and the
// failure is not cached.
func TestServerFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   int
		reason string
	}{
		{"500", testas.Status500, "introspection_server_error"},
		{"slow", testas.Slow, "introspection_timeout"},
		{"huge", testas.Huge, "introspection_response_too_large"},
		{"html", testas.NotJSON, "introspection_bad_response"},
		{"wrong types", testas.WrongTypes, "introspection_bad_response"},
		{"truncated JSON", testas.BadJSONBody, "introspection_bad_response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := startAS(t)
			opts := basicOpts(as)
			opts.Timeout = 100 * time.Millisecond
			a := newAuth(t, opts)
			tok := as.Issue(time.Hour, map[string]any{"sub": "alice"})
			as.SetMode(tc.mode)
			w, reasons, _ := serve(t, a, bearerReq(tok))
			if w.Code != 503 || len(reasons) != 1 || reasons[0] != tc.reason || w.Header().Get("Retry-After") == "" {
				t.Fatalf("status %d, reasons %v, Retry-After %q", w.Code, reasons, w.Header().Get("Retry-After"))
			}
			if strings.Contains(w.Body.String(), "boom") || strings.Contains(w.Body.String(), "html") {
				t.Fatalf("body leaks the upstream answer: %s", w.Body)
			}
			as.SetMode(testas.Normal)
			as.Release()
			if _, err := a.Authenticate(bearerReq(tok)); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		as := startAS(t)
		a := newAuth(t, basicOpts(as))
		as.Close()
		_, err := a.Authenticate(bearerReq("tok"))
		if s, r := statusOf(t, err); s != 503 || r != "introspection_unreachable" || !errors.Is(err, introspect.ErrUnavailable) {
			t.Fatalf("%d %s %v", s, r, err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		as := startAS(t)
		opts := basicOpts(as)
		opts.ClientSecret = "not-the-secret-at-all"
		a := newAuth(t, opts)
		_, err := a.Authenticate(bearerReq("tok"))
		if s, r := statusOf(t, err); s != 503 || r != "introspection_client_rejected" {
			t.Fatalf("%d %s", s, r)
		}
	})
}

// TestBurstMakesOneCall: concurrent misses for one token share one call.
func TestBurstMakesOneCall(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, basicOpts(as))
	tok := as.Issue(time.Hour, map[string]any{"sub": "alice"})
	as.SetMode(testas.Hold)
	const n = 32
	var wg sync.WaitGroup
	var started, failed atomic.Int32
	for range n {
		wg.Go(func() {
			started.Add(1)
			if _, err := a.Authenticate(bearerReq(tok)); err != nil {
				failed.Add(1)
			}
		})
	}
	for as.Calls() == 0 || started.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the late starters reach the flight
	as.Release()
	wg.Wait()
	if c, f := as.Calls(), failed.Load(); c != 1 || f != 0 {
		t.Fatalf("%d calls, %d failures; want 1 call", c, f)
	}
}

// TestCacheBounded: the memory cache never holds more than CacheSize
// answers (rounded up to its shards).
func TestCacheBounded(t *testing.T) {
	as := startAS(t)
	opts := basicOpts(as)
	opts.CacheSize = 32
	a := newAuth(t, opts)
	for i := range 200 {
		_, _ = a.Authenticate(bearerReq("dead-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)))
	}
	if n := a.CacheLen(); n > 32 {
		t.Fatalf("cache holds %d entries", n)
	}
}

func TestCanceledRequest(t *testing.T) {
	as := startAS(t)
	a := newAuth(t, basicOpts(as))
	as.SetMode(testas.Hold)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Introspect(ctx, "tok")
	if s, _ := statusOf(t, err); s != 503 {
		t.Fatalf("status %d", s)
	}
}

func TestNewRefuses(t *testing.T) {
	as := startAS(t)
	ok := basicOpts(as)
	for name, mut := range map[string]func(*introspect.Options){
		"no client id":     func(o *introspect.Options) { o.ClientID = "" },
		"no credential":    func(o *introspect.Options) { o.ClientSecret = "" },
		"short secret":     func(o *introspect.Options) { o.ClientSecret = "short" },
		"http endpoint":    func(o *introspect.Options) { o.Endpoint = "http://as.example/introspect" },
		"no endpoint":      func(o *introspect.Options) { o.Endpoint = "" },
		"userinfo in URL":  func(o *introspect.Options) { o.Endpoint = "https://u:p@as.example/introspect" },
		"cache ttl":        func(o *introspect.Options) { o.CacheTTL = 2 * time.Hour },
		"bad method":       func(o *introspect.Options) { o.ClientAuth = "client_secret_post" },
		"both credentials": func(o *introspect.Options) { o.PrivateKey = clientKeyPEM(t) },
		"public key": func(o *introspect.Options) {
			o.ClientSecret = ""
			o.PrivateKey = `{"kty":"EC","crv":"P-256","x":"a","y":"b"}`
		},
		"alg mismatch": func(o *introspect.Options) {
			o.ClientSecret = ""
			o.PrivateKey = clientKeyPEM(t)
			o.SigningAlg = "RS256"
		},
	} {
		o := ok
		mut(&o)
		if _, err := introspect.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := introspect.New(ok); err != nil {
		t.Fatal(err)
	}
}
