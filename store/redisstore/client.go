// Package redisstore implements the store contracts on Redis, so that every
// replica of a service shares one view of revocations, refresh token
// families and abuse counters. (Rate limits keep their state in Redis
// through package ratelimit/redislimit, which can share this package's
// client.)
//
// It needs Redis 6.2 or later (Take is GETDEL), the minimum for every
// Redis-backed part of Bulwark. Redis bounds its own
// memory (maxmemory): give it the maxmemory-policy noeviction, for the
// reason memstore has NoEvict — an evicted revocation is a forgotten
// logout. Every key this package writes has a TTL, so a volatile-* policy
// evicts them too. Under noeviction a full Redis refuses writes instead,
// with an OOM error reply (an error, but not store.ErrUnavailable).
//
// It uses rueidis, whose automatic pipelining batches concurrent commands
// from many goroutines onto few connections: under load a decision costs a
// fraction of a round trip. Every Store method is one round trip: a single
// command, or a Lua script sent with EVALSHA (falling back to EVAL when the
// server does not know it yet), so each read-modify-write is atomic on the
// server — pipelined with a GET of the state marker (below).
//
// # Lost state
//
// A Redis that restarts without persistence, or is flushed, comes back
// empty: every revocation and refresh-token family is forgotten, and a
// revoked token would verify again. So the Store keeps a marker under Key(StateKey): the Unix second
// its current state began, written (SET NX) by the first command that
// finds none, and read with every command. When a command finds it gone,
// or changed by another replica, the Store records the new start
// (StateSince, store.StateTracker), counts it (Resets), logs a warning and
// calls Options.OnReset; package jwt then refuses every revocable token
// issued before that second ("session state was reset; log in again")
// until it expires. Replicas' clocks must agree (NTP): the marker is one
// replica's clock, iat another's.
//
// Only a loss of everything is detected. A partial loss keeps the marker
// and goes unseen: the writes a failover to a lagging replica drops, the
// last second under appendfsync everysec, the writes since the last RDB
// snapshot; a revocation or a used refresh token among them comes back.
// So run Redis with appendonly yes (everysec loses at most a second;
// always, nothing), fail over only to replicas in sync
// (min-replicas-to-write), and do not rely on RDB snapshots alone.
// Without persistence, expect every restart of Redis to log every user
// out. The marker has no TTL: under an allkeys-* eviction policy its
// eviction logs everyone out too (use noeviction, as above). Upgrading to
// a Bulwark with the marker against a Redis in use starts a state: tokens
// issued before the upgrade are refused once. With Redis Cluster the
// marker lives on one node: a reset of another node alone is not
// detected.
//
// # Outages
//
// Every command runs under Options.Timeout (default 250ms). When Redis is
// unreachable, slow, or restarting, methods return an error matching
// store.ErrUnavailable within about that time, never hang and never panic;
// each guard then applies its own outage policy (fail open, fail closed, or
// fall back to local state). When Redis comes back, the same Store works
// again: there is nothing to recreate.
//
// A circuit breaker (the one package ratelimit/redislimit uses) keeps an
// outage from costing every request the timeout: after 3 consecutive
// outage errors the Store stops asking Redis for a back-off of 250ms, and
// every method fails at once with store.ErrUnavailable; then one call
// probes Redis. Its success closes the breaker; its failure starts a
// back-off twice as long (up to 500ms). A call whose caller gave up first
// (its context), and an error reply from Redis (out of memory, a wrong
// type), count neither way. Each change is one audit event of guard
// "redisstore" (Options.Audit; without one, a log line on slog.Default()):
// reason store_unavailable when the breaker opens, store_still_unavailable
// at most once a minute while the outage goes on, store_recovered when it
// closes — never one per call. Available reports the breaker's state, for
// a readiness check. Commands sent on Client go around the breaker. Open does not need Redis to be up
// either: if the first connection fails, the Store keeps retrying in the
// background of later calls (at most one attempt at a time, backing off up
// to a second apart), and each call fails with store.ErrUnavailable until
// one succeeds. Only a configuration error (a malformed URL, a rejected
// password) makes Open fail.
//
// # Keys and Redis Cluster
//
// Every key is Options.Prefix (default "bulwark:") followed by the caller's
// key; Store.Key shows the result. All of Store's commands and scripts touch
// exactly one key, so they work unchanged on Redis Cluster. Packages that run
// their own scripts over several keys (through Store.Client) must keep those
// keys in one hash slot by putting the part they share in a hash tag, built
// with Tag: Key(Tag(family) + ":members") and Key(Tag(family) + ":revoked")
// hash alike. The prefix may not contain braces, so that it never overrides a
// caller's tag.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/store"
)

// Options configure a Store. The zero value of every field but URL (or
// Client) is a sensible default.
type Options struct {
	// Client, for Open only, is an existing client to use instead of
	// dialing URL, e.g. one from NewClient shared with other stores. The
	// caller keeps ownership: Close does not close it. Set Client or URL,
	// not both.
	Client rueidis.Client `json:"-" yaml:"-"`
	// URL is a redis:// or rediss:// (TLS) URL, e.g.
	// "redis://:password@127.0.0.1:6379/0"; unix:///path/to/socket also
	// works. Several Redis Cluster nodes are given as extra addr query
	// parameters ("redis://10.0.0.1:6379?addr=10.0.0.2:6379"). Required
	// unless Client is set.
	URL string `json:"url" yaml:"url"`
	// Prefix is prepended to every key, so that several applications can
	// share one Redis. It may not contain '{' or '}' (see the package doc on
	// Redis Cluster). Default "bulwark:" (DefaultPrefix).
	Prefix string `json:"prefix" yaml:"prefix"`
	// Timeout bounds every command, including the wait for a connection.
	// A guard that cannot get an answer quickly applies its outage policy
	// rather than stalling the request. Default 250ms (DefaultTimeout).
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// DialTimeout bounds establishing a connection (TCP and, for rediss://,
	// TLS). Default 1s (DefaultDialTimeout).
	DialTimeout time.Duration `json:"dial_timeout" yaml:"dial_timeout"`
	// OnReset, when set, is called (besides a warning logged through
	// slog.Default) each time the Store finds that Redis lost its data
	// while it was running, with the start of the new state (see "Lost
	// state" in the package doc). Default: the log line only.
	OnReset func(since time.Time) `json:"-" yaml:"-"`
	// Audit receives one event per change of the Store's circuit breaker
	// (see Outages): Redis unavailable, still unavailable, recovered.
	// Default: a log line on slog.Default(), so that an outage is never
	// silent.
	Audit audit.Sink `json:"-" yaml:"-"`
	// Now is the Store's clock: it stamps a new state marker (so it must
	// agree with the clock that stamps tokens' iat) and times the circuit
	// breaker's back-off. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Defaults for Options.
const (
	DefaultPrefix      = "bulwark:"
	DefaultTimeout     = 250 * time.Millisecond
	DefaultDialTimeout = time.Second
)

// withDefaults validates opts and fills in defaults. Its errors never
// contain the URL's password.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Client != nil && o.URL != "":
		return o, errors.New("redisstore: set Options.URL or Options.Client, not both")
	case o.Client != nil:
	case o.URL == "":
		return o, errors.New("redisstore: URL is required (redis://host:port/db, or rediss:// for TLS)")
	case !strings.HasPrefix(o.URL, "redis://") && !strings.HasPrefix(o.URL, "rediss://") && !strings.HasPrefix(o.URL, "unix://"):
		return o, fmt.Errorf("redisstore: URL %q must start with redis://, rediss:// (TLS) or unix://", redactURL(o.URL))
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("redisstore: Prefix %q contains a brace: a hash tag in the prefix would put every key in one Redis Cluster slot and override callers' tags; remove the braces", o.Prefix)
	}
	if o.Timeout < 0 || o.DialTimeout < 0 {
		return o, fmt.Errorf("redisstore: Timeout (%s) and DialTimeout (%s) must not be negative; use 0 for the defaults (%s, %s)", o.Timeout, o.DialTimeout, DefaultTimeout, DefaultDialTimeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	return o, nil
}

// clientOption turns validated opts into rueidis options.
func clientOption(o Options) (rueidis.ClientOption, error) {
	co, err := rueidis.ParseURL(o.URL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return co, fmt.Errorf("redisstore: invalid URL %q: %s", redactURL(o.URL), redactIn(err.Error(), o.URL))
	}
	co.Dialer.Timeout = o.DialTimeout
	// A connection whose writes stall this long is considered dead and
	// replaced; it also paces the keep-alive pings that detect a silent
	// peer.
	co.ConnWriteTimeout = max(4*o.Timeout, time.Second)
	co.DisableCache = true // Bulwark's state must not be served stale
	co.DisableRetry = true // a guard decides what a failed decision means
	return co, nil
}

// NewClient validates opts and returns a rueidis client with Bulwark's
// defaults (auto-pipelining on, client-side caching and retries off). It
// tries to connect once, waiting at most opts.DialTimeout, but does not
// require Redis to be up: if that fails, the client connects on a later
// command (see the package doc on outages), and until then commands fail
// with errors that Unavailable maps to store.ErrUnavailable. NewClient fails
// only for a configuration error, or when Redis answers but refuses the
// connection (a wrong password).
func NewClient(opts Options) (rueidis.Client, error) {
	if opts.Client != nil {
		return nil, errors.New("redisstore: NewClient dials Options.URL; Options.Client is for Open")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	co, err := clientOption(o)
	if err != nil {
		return nil, err
	}
	return newLazyClient(co, o.URL)
}

// redactURL hides the user information (and so a password) of a Redis URL
// for error messages.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	return u[:scheme+3] + "REDACTED" + u[at:]
}

// redactIn removes the password of rawURL from msg, in case a parser quoted
// it.
func redactIn(msg, rawURL string) string {
	at := strings.LastIndexByte(rawURL, '@')
	scheme := strings.Index(rawURL, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return msg
	}
	userinfo := rawURL[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		if pw := userinfo[i+1:]; pw != "" {
			msg = strings.ReplaceAll(msg, pw, "REDACTED")
		}
	}
	return msg
}

// Unavailable wraps err as a store.UnavailableError when it is a network or
// timeout failure (or a closed client), and returns it unchanged otherwise.
// A cancelled context (context.Canceled) is the caller giving up, not an
// outage: it is returned unchanged, so that a guard neither fails over nor
// counts it against Redis. (A deadline is a time-out — usually the Store's
// own Options.Timeout — and is an outage; a caller that set a shorter
// deadline of its own can tell by its ctx.Err().)
func Unavailable(op string, err error) error {
	if err == nil || rueidis.IsRedisNil(err) {
		return err
	}
	var ne net.Error
	var re *rueidis.RedisError
	switch {
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, rueidis.ErrClosing), errors.Is(err, errNotConnected),
		errors.As(err, &ne), isConnErr(err):
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
