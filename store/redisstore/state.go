package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

// StateKey is the caller's key of the state marker (so Key(StateKey) is
// the Redis key): the Unix second at which the Store's current state
// began. See the package doc, "Lost state".
const StateKey = "!state-since"

var _ store.StateTracker = (*Store)(nil)

// StateSince implements store.StateTracker: when the state under the
// Store's prefix began, as the last answered command saw it.
func (s *Store) StateSince() time.Time {
	if t := s.since.Load(); t != 0 {
		return time.Unix(t, 0)
	}
	return time.Time{}
}

// Resets returns how many times this Store has seen the state marker
// replaced: Redis lost its data (restarted empty, failed over to an empty
// replica, was flushed) while the Store was running. Each is also logged.
func (s *Store) Resets() uint64 { return s.resets.Load() }

// do runs cmds in one round trip, together with a read of the state
// marker, under the Store's timeout, and returns their results (whose
// errors are the caller's to map). A failure of the marker read fails the
// call.
func (s *Store) do(ctx context.Context, op string, cmds rueidis.Commands) ([]rueidis.RedisResult, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.Context(ctx)
	defer cancel()
	c := s.client
	cmds = append(cmds, c.B().Get().Key(s.marker).Build())
	res := c.DoMulti(ctx, cmds...)
	if err := s.observe(ctx, res[len(res)-1]); err != nil {
		return nil, fail(op, err)
	}
	return res[:len(res)-1], nil
}

// do1 is do for the one command build makes.
func (s *Store) do1(ctx context.Context, op string, build func(rueidis.Builder) rueidis.Completed) (rueidis.RedisResult, error) {
	if err := s.check(op); err != nil {
		return rueidis.RedisResult{}, err
	}
	res, err := s.do(ctx, op, rueidis.Commands{build(s.client.B())})
	if err != nil {
		return rueidis.RedisResult{}, err
	}
	return res[0], nil
}

// luaScript is a script sent by its SHA1 (EVALSHA), and in full (EVAL)
// only when the server does not know it yet.
type luaScript struct{ src, sha string }

func newScript(src string) *luaScript {
	sum := sha1.Sum([]byte(src))
	return &luaScript{src: src, sha: hex.EncodeToString(sum[:])}
}

// script runs sc on keys and args through do.
func (s *Store) script(ctx context.Context, op string, sc *luaScript, keys []string, args ...string) (rueidis.RedisResult, error) {
	r, err := s.do1(ctx, op, func(b rueidis.Builder) rueidis.Completed {
		return b.Evalsha().Sha1(sc.sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
	})
	if err == nil {
		if re, ok := rueidis.IsRedisErr(r.Error()); ok && re.IsNoScript() {
			r, err = s.do1(ctx, op, func(b rueidis.Builder) rueidis.Completed {
				return b.Eval().Script(sc.src).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
			})
		}
	}
	return r, err
}

// observe reads the state marker's reply; a missing marker starts a new
// state.
func (s *Store) observe(ctx context.Context, r rueidis.RedisResult) error {
	v, err := r.ToString()
	switch {
	case err == nil:
		return s.seen(v)
	case !rueidis.IsRedisNil(err):
		return err
	}
	// No marker: a new Redis, or one that lost its data. Whichever replica
	// writes first sets the moment; everyone reads it back.
	c := s.client
	now := strconv.FormatInt(s.now().Unix(), 10)
	res := c.DoMulti(ctx,
		c.B().Set().Key(s.marker).Value(now).Nx().Build(),
		c.B().Get().Key(s.marker).Build())
	if err := res[0].Error(); err != nil && !rueidis.IsRedisNil(err) {
		return err
	}
	if v, err = res[1].ToString(); err != nil {
		return err
	}
	return s.seen(v)
}

// seen records the marker's value v.
func (s *Store) seen(v string) error {
	t, err := strconv.ParseInt(v, 10, 64)
	if err != nil || t <= 0 {
		return fmt.Errorf("the state marker %s holds %q, not a Unix time; delete it (DEL) and the Store starts a new state", s.marker, v)
	}
	old := s.since.Load()
	if old == t || !s.since.CompareAndSwap(old, t) {
		return nil // unchanged, or another goroutine recorded it
	}
	if old == 0 {
		slog.Default().Debug("redisstore: state marker read", "prefix", s.prefix, "since", time.Unix(t, 0).UTC())
		return nil
	}
	s.resets.Add(1)
	slog.Default().Warn("redisstore: Redis lost its data (restarted empty, failed over to an empty replica, or flushed); state before the reset is forgotten and guards refuse what depended on it",
		"prefix", s.prefix, "previous_since", time.Unix(old, 0).UTC(), "since", time.Unix(t, 0).UTC())
	if s.onReset != nil {
		s.onReset(time.Unix(t, 0))
	}
	return nil
}
