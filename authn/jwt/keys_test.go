package jwt_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
)

func TestKeyConstructionRefusesWeakKeys(t *testing.T) {
	rsaKey, ecKey, edKey := jwttest.Keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	badE := rsaKey.PublicKey
	badE.E = 1
	tests := []struct {
		name     string
		alg      string
		material any
		msg      string
	}{
		{"short HS256 secret", jwt.HS256, []byte("your-secret-key"), "openssl rand"},
		{"31-byte HS256 secret", jwt.HS256, bytes.Repeat([]byte("x"), 31), "at least 32"},
		{"47-byte HS384 secret", jwt.HS384, bytes.Repeat([]byte("x"), 47), "at least 48"},
		{"empty secret", jwt.HS512, []byte{}, "at least 64"},
		{"string secret", jwt.HS256, strings.Repeat("x", 40), "[]byte"},
		{"RSA 1024", jwt.RS256, &small.PublicKey, "at least 2048"},
		{"RSA exponent 1", jwt.RS256, &badE, "exponent"},
		{"RSA key for HS256", jwt.HS256, &rsaKey.PublicKey, "cannot be used with HS256"},
		{"secret for RS256", jwt.RS256, bytes.Repeat([]byte("x"), 64), "cannot be used with RS256"},
		{"EC key on the wrong curve", jwt.ES256, &p384.PublicKey, "P-256"},
		{"EC key for EdDSA", jwt.EdDSA, &ecKey.PublicKey, "cannot be used"},
		{"Ed25519 key for ES256", jwt.ES256, edKey.Public(), "cannot be used"},
		{"alg none", "none", bytes.Repeat([]byte("x"), 64), "never accepted"},
		{"alg NONE", "NONE", bytes.Repeat([]byte("x"), 64), "never accepted"},
		{"unknown alg", "HS1", bytes.Repeat([]byte("x"), 64), "unsupported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jwt.NewKey("k", tc.alg, tc.material)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
	if _, err := jwt.NewHMACKey("k", jwt.RS256, bytes.Repeat([]byte("x"), 64)); err == nil {
		t.Fatal("NewHMACKey accepted RS256")
	}
}

func TestKeyNeverShowsItsSecret(t *testing.T) {
	secret := []byte("TOPSECRET-0123456789abcdef-0123456789")
	k := jwttest.Key(t, "hs", jwt.HS256, secret)
	encoded := base64.RawURLEncoding.EncodeToString(secret)
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("key", "key", k, "value", *k)
	js, _ := json.Marshal(map[string]any{"k": k, "v": *k})
	v := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{k}})
	desc, _ := json.Marshal(v.Describe())
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: k})
	idesc, _ := json.Marshal(iss.Describe())
	outputs := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k), fmt.Sprintf("%v %+v %#v", *k, *k, *k),
		logBuf.String(), string(js), string(desc), string(idesc),
	}
	for _, out := range outputs {
		if strings.Contains(out, "TOPSECRET") || strings.Contains(out, encoded) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Fatalf("secret leaked: %s", out)
		}
	}
	if !strings.Contains(string(desc), `"secret":"[redacted]"`) || !strings.Contains(string(desc), `"kid":"hs"`) {
		t.Fatalf("description %s", desc)
	}
	if _, err := k.PublicJWK(); err == nil {
		t.Fatal("an HMAC key produced a public JWK")
	}
	if _, err := jwt.JWKSHandler(k); err == nil {
		t.Fatal("JWKSHandler published an HMAC key")
	}
}

func TestPEMAndFiles(t *testing.T) {
	rsaKey, ecKey, _ := jwttest.Keys(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	if _, err := jwt.ParsePEM("r", "", rsaPEM); err == nil || !strings.Contains(err.Error(), "explicit alg") {
		t.Fatalf("RSA without alg: %v", err)
	}
	rk, err := jwt.ParsePEM("r", jwt.PS256, rsaPEM)
	if err != nil || !rk.CanSign() || rk.Alg() != jwt.PS256 {
		t.Fatalf("RSA PEM: %v", err)
	}
	ek, err := jwt.ParsePEM("e", "", ecPEM)
	if err != nil || ek.Alg() != jwt.ES256 {
		t.Fatalf("EC PEM: %v", err)
	}
	pk, err := jwt.ParsePEM("p", jwt.RS256, pubPEM)
	if err != nil || pk.CanSign() {
		t.Fatalf("public PEM: %v", err)
	}
	if _, err := jwt.ParsePEM("x", jwt.RS256, append(append([]byte{}, pubPEM...), pubPEM...)); err == nil {
		t.Fatal("two keys in one PEM accepted")
	}
	if _, err := jwt.ParsePEM("x", jwt.RS256, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Fatal("garbage PEM accepted")
	}

	secretFile := write("secret", []byte("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n"))
	k, err := jwt.LoadKeyFile(secretFile, "s", jwt.HS256)
	if err != nil || !k.Symmetric() || k.Describe().Source != "file:"+secretFile {
		t.Fatalf("secret file: %v %+v", err, k)
	}
	if _, err := jwt.LoadKeyFile(write("short", []byte("changeme\n")), "s", jwt.HS256); err == nil || !strings.Contains(err.Error(), "openssl rand") {
		t.Fatalf("short secret file: %v", err)
	}
	if k, err := jwt.LoadKeyFile(write("key.pem", rsaPEM), "r", jwt.RS256); err != nil || !k.CanSign() {
		t.Fatalf("PEM file: %v", err)
	}
	jwk, _ := jwttest.Key(t, "e1", jwt.ES256, &ecKey.PublicKey).PublicJWK()
	if k, err := jwt.LoadKeyFile(write("key.jwk", jwttest.JSON(t, jwk)), "", ""); err != nil || k.ID() != "e1" || k.Alg() != jwt.ES256 {
		t.Fatalf("JWK file: %v", err)
	}
	t.Setenv("BULWARK_TEST_JWT_SECRET", strings.Repeat("e", 40))
	if k, err := jwt.KeyFromEnv("BULWARK_TEST_JWT_SECRET", "env", jwt.HS256); err != nil || k.Describe().Source != "env:BULWARK_TEST_JWT_SECRET" {
		t.Fatalf("env: %v", err)
	}
	if _, err := jwt.KeyFromEnv("BULWARK_TEST_UNSET_VARIABLE", "env", jwt.HS256); err == nil {
		t.Fatal("unset variable accepted")
	}

	for name, cfg := range map[string]jwt.KeyConfig{
		"secret":       {ID: "a", Alg: jwt.HS256, Secret: strings.Repeat("s", 32)},
		"secret hex":   {ID: "a", Alg: jwt.HS256, Secret: strings.Repeat("ab", 32), SecretEncoding: "hex"},
		"secret b64":   {ID: "a", Alg: jwt.HS256, SecretFile: secretFile, SecretEncoding: "base64"},
		"pem file":     {ID: "a", Alg: jwt.RS256, PEMFile: write("k2.pem", rsaPEM)},
		"pem inline":   {ID: "a", Alg: jwt.ES256, PEM: string(ecPEM)},
		"jwk inline":   {JWK: string(jwttest.JSON(t, jwk))},
		"jwk with kid": {ID: "e1", JWK: string(jwttest.JSON(t, jwk))},
	} {
		if _, err := cfg.Load(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, cfg := range map[string]jwt.KeyConfig{
		"nothing":         {ID: "a", Alg: jwt.HS256},
		"two sources":     {ID: "a", Alg: jwt.HS256, Secret: strings.Repeat("s", 32), SecretFile: secretFile},
		"secret no alg":   {ID: "a", Secret: strings.Repeat("s", 32)},
		"bad encoding":    {ID: "a", Alg: jwt.HS256, Secret: "zz", SecretEncoding: "hex"},
		"kid mismatch":    {ID: "other", JWK: string(jwttest.JSON(t, jwk))},
		"alg mismatch":    {Alg: jwt.ES384, JWK: string(jwttest.JSON(t, jwk))},
		"missing file":    {ID: "a", Alg: jwt.HS256, SecretFile: filepath.Join(dir, "nope")},
		"short b64 value": {ID: "a", Alg: jwt.HS256, Secret: "c2hvcnQ=", SecretEncoding: "base64"},
	} {
		if _, err := cfg.Load(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseJWKSRules(t *testing.T) {
	rsaKey, ecKey, _ := jwttest.Keys(t)
	pub, _ := jwttest.Key(t, "ec", jwt.ES256, &ecKey.PublicKey).PublicJWK()
	oct := map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": jwttest.B64(jwttest.HMACSecret)}
	enc := map[string]any{"kty": "EC", "kid": "enc", "use": "enc", "crv": "P-256", "x": pub["x"], "y": pub["y"]}
	doc := func(keys ...any) []byte { return jwttest.JSON(t, map[string]any{"keys": keys}) }
	if ks, err := jwt.ParseJWKS(doc(pub, enc), jwt.JWKSOptions{}); err != nil || len(ks) != 1 {
		t.Fatalf("enc key not skipped: %v %d", err, len(ks))
	}
	if _, err := jwt.ParseJWKS(doc(oct), jwt.JWKSOptions{}); err == nil {
		t.Fatal("oct key accepted from a publishable set")
	}
	if _, err := jwt.ParseJWKS(doc(oct, pub), jwt.JWKSOptions{AllowSymmetric: true}); err == nil {
		t.Fatal("mixed set accepted")
	}
	if _, err := jwt.ParseJWKS(doc(pub, pub), jwt.JWKSOptions{}); err == nil {
		t.Fatal("duplicate kid accepted")
	}
	bad := map[string]any{"kty": "EC", "kid": "bad", "crv": "P-256", "x": pub["x"], "y": jwttest.B64(bytes.Repeat([]byte{1}, 32))}
	if _, err := jwt.ParseJWKS(doc(pub, bad), jwt.JWKSOptions{}); err == nil {
		t.Fatal("point off the curve accepted")
	}
	padded := map[string]any{"kty": "oct", "alg": "HS256", "k": base64.URLEncoding.EncodeToString(jwttest.HMACSecret)}
	if _, err := jwt.ParseJWK(jwttest.JSON(t, padded), ""); err == nil {
		t.Fatal("padded base64 accepted")
	}
	upper := []byte(`{"KTY":"oct","ALG":"HS256","K":"` + jwttest.B64(jwttest.HMACSecret) + `"}`)
	if _, err := jwt.ParseJWK(upper, ""); err == nil {
		t.Fatal("member names matched case-insensitively")
	}
	rsaNoAlg := []byte(`{"kty":"RSA","n":"` + jwttest.B64(rsaKey.N.Bytes()) + `","e":"AQAB"}`)
	if _, err := jwt.ParseJWK(rsaNoAlg, ""); err == nil {
		t.Fatal("RSA JWK without alg accepted")
	}
	if k, err := jwt.ParseJWK(rsaNoAlg, jwt.PS256); err != nil || k.Alg() != jwt.PS256 {
		t.Fatalf("RSA JWK with default alg: %v", err)
	}

	// In a set, a key that cannot be bound to an algorithm is skipped, with
	// the reason, and does not take the usable keys down with it.
	var rsaMember map[string]any
	if err := json.Unmarshal(rsaNoAlg, &rsaMember); err != nil {
		t.Fatal(err)
	}
	rsaMember["kid"] = "entra"
	ks, skipped, err := jwt.ParseJWKSSkipped(doc(rsaMember, pub, enc), jwt.JWKSOptions{})
	if err != nil || len(ks) != 1 || ks[0].ID() != "ec" {
		t.Fatalf("RSA key without alg beside an EC key: %v, %v", err, ks)
	}
	if len(skipped) != 2 || skipped[0].ID != "entra" || skipped[0].Type != "RSA" || !strings.Contains(skipped[0].Reason, `"alg"`) ||
		skipped[1].ID != "enc" || !strings.Contains(skipped[1].String(), `use is "enc"`) {
		t.Fatalf("skipped %+v", skipped)
	}
	if ks, err := jwt.ParseJWKS(doc(rsaMember, pub), jwt.JWKSOptions{DefaultAlg: jwt.RS256}); err != nil || len(ks) != 2 {
		t.Fatalf("DefaultAlg: %v, %d keys", err, len(ks))
	}
	if ks, err := jwt.ParseJWKS(doc(rsaMember), jwt.JWKSOptions{}); err != nil || len(ks) != 0 {
		t.Fatalf("set of one unbindable key: %v, %d keys", err, len(ks))
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, doc(rsaMember), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.LoadJWKSFile(path, jwt.JWKSOptions{}); err == nil || !strings.Contains(err.Error(), "no usable") || !strings.Contains(err.Error(), `"alg"`) {
		t.Fatalf("JWKS file of unbindable keys: %v", err)
	}
	// A secret without alg is still a secret: refused from a publishable set,
	// skipped from a local one.
	octNoAlg := map[string]any{"kty": "oct", "kid": "hs2", "k": jwttest.B64(jwttest.HMACSecret)}
	if _, err := jwt.ParseJWKS(doc(octNoAlg, pub), jwt.JWKSOptions{}); err == nil {
		t.Fatal("oct key without alg accepted from a publishable set")
	}
	if ks, skipped, err := jwt.ParseJWKSSkipped(doc(octNoAlg, oct), jwt.JWKSOptions{AllowSymmetric: true}); err != nil || len(ks) != 1 || len(skipped) != 1 {
		t.Fatalf("local set with an oct key without alg: %v, %d keys, %v", err, len(ks), skipped)
	}
	// A weak key fails the set even when it names no algorithm.
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakMember := map[string]any{"kty": "RSA", "kid": "weak", "n": jwttest.B64(weak.N.Bytes()), "e": "AQAB"}
	if _, err := jwt.ParseJWKS(doc(weakMember, pub), jwt.JWKSOptions{}); err == nil || !strings.Contains(err.Error(), "bits") {
		t.Fatalf("1024-bit RSA key without alg: %v", err)
	}
}

func TestJWKSFileAndHandler(t *testing.T) {
	rsaKey, ecKey, edKey := jwttest.Keys(t)
	keys := []*jwt.Key{jwttest.Key(t, "r", jwt.RS256, rsaKey), jwttest.Key(t, "e", jwt.ES256, ecKey), jwttest.Key(t, "d", jwt.EdDSA, edKey)}
	h, err := jwt.JWKSHandler(keys...)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("%d %s", w.Code, w.Header())
	}
	body := w.Body.Bytes()
	for _, private := range []string{`"d":`, `"p":`, `"q":`, `"dp":`} {
		if bytes.Contains(body, []byte(private)) {
			t.Fatalf("private member %s published: %s", private, body)
		}
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := jwt.LoadJWKSFile(path, jwt.JWKSOptions{})
	if err != nil || len(set.Keys()) != 3 {
		t.Fatalf("reloading the published set: %v", err)
	}
	// Tokens signed by each private key verify with the published set.
	v := jwttest.Verifier(t, jwt.VerifierOptions{KeySet: set, Algorithms: []string{jwt.RS256, jwt.ES256, jwt.EdDSA}, Now: func() time.Time { return jwttest.Now }})
	for _, k := range keys {
		iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: k, Now: func() time.Time { return jwttest.Now }})
		tok, err := iss.Issue(jwt.Claims{Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatalf("%s: %v", k.Alg(), err)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/.well-known/jwks.json", nil))
	if w.Code != 405 {
		t.Fatalf("POST: %d", w.Code)
	}
}

func TestIssuerClaims(t *testing.T) {
	rsaKey, _, _ := jwttest.Keys(t)
	k := jwttest.Key(t, "k", jwt.HS256, jwttest.HMACSecret)
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: k, Issuer: "https://issuer.test", Audience: []string{"api"}, TTL: time.Hour, Now: func() time.Time { return jwttest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(jwt.Claims{}); err == nil {
		t.Fatal("token without subject issued")
	}
	if _, err := iss.Issue(jwt.Claims{Subject: "a", Extra: map[string]any{"exp": 1}}); err == nil {
		t.Fatal("Extra overrode a registered claim")
	}
	if _, err := iss.Issue(jwt.Claims{Subject: "a", Scopes: []string{"a b"}}); err == nil {
		t.Fatal("scope with a space accepted")
	}
	tok, err := iss.IssueToken(jwt.Claims{Subject: "a", Audience: []string{"x", "y"}, TTL: 5 * time.Minute, Extra: map[string]any{"tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(jwttest.Now.Add(5*time.Minute)) || tok.ID == "" {
		t.Fatalf("token %+v", tok)
	}
	v := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{k}, Issuers: []string{"https://issuer.test"}, Audience: []string{"y"}, Type: jwt.TypeAccess, Now: func() time.Time { return jwttest.Now }})
	p, err := v.Verify(bg, tok.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.TokenID != tok.ID || p.Claims["tenant"] != "t1" || p.Claims["token_use"] != "access" {
		t.Fatalf("principal %+v", p)
	}
	pub := jwttest.Key(t, "p", jwt.RS256, &rsaKey.PublicKey)
	if _, err := jwt.NewIssuer(jwt.IssuerOptions{Key: pub}); err == nil {
		t.Fatal("issuer with a public key accepted")
	}
}

func TestCache(t *testing.T) {
	c := jwttest.NewClock()
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Now = c.Now; o.CacheSize = 5 })
	if jwt.CacheSlots(v) != 8 {
		t.Fatalf("cache slots %d, want 8 (rounded up)", jwt.CacheSlots(v))
	}
	tok := jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Add(10 * time.Second).Unix()}))
	p1, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := v.Verify(bg, tok); p2 != p1 {
		t.Fatal("repeated token not served from the cache")
	}
	// Past exp but within the leeway: the cache no longer answers (a new
	// verification does, and the leeway lets the token through).
	c.Advance(20 * time.Second)
	p3, err := v.Verify(bg, tok)
	if err != nil || p3 == p1 {
		t.Fatalf("after exp: cached=%v err=%v", p3 == p1, err)
	}
	c.Advance(time.Minute)
	_, err = v.Verify(bg, tok)
	jwttest.ExpectRefused(t, err, jwt.ErrExpired)

	none := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.CacheSize = -1 })
	if jwt.CacheSlots(none) != 0 {
		t.Fatal("cache not disabled")
	}
	tok = jwttest.HSToken(t, jwttest.Claims(nil))
	a, _ := none.Verify(bg, tok)
	b, _ := none.Verify(bg, tok)
	if a == b {
		t.Fatal("disabled cache served a principal twice")
	}
}

// rotatingSet is a KeySet whose keys can be withdrawn.
type rotatingSet struct {
	gen  atomic.Uint64
	keys atomic.Pointer[[]*jwt.Key]
}

func (s *rotatingSet) Lookup(_ context.Context, kid, alg string) ([]*jwt.Key, error) {
	var out []*jwt.Key
	for _, k := range *s.keys.Load() {
		if k.ID() == kid {
			out = append(out, k)
		}
	}
	return out, nil
}

func (s *rotatingSet) Generation() uint64 { return s.gen.Load() }

func TestCachedTokenDropsWhenItsKeyIsWithdrawn(t *testing.T) {
	set := &rotatingSet{}
	keys := []*jwt.Key{jwttest.Key(t, "hs", jwt.HS256, jwttest.HMACSecret)}
	set.keys.Store(&keys)
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Keys = nil; o.KeySet = set; o.Algorithms = []string{jwt.HS256} })
	tok := jwttest.HSToken(t, jwttest.Claims(nil))
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	none := []*jwt.Key{}
	set.keys.Store(&none)
	set.gen.Add(1)
	_, err := v.Verify(bg, tok)
	jwttest.ExpectRefused(t, err, jwt.ErrUnknownKey)
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range jwt.Algorithms() {
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			continue // slow; RSA keys are covered elsewhere
		}
		k, err := jwt.GenerateKey("g", alg)
		if err != nil || !k.CanSign() || k.Alg() != alg {
			t.Fatalf("%s: %v", alg, err)
		}
	}
	if _, err := jwt.GenerateKey("g", "none"); err == nil {
		t.Fatal("generated a none key")
	}
}
