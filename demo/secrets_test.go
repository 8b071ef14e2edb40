package demo_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
	"github.com/bulwark-go/bulwark/internal/testredis"
)

// A fingerprint key given in the environment (and a CSRF key in a file)
// is the one the abuse guards use, and never reaches Redis; the secret
// left unset (the signing seed) falls back to sharing through Redis, and
// the banner says that fallback is for the demo only.
func TestDemoSecretsFromEnvironment(t *testing.T) {
	fp := bytes.Repeat([]byte{0xA5}, 32)
	csrf := bytes.Repeat([]byte{0x5A}, 40)
	t.Setenv("BULWARK_DEMO_FINGERPRINT_KEY", base64.StdEncoding.EncodeToString(fp))
	file := filepath.Join(t.TempDir(), "csrf")
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(csrf)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BULWARK_DEMO_CSRF_KEY_FILE", file)
	prefix := testredis.Prefix(t)
	srv := newDemo(t, demo.Config{RedisURL: testredis.URL(t), RedisPrefix: prefix, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	ip := "203.0.113.77"
	if r := checkoutFrom(t, srv, ip, checkoutBody("4242424242424242", 12, 2030)); r.status != 200 {
		t.Fatalf("checkout: %d %s", r.status, r.raw)
	}
	rc := testredis.Client(t)
	ctx := context.Background()
	// The client's set is named by an HMAC under the environment's key.
	mac := hmac.New(sha256.New, fp)
	mac.Write([]byte(ip))
	want := prefix + "abuse:card-testing:" + hex.EncodeToString(mac.Sum(nil)[:16])
	if n, err := rc.Do(ctx, rc.B().Exists().Key(want).Build()).AsInt64(); err != nil || n != 1 {
		t.Fatalf("no set %s under the environment's fingerprint key (%v)", want, err)
	}
	keys, err := rc.Do(ctx, rc.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	seed := false
	for _, k := range keys {
		switch strings.TrimPrefix(k, prefix) {
		case "demo-secret:fingerprint-key", "demo-secret:csrf-key":
			t.Fatalf("a secret given in the environment was written to Redis: %s", k)
		case "demo-secret:signing-seed":
			seed = true
		}
		if typ, _ := rc.Do(ctx, rc.B().Type().Key(k).Build()).ToString(); typ == "string" {
			if v, _ := rc.Do(ctx, rc.B().Get().Key(k).Build()).AsBytes(); bytes.Contains(v, fp) || bytes.Contains(v, csrf) {
				t.Fatalf("a secret given in the environment is in Redis under %s", k)
			}
		}
	}
	if !seed {
		t.Fatalf("the signing seed, unset, was not shared through Redis: %v", keys)
	}
	if b := demo.Banner("http://127.0.0.1:8000", true); !strings.Contains(b, "demo-only fallback") || !strings.Contains(b, "BULWARK_DEMO_SIGNING_SEED") {
		t.Fatalf("banner: %s", b)
	}
}

// A secret in the environment that is not 32 random bytes in base64, or
// set twice (inline and in a file), stops the demo with a message.
func TestDemoSecretsRefused(t *testing.T) {
	for _, tc := range []struct{ env, val, want string }{
		{"BULWARK_DEMO_FINGERPRINT_KEY", "short", "base64 of 32 random bytes"},
		{"BULWARK_DEMO_SIGNING_SEED", base64.StdEncoding.EncodeToString(make([]byte, 48)), "base64 of 32 random bytes"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.val)
			if _, err := demo.New(demo.Config{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("both", func(t *testing.T) {
		t.Setenv("BULWARK_DEMO_CSRF_KEY", base64.StdEncoding.EncodeToString(make([]byte, 32)))
		t.Setenv("BULWARK_DEMO_CSRF_KEY_FILE", "/nonexistent")
		if _, err := demo.New(demo.Config{}); err == nil || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("%v", err)
		}
	})
}
