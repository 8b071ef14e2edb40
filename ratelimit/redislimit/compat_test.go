package redislimit

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

func TestServerVersions(t *testing.T) {
	for info, ok := range map[string]bool{
		"# Server\r\nredis_version:5.0.14\r\nredis_mode:standalone\r\n": false,
		"redis_version:4.0.9\r\n":                         false,
		"redis_version:6.0.0\r\n":                         true,
		"redis_version:6.2.14\r\n":                        true,
		"redis_version:7.0.15\r\n":                        true,
		"redis_version:10.1.0\r\n":                        true,
		"redis_version:7.2.4\r\nvalkey_version:8.0.1\r\n": true,
		"# Server\r\nno version here\r\n":                 true, // cannot tell: assume it works
	} {
		s := &Store{info: func(context.Context) (string, error) { return info, nil }}
		err := s.checkVersion(context.Background())
		if (err == nil) != ok || err != nil && !errors.Is(err, ErrUnsupportedServer) {
			t.Errorf("%q: %v", info, err)
		}
	}
}

// A server older than the Store supports (Redis 5), where the script
// fails, is named as such, once, at the first decision it fails — not
// taken for an outage, not retried on every decision — and the Store
// works again once the server is upgraded, without a restart.
func TestUnsupportedServer(t *testing.T) {
	c, err := redisstore.NewClient(redisstore.Options{URL: testredis.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var logs bytes.Buffer
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	// A script that fails there (an unsupported command is a syntax error).
	const old = `return redis.error_reply('ERR Error running script: @user_script:1: ERR syntax error')`
	for _, batch := range []int{0, 1} {
		logs.Reset()
		s, err := newStore(Options{Client: c, Prefix: testredis.Prefix(t), Timeout: 5 * time.Second, MaxBatch: batch, Now: clk.Now,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))}, old)
		if err != nil {
			t.Fatal(err)
		}
		version := "5.0.14"
		s.info = func(context.Context) (string, error) { return "# Server\r\nredis_version:" + version + "\r\n", nil }
		var seen []error
		lim, err := ratelimit.New(ratelimit.Options{Store: s, Outage: ratelimit.FailClosed,
			Limits: []ratelimit.Limit{ratelimit.GCRA(1, time.Hour, 10).By(ratelimit.Global())}, OnStoreError: func(err error) { seen = append(seen, err) }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Ping(ctx); !errors.Is(err, ErrUnsupportedServer) {
			t.Fatalf("Check on Redis 5: %v", err)
		}
		for i := range 5 {
			_, err := lim.Allow(ctx, "k")
			if !errors.Is(err, ErrUnsupportedServer) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "Redis 5.0.14") {
				t.Fatalf("decision %d on Redis 5: %v", i, err)
			}
		}
		if n := s.evals.Load(); n != 1 {
			t.Fatalf("%d script runs: an unsupported server should be asked once, not per decision", n)
		}
		if len(seen) != 5 || !errors.Is(seen[0], ErrUnsupportedServer) {
			t.Fatalf("OnStoreError saw %v", seen)
		}
		if !s.Available() {
			t.Fatal("an unsupported server was counted as an outage")
		}
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
			t.Fatalf("%d log records, want 1:\n%s", n, logs.String())
		}
		// The server is upgraded: within a minute, decisions work again.
		version = "7.2.4"
		s.script = script
		sum := sha1.Sum([]byte(script))
		s.sha = hex.EncodeToString(sum[:])
		clk.Advance(compatRecheck)
		if d, err := lim.Allow(ctx, "k"); err != nil || !d.Allowed {
			t.Fatalf("after the upgrade: %+v %v", d, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Check after the upgrade: %v", err)
		}
		s.Close()
	}
}

// On a recent server, a script error is reported as one (and Check passes).
func TestScriptErrorOnRecentServer(t *testing.T) {
	c, err := redisstore.NewClient(redisstore.Options{URL: testredis.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s, err := newStore(Options{Client: c, Prefix: testredis.Prefix(t), Timeout: 5 * time.Second, MaxBatch: 1}, `return redis.error_reply('ERR boom')`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Check on the test Redis: %v", err)
	}
	b, err := s.Bind([]ratelimit.Limit{ratelimit.GCRA(1, time.Hour, 10).Named("l").By(ratelimit.Global())})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Take(context.Background(), []string{"k"}, 1, make([]ratelimit.Result, 1))
	if err == nil || errors.Is(err, ErrUnsupportedServer) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "rejected the rate-limit script") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}
