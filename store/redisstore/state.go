package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

// StateKey is the caller's key of the state marker (so Key(StateKey) is
// the Redis key): the Unix second at which the Store's current state
// began, a dot, and a random tag that tells two states begun in one
// second apart. See the package doc, "Lost state".
const StateKey = "!state-since"

// marker is a state marker as read: its text and its second.
type marker struct {
	raw   string
	since int64
}

var _ store.StateTracker = (*Store)(nil)

// StateSince implements store.StateTracker: when the state under the
// Store's prefix began, as the last answered command saw it.
func (s *Store) StateSince() time.Time {
	if m := s.state.Load(); m != nil {
		return time.Unix(m.since, 0)
	}
	return time.Time{}
}

// Resets returns how many times this Store has seen the state marker
// replaced: Redis lost its data (restarted empty, failed over to an empty
// replica, was flushed) while the Store was running. Each is also logged.
func (s *Store) Resets() uint64 { return s.resets.Load() }

// luaScript is a script sent by its SHA1 (EVALSHA), and in full (EVAL)
// only when the server does not know it yet.
type luaScript struct{ src, sha string }

func newScript(src string) *luaScript {
	sum := sha1.Sum([]byte(src))
	return &luaScript{src: src, sha: hex.EncodeToString(sum[:])}
}

// errNoScript is what parse says of a NOSCRIPT reply.
var errNoScript = errors.New("script not loaded")

// script runs sc on keys and args through do, by SHA1, and again in full
// when Redis does not know it (after a restart, or on a new server).
func (s *Store) script(ctx context.Context, op string, sc *luaScript, keys, args []string, parse func(rueidis.RedisResult) error) error {
	n := int64(len(keys))
	sha := func(b rueidis.Builder) rueidis.Completed {
		return b.Evalsha().Sha1(sc.sha).Numkeys(n).Key(keys...).Arg(args...).Build()
	}
	err := s.do1(ctx, op, sha, func(r rueidis.RedisResult) error {
		if re, ok := rueidis.IsRedisErr(r.Error()); ok && re.IsNoScript() {
			return errNoScript
		}
		return parse(r)
	})
	if errors.Is(err, errNoScript) {
		err = s.do1(ctx, op, func(b rueidis.Builder) rueidis.Completed {
			return b.Eval().Script(sc.src).Numkeys(n).Key(keys...).Arg(args...).Build()
		}, parse)
	}
	return err
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
	wall := time.Now
	if s.now != nil {
		wall = s.now
	}
	var tag [8]byte
	_, _ = rand.Read(tag[:])
	now := strconv.FormatInt(wall().Unix(), 10) + "." + hex.EncodeToString(tag[:])
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
	old := s.state.Load()
	if old != nil && old.raw == v {
		return nil
	}
	sec, _, _ := strings.Cut(v, ".")
	t, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || t <= 0 {
		return fmt.Errorf("the state marker %s holds %q, not a Unix time; delete it (DEL) and the Store starts a new state", s.marker, v)
	}
	if old != nil && t < old.since {
		// A late answer to a command sent before the marker we know was
		// written: states only move forward.
		return nil
	}
	if !s.state.CompareAndSwap(old, &marker{raw: v, since: t}) {
		return nil // another goroutine recorded it
	}
	if old == nil {
		slog.Default().Debug("redisstore: state marker read", "prefix", s.prefix, "since", time.Unix(t, 0).UTC())
		return nil
	}
	s.resets.Add(1)
	slog.Default().Warn("redisstore: Redis lost its data (restarted empty, failed over to an empty replica, or flushed); state before the reset is forgotten and guards refuse what depended on it",
		"prefix", s.prefix, "previous_since", time.Unix(old.since, 0).UTC(), "since", time.Unix(t, 0).UTC())
	if s.onReset != nil {
		s.onReset(time.Unix(t, 0))
	}
	return nil
}
