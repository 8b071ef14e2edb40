package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// testNow is the fixed instant tests verify at.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var hmacSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// Test keys, generated once per test binary (RSA generation is slow).
var (
	keysOnce sync.Once
	rsaPriv  *rsa.PrivateKey
	ecPriv   *ecdsa.PrivateKey
	edPriv   ed25519.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecPriv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edPriv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
	return rsaPriv, ecPriv, edPriv
}

func mustKey(t testing.TB, kid, alg string, material any) *jwt.Key {
	t.Helper()
	k, err := jwt.NewKey(kid, alg, material)
	if err != nil {
		t.Fatalf("NewKey(%s, %s): %v", kid, alg, err)
	}
	return k
}

func mustVerifier(t testing.TB, opts jwt.VerifierOptions) *jwt.Verifier {
	t.Helper()
	v, err := jwt.NewVerifier(opts)
	if err != nil {
		t.Fatalf("jwt.New: %v", err)
	}
	return v
}

func newMemStore(t testing.TB, c *clock) *memstore.Store {
	t.Helper()
	opts := memstore.Options{SweepInterval: -1}
	if c != nil {
		opts.Now = c.Now
	}
	s := memstore.New(opts)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// craft signs arbitrary header and payload bytes with golang-jwt, so that
// tests can build every malformed or malicious token they need.
func craft(t testing.TB, alg string, key any, header, payload []byte) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	m := gjwt.GetSigningMethod(alg)
	if m == nil {
		t.Fatalf("no golang-jwt method %s", alg)
	}
	sig, err := m.Sign(input, key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return input + "." + b64(sig)
}

// claims returns a valid claim set at testNow.
func claims(extra map[string]any) map[string]any {
	m := map[string]any{
		"sub": "alice", "iss": "https://issuer.test", "aud": "api",
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Add(-time.Minute).Unix(),
		"jti": "token-1", "roles": []string{"admin"}, "scope": "read write",
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

// hsToken signs claims with the test HMAC secret and kid "hs".
func hsToken(t testing.TB, c map[string]any) string {
	t.Helper()
	return craft(t, "HS256", hmacSecret, mustJSON(t, map[string]string{"alg": "HS256", "typ": "JWT", "kid": "hs"}), mustJSON(t, c))
}

// hsVerifier verifies hsToken's tokens at testNow.
func hsVerifier(t testing.TB, mod func(*jwt.VerifierOptions)) *jwt.Verifier {
	t.Helper()
	opts := jwt.VerifierOptions{
		Keys:     []*jwt.Key{mustKey(t, "hs", jwt.HS256, hmacSecret)},
		Issuers:  []string{"https://issuer.test"},
		Audience: []string{"api"},
		Now:      func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opts)
	}
	return mustVerifier(t, opts)
}

// reasonOf returns the audit reason of a verification error.
func reasonOf(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	return ""
}

// expectRefused fails unless err is a 401 problem whose Err matches want.
func expectRefused(t testing.TB, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted, want refused")
	}
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v is not a problem", err)
	}
	if p.Status != 401 {
		t.Fatalf("status %d, want 401 (%v)", p.Status, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("error %v (%v), want %v", err, p.Err, want)
	}
}

var bg = context.Background()
