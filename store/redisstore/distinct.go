package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

var _ store.DistinctCounter = (*Store)(nil)

// distinctScript is one store.DistinctOp, atomically: KEYS[1] the set (or
// HyperLogLog), ARGV member (empty for a touch), TTL in ms, cap (-1: none),
// sliding (1/0), approximate (1/0). It returns {size, added}. The expiry
// is restarted when sliding, else set only on a key without one (a new
// key); a missing key stays missing.
var distinctScript = newScript(`
local k, m = KEYS[1], ARGV[1]
local cap = tonumber(ARGV[3])
local n, added = 0, 0
if ARGV[5] == '1' then
  if m ~= '' then added = redis.call('PFADD', k, m) end
  n = redis.call('PFCOUNT', k)
else
  n = redis.call('SCARD', k)
  if m ~= '' and (cap < 0 or n <= cap) then
    added = redis.call('SADD', k, m)
    n = n + added
  end
end
if n > 0 and (ARGV[4] == '1' or redis.call('PTTL', k) < 0) then
  redis.call('PEXPIRE', k, ARGV[2])
end
return {n, added}`)

// CountDistinct implements store.DistinctCounter: one script call per op
// (SCARD, SADD, PEXPIRE — or PFADD, PFCOUNT, PEXPIRE in approximate mode),
// all ops pipelined in one round trip. Each op has one key, so each stays
// in one Redis Cluster slot. Scripts go by SHA1 and, after NOSCRIPT, the
// whole batch again in full: ops are idempotent, so a repeat changes no
// count. Approximate ops keep a HyperLogLog: 12 KB at most per key, a
// standard error of 0.81%, no Cap.
func (s *Store) CountDistinct(ctx context.Context, ops []store.DistinctOp) error {
	if len(ops) == 0 {
		return nil
	}
	for i := range ops {
		if ops[i].TTL <= 0 {
			return store.ErrInvalidTTL
		}
	}
	// The caller may reuse Key and Member after we return, possibly while
	// a timed-out command is still queued: copy them into one string.
	keys := make([]string, len(ops))
	args := make([][]string, len(ops))
	for i := range ops {
		op := &ops[i]
		c := int64(-1)
		if op.Cap > 0 {
			c = op.Cap
		}
		keys[i] = strings.Clone(op.Key)
		if s.prefix != "" {
			keys[i] = s.prefix + op.Key
		}
		args[i] = []string{strings.Clone(op.Member), strconv.FormatInt(ms(op.TTL), 10), strconv.FormatInt(c, 10), flag(op.Sliding), flag(op.Approximate)}
	}
	build := func(full bool) rueidis.Commands {
		cmds := make(rueidis.Commands, len(ops), len(ops)+1) // room for do's marker read
		b := s.client.B()
		for i := range ops {
			if full {
				cmds[i] = b.Eval().Script(distinctScript.src).Numkeys(1).Key(keys[i]).Arg(args[i]...).Build()
			} else {
				cmds[i] = b.Evalsha().Sha1(distinctScript.sha).Numkeys(1).Key(keys[i]).Arg(args[i]...).Build()
			}
		}
		return cmds
	}
	parse := func(res []rueidis.RedisResult) error {
		for i, r := range res {
			if re, ok := rueidis.IsRedisErr(r.Error()); ok && re.IsNoScript() {
				return errNoScript
			}
			v, err := r.AsIntSlice()
			if err != nil {
				return err
			}
			if len(v) != 2 {
				return errors.New("redisstore: countdistinct: unexpected reply")
			}
			ops[i].Size, ops[i].Added = v[0], v[1] == 1
		}
		return nil
	}
	err := s.do(ctx, "countdistinct", build(false), parse)
	if errors.Is(err, errNoScript) {
		err = s.do(ctx, "countdistinct", build(true), parse)
	}
	return err
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
