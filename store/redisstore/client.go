// Package redisstore implements the store contracts on Redis, so that every
// replica of a service shares one view of rate limits, revocations, refresh
// token families and abuse counters.
//
// It uses rueidis, whose automatic pipelining batches concurrent commands
// from many goroutines onto few connections: under load a decision costs a
// fraction of a round trip. Multi-key scripts keep all their keys in one
// Redis Cluster hash slot through a {hash tag}.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

// Options configure a Store. The zero value of every field but URL is a
// sensible default.
type Options struct {
	// URL is a redis:// or rediss:// (TLS) URL, e.g.
	// "redis://:password@127.0.0.1:6379/0". Required.
	URL string `json:"url" yaml:"url"`
	// Prefix is prepended to every key, so that several applications can
	// share one Redis. Default "bulwark:".
	Prefix string `json:"prefix" yaml:"prefix"`
	// Timeout bounds every command, including the wait for a connection.
	// Default 250ms: a guard that cannot get an answer quickly applies its
	// outage policy rather than stalling the request.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// DialTimeout bounds establishing a connection. Default 1s.
	DialTimeout time.Duration `json:"dial_timeout" yaml:"dial_timeout"`
}

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "bulwark:"

// NewClient parses opts.URL and returns a connected rueidis client with
// Bulwark's defaults (auto-pipelining on, client-side caching off). It does
// not require Redis to be up: commands fail with store.ErrUnavailable until
// it is, and the client reconnects on its own.
func NewClient(opts Options) (rueidis.Client, error) {
	if opts.URL == "" {
		return nil, errors.New("redisstore: URL is required (redis://host:port/db or rediss:// for TLS)")
	}
	if !strings.HasPrefix(opts.URL, "redis://") && !strings.HasPrefix(opts.URL, "rediss://") && !strings.HasPrefix(opts.URL, "unix://") {
		return nil, fmt.Errorf("redisstore: URL %q must start with redis:// or rediss://", redactURL(opts.URL))
	}
	co, err := rueidis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: invalid URL %q: %w", redactURL(opts.URL), err)
	}
	dial := opts.DialTimeout
	if dial <= 0 {
		dial = time.Second
	}
	co.Dialer.Timeout = dial
	co.ConnWriteTimeout = withDefault(opts.Timeout, 250*time.Millisecond) * 4
	co.DisableCache = true
	co.DisableRetry = true // a guard decides what a failed decision means
	return rueidis.NewClient(co)
}

func withDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// redactURL hides a password in a Redis URL for error messages.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	return u[:scheme+3] + "REDACTED" + u[at:]
}

// Unavailable wraps err as a store.UnavailableError when it is a network or
// timeout failure (or a closed client), and returns it unchanged otherwise.
func Unavailable(op string, err error) error {
	if err == nil || rueidis.IsRedisNil(err) {
		return err
	}
	var ne net.Error
	var re *rueidis.RedisError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, rueidis.ErrClosing), errors.As(err, &ne), isConnErr(err):
		return &store.UnavailableError{Op: op, Err: err}
	case errors.As(err, &re) && (strings.HasPrefix(re.Error(), "LOADING") || strings.HasPrefix(re.Error(), "MASTERDOWN") || strings.HasPrefix(re.Error(), "CLUSTERDOWN") || strings.HasPrefix(re.Error(), "TRYAGAIN")):
		return &store.UnavailableError{Op: op, Err: err}
	}
	return err
}

func isConnErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "EOF") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "no such host") || strings.Contains(s, "i/o timeout")
}
