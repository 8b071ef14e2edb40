// Package testredis gives tests a real Redis server to talk to.
//
// Tests read REDIS_URL (default redis://127.0.0.1:6379/0). When no server
// answers, the test is skipped on a developer machine but fails when the CI
// environment variable is set: CI must never silently skip Redis tests.
// Every test gets its own key prefix, and its keys are deleted at cleanup.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// DefaultURL is used when REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the Redis URL tests should use, after checking that a server
// answers there (skipping, or failing under CI, when none does).
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = DefaultURL
	}
	if err := ping(u); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis is required in CI but %s does not answer: %v", u, err)
		}
		t.Skipf("no Redis at %s (set REDIS_URL; CI fails instead of skipping): %v", u, err)
	}
	return u
}

func ping(u string) error {
	pu, err := url.Parse(u)
	if err != nil {
		return err
	}
	host := pu.Host
	if host == "" {
		host = "127.0.0.1:6379"
	}
	c, err := net.DialTimeout("tcp", host, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// Prefix returns a key prefix unique to this test, and registers a cleanup
// that deletes every key under it.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "bulwark-test:" + hex.EncodeToString(b[:]) + ":"
	u := URL(t)
	t.Cleanup(func() { DeletePrefix(t, u, p) })
	return p
}

// Client returns a rueidis client of the test Redis, closed at cleanup.
func Client(t testing.TB) rueidis.Client {
	t.Helper()
	return ClientOf(t, URL(t))
}

// ClientOf returns a rueidis client of the Redis at redisURL (a Server's,
// say), closed at cleanup.
func ClientOf(t testing.TB, redisURL string) rueidis.Client {
	t.Helper()
	co, err := rueidis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	co.DisableCache = true
	c, err := rueidis.NewClient(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// DeletePrefix removes every key that starts with prefix.
func DeletePrefix(t testing.TB, redisURL, prefix string) {
	co, err := rueidis.ParseURL(redisURL)
	if err != nil {
		t.Error(err)
		return
	}
	co.DisableCache = true
	c, err := rueidis.NewClient(co)
	if err != nil {
		t.Logf("cleanup of %s skipped: %v", prefix, err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Logf("cleanup of %s: %v", prefix, err)
			return
		}
		if len(e.Elements) > 0 {
			c.Do(ctx, c.B().Del().Key(e.Elements...).Build())
		}
		cursor = e.Cursor
		if cursor == 0 {
			return
		}
	}
}
