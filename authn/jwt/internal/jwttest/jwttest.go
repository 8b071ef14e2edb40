// Package jwttest is what the tests of package jwt and of the token
// lifecycle (package refresh) share: a fixed instant and a settable clock,
// test keys, a forger for tokens of any shape, and checks on refusals.
package jwttest

import (
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
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Now is the fixed instant tests verify at.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock is the tests' settable clock.
type Clock = testclock.Clock

// NewClock returns a clock set to Now.
func NewClock() *Clock { return testclock.New(Now) }

// HMACSecret is the HS256 secret HSToken signs with.
var HMACSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// Test keys, generated once per test binary (RSA generation is slow).
var (
	keysOnce sync.Once
	rsaPriv  *rsa.PrivateKey
	ecPriv   *ecdsa.PrivateKey
	edPriv   ed25519.PrivateKey
)

// Keys returns an RSA-2048, a P-256 and an Ed25519 private key, the same
// for every test of the binary.
func Keys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) {
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

// Key is jwt.NewKey, failing the test on error.
func Key(t testing.TB, kid, alg string, material any) *jwt.Key {
	t.Helper()
	k, err := jwt.NewKey(kid, alg, material)
	if err != nil {
		t.Fatalf("NewKey(%s, %s): %v", kid, alg, err)
	}
	return k
}

// KeySet is jwt.NewKeySet, failing the test on error.
func KeySet(t testing.TB, keys ...*jwt.Key) *jwt.StaticKeySet {
	t.Helper()
	s, err := jwt.NewKeySet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Verifier is jwt.NewVerifier, failing the test on error.
func Verifier(t testing.TB, opts jwt.VerifierOptions) *jwt.Verifier {
	t.Helper()
	v, err := jwt.NewVerifier(opts)
	if err != nil {
		t.Fatalf("jwt.NewVerifier: %v", err)
	}
	return v
}

// MemStore returns a memstore on c (time.Now when c is nil), closed at
// cleanup.
func MemStore(t testing.TB, c *Clock) *memstore.Store {
	t.Helper()
	opts := memstore.Options{SweepInterval: -1}
	if c != nil {
		opts.Now = c.Now
	}
	s := memstore.New(opts)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Redis opens a client of the test Redis whose keys all start with prefix
// (from testredis.Prefix; two clients with one prefix are two replicas),
// closed at cleanup.
func Redis(t testing.TB, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(redisstore.Options{URL: testredis.URL(t), Prefix: prefix, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// B64 encodes b as unpadded base64url.
func B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JSON marshals v, failing the test on error.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Craft signs arbitrary header and payload bytes with golang-jwt, so that
// tests can build every malformed or malicious token they need.
func Craft(t testing.TB, alg string, key any, header, payload []byte) string {
	t.Helper()
	input := B64(header) + "." + B64(payload)
	m := gjwt.GetSigningMethod(alg)
	if m == nil {
		t.Fatalf("no golang-jwt method %s", alg)
	}
	sig, err := m.Sign(input, key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return input + "." + B64(sig)
}

// Claims returns a valid claim set at Now, changed by extra (a nil value
// deletes the claim).
func Claims(extra map[string]any) map[string]any {
	m := map[string]any{
		"sub": "alice", "iss": "https://issuer.test", "aud": "api",
		"exp": Now.Add(time.Hour).Unix(), "iat": Now.Add(-time.Minute).Unix(),
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

// HSToken signs claims with HMACSecret and kid "hs".
func HSToken(t testing.TB, claims map[string]any) string {
	t.Helper()
	return Craft(t, "HS256", HMACSecret, JSON(t, map[string]string{"alg": "HS256", "typ": "JWT", "kid": "hs"}), JSON(t, claims))
}

// HSVerifier verifies HSToken's tokens (iss https://issuer.test, aud api)
// at Now, with the options mod changes.
func HSVerifier(t testing.TB, mod func(*jwt.VerifierOptions)) *jwt.Verifier {
	t.Helper()
	opts := jwt.VerifierOptions{
		Keys:     []*jwt.Key{Key(t, "hs", jwt.HS256, HMACSecret)},
		Issuers:  []string{"https://issuer.test"},
		Audience: []string{"api"},
		Now:      func() time.Time { return Now },
	}
	if mod != nil {
		mod(&opts)
	}
	return Verifier(t, opts)
}

// Reason returns the audit reason of a refusal, "" when err is no problem.
func Reason(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	return ""
}

// ExpectReason fails unless err is a refusal with the audit reason.
func ExpectReason(t testing.TB, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want refusal %s", reason)
	}
	if got := Reason(err); got != reason {
		t.Fatalf("reason %q (%v), want %q", got, err, reason)
	}
}

// ExpectRefused fails unless err is a 401 problem whose Err matches want
// (any, when want is nil).
func ExpectRefused(t testing.TB, err error, want error) {
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
