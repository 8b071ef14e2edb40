package redislimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store/redisstore"
)

// ErrUnsupportedServer is returned (wrapped, with the server's version)
// by decisions and by Check when the Redis server is older than 6.0, too
// old for the script, and the script fails on it; its message asks for
// 6.2, the minimum of Bulwark as a whole. It is not an outage (it does not
// match store.ErrUnavailable): the Limiter reports it to OnStoreError and
// decides by its Outage policy until the server is upgraded, which the
// Store notices within a minute, without a restart.
var ErrUnsupportedServer = errors.New("redislimit: the Redis server is too old for rate limiting: it needs Redis 6.2 or later")

// The oldest server the script runs on (Bulwark as a whole needs 6.2).
const minMajor, minMinor = 6, 0

// How long an unsupported-server verdict holds before the Store looks
// again, and how often at most a failing script makes it ask the server
// its version (variables for tests).
var (
	compatRecheck  = time.Minute
	compatInterval = 10 * time.Second
)

// compat remembers that the server is too old, so that decisions fail at
// once instead of each running a script that cannot work. A server is
// only asked its version when the script fails, so a healthy Redis costs
// nothing.
type compat struct {
	bad   atomic.Pointer[error] // the verdict, when too old
	until atomic.Int64          // the verdict holds until then (the Store's clock)
	asked atomic.Int64          // when the version was last asked, +1 (0: never)
}

// verdict returns the remembered ErrUnsupportedServer, if it still holds.
func (c *compat) verdict(now int64) error {
	e := c.bad.Load()
	if e == nil {
		return nil
	}
	if now < c.until.Load() {
		return *e
	}
	c.bad.CompareAndSwap(e, nil) // look again: the next failure asks anew
	return nil
}

// isRedisErr reports whether err is an error reply from Redis.
func isRedisErr(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}

// scriptFailed explains an error reply to the script: on a server too old
// for it, ErrUnsupportedServer (remembered, and logged); otherwise the
// reply itself, said to come from the script. It asks the version within
// ctx, the decision's own time.
func (s *Store) scriptFailed(ctx context.Context, reply error) error {
	now := s.clock()
	if last := s.compat.asked.Load(); (last == 0 || now-(last-1) >= int64(compatInterval)) && s.compat.asked.CompareAndSwap(last, now+1) {
		err := s.checkVersion(ctx)
		if errors.Is(err, ErrUnsupportedServer) {
			if s.compat.bad.Load() == nil {
				s.log.Error("redislimit: the Redis server is too old for rate limiting; decisions fall to the limiter's outage policy until it is upgraded",
					"error", err, "script_error", reply.Error())
			}
			s.compat.until.Store(now + int64(compatRecheck))
			s.compat.bad.Store(&err)
			return err
		}
	} else if e := s.compat.bad.Load(); e != nil {
		return *e
	}
	return fmt.Errorf("redislimit: Redis rejected the rate-limit script: %w", reply)
}

// Ping reports whether the Store can work with its Redis server: nil, an
// error matching ErrUnsupportedServer for a server older than 6.0, or an
// outage (store.ErrUnavailable). Decisions do not need it — call it at
// startup, or in a readiness check, to learn of an unusable server before
// any traffic.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.checkVersion(ctx)
}

// checkVersion asks the server its version: nil when it is recent enough
// or does not say (INFO disabled), ErrUnsupportedServer when too old.
func (s *Store) checkVersion(ctx context.Context) error {
	info, err := s.info(ctx)
	if err != nil {
		if mapped := redisstore.Unavailable("ratelimit", err); mapped != err || !isRedisErr(err) {
			return mapped
		}
		return nil // INFO refused (renamed, ACL): cannot tell
	}
	v, ok := serverVersion(info)
	if !ok {
		return nil
	}
	if major, minor, _ := strings.Cut(v, "."); atoiOr(major) < minMajor || atoiOr(major) == minMajor && atoiOr(minor) < minMinor {
		return fmt.Errorf("%w; the server runs Redis %s", ErrUnsupportedServer, v)
	}
	return nil
}

// serverInfo is INFO server.
func (s *Store) serverInfo(ctx context.Context) (string, error) {
	c := s.client
	return c.Do(ctx, c.B().Info().Section("server").Build()).ToString()
}

// serverVersion finds redis_version in an INFO reply.
func serverVersion(info string) (string, bool) {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, v != ""
		}
	}
	return "", false
}

// atoiOr parses the leading digits of s (0 if none).
func atoiOr(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n
}
