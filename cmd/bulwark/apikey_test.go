package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

func writeSecret(t *testing.T) (string, []byte) {
	t.Helper()
	secret := []byte("cli-test-secret-0123456789abcdef0123456789")
	path := filepath.Join(t.TempDir(), "apikey.secret")
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, secret
}

// TestAPIKeyNew: the key printed verifies against the record printed,
// under the secret from the file; the record holds no secret.
func TestAPIKeyNew(t *testing.T) {
	t.Setenv(envSecret, "")
	t.Setenv(envSecretFile, "")
	path, secret := writeSecret(t)
	code, out, errs := runCLI(t, "", "apikey", "new", "--scopes", "read, write", "--owner", "ci", "--ttl", "720h", "--secret-file", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bwk_live_") || !strings.Contains(errs, "shown this once") {
		t.Fatalf("stdout %q", out)
	}
	key := lines[0]
	var rec apikey.Record
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(lines[1], key[len("bwk_live_")+apikey.IDLen+1:]) {
		t.Fatal("the record contains the key's secret")
	}
	if rec.Owner != "ci" || strings.Join(rec.Scopes, ",") != "read,write" || rec.ExpiresAt.Sub(rec.CreatedAt) != 720*time.Hour {
		t.Fatalf("record %+v", rec)
	}
	recs, err := apikey.ReadRecords(strings.NewReader(lines[1]))
	if err != nil {
		t.Fatal(err)
	}
	st, err := apikey.NewStatic(recs...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := apikey.New(apikey.Options{Store: st, Secrets: [][]byte{secret}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(context.Background(), key); err != nil {
		t.Fatalf("the printed key does not verify against the printed record: %v", err)
	}
	// The secret from the environment works the same.
	t.Setenv(envSecret, string(secret))
	if code, out, errs := runCLI(t, "", "apikey", "new", "--scopes", "read", "--prefix", "bwk_test_"); code != 0 || !strings.HasPrefix(out, "bwk_test_") {
		t.Fatalf("secret from $%s: %d %q %s", envSecret, code, out, errs)
	}
}

func TestAPIKeyMigrate(t *testing.T) {
	path, secret := writeSecret(t)
	code, out, errs := runCLI(t, "demo-read-key-0001\n", "apikey", "migrate", "--id", "demo-read", "--scopes", "read", "--secret-file", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := apikey.ReadRecords(strings.NewReader(out))
	if err != nil || len(recs) != 1 || !recs[0].Legacy {
		t.Fatalf("%q: %v", out, err)
	}
	st, _ := apikey.NewStatic(recs...)
	a, _ := apikey.New(apikey.Options{Store: st, Secrets: [][]byte{secret}, Legacy: true})
	if _, err := a.Verify(context.Background(), "demo-read-key-0001"); err != nil {
		t.Fatal(err)
	}
}

func TestAPIKeyRefuses(t *testing.T) {
	t.Setenv(envSecret, "")
	t.Setenv(envSecretFile, "")
	path, _ := writeSecret(t)
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("tooshort"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"apikey"}, 2, "subcommand is required"},
		{[]string{"apikey", "rotate"}, 2, "unknown subcommand"},
		{[]string{"apikey", "new"}, 2, "--scopes"},
		{[]string{"apikey", "new", "--scopes", "read"}, 1, "openssl rand -base64 48"},
		{[]string{"apikey", "new", "--scopes", "read", "--secret-file", short}, 1, "at least 32"},
		{[]string{"apikey", "new", "--scopes", "read", "--secret-file", path, "--prefix", "Bad-"}, 1, "invalid prefix"},
		{[]string{"apikey", "new", "--scopes", "read", "--secret-file", path, "--ttl", "-1h"}, 2, "--ttl"},
		{[]string{"apikey", "new", "--scopes", "re ad", "--secret-file", path}, 2, `--scopes: "re ad" is not a valid scope`},
		{[]string{"apikey", "new", "--scopes", "read", "--roles", "a\"b", "--secret-file", path}, 2, `--roles: "a\"b"`},
		{[]string{"apikey", "migrate", "--scopes", "read", "--secret-file", path}, 2, "--id"},
	} {
		code, out, errs := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d mentioning %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
	if code, out, _ := runCLI(t, "", "apikey", "new", "-h"); code != 0 || !strings.Contains(out, envSecret) {
		t.Fatalf("help: %d %q", code, out)
	}
}
