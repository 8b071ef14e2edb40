package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

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
	n := 0
	for i := range ops {
		if ops[i].TTL <= 0 {
			return store.ErrInvalidTTL
		}
		n += len(s.prefix) + len(ops[i].Key) + len(ops[i].Member)
	}
	// The caller may reuse Key and Member after we return, possibly while
	// a timed-out command is still queued: copy them, all into one buffer
	// of this call's own (never pooled, so never reused under a queued
	// command).
	buf := make([]byte, 0, n)
	str := func(parts ...string) string {
		start := len(buf)
		for _, p := range parts {
			buf = append(buf, p...)
		}
		return unsafe.String(unsafe.SliceData(buf[start:]), len(buf)-start)
	}
	var small [16]string // key, member of up to 8 ops, on the stack
	km := small[:0]
	if 2*len(ops) > len(small) {
		km = make([]string, 0, 2*len(ops))
	}
	for i := range ops {
		km = append(km, str(s.prefix, ops[i].Key), str(ops[i].Member))
	}
	build := func(full bool) rueidis.Commands {
		cmds := make(rueidis.Commands, len(ops), len(ops)+1) // room for do's marker read
		b := s.client.B()
		for i := range ops {
			op := &ops[i]
			c := int64(-1)
			if op.Cap > 0 {
				c = op.Cap
			}
			k, m := km[2*i], km[2*i+1]
			ttl, cp, sl, ap := itoa(ms(op.TTL)), itoa(c), flag(op.Sliding), flag(op.Approximate)
			if full {
				cmds[i] = b.Eval().Script(distinctScript.src).Numkeys(1).Key(k).Arg(m, ttl, cp, sl, ap).Build()
			} else {
				cmds[i] = b.Evalsha().Sha1(distinctScript.sha).Numkeys(1).Key(k).Arg(m, ttl, cp, sl, ap).Build()
			}
		}
		return cmds
	}
	p := distinctParsers.Get().(*distinctParser)
	p.ops = ops
	err := s.doParse(ctx, "countdistinct", build(false), p)
	if errors.Is(err, errNoScript) {
		err = s.doParse(ctx, "countdistinct", build(true), p)
	}
	p.ops = nil
	distinctParsers.Put(p)
	return err
}

// distinctParser reads CountDistinct's replies into its ops; pooled.
type distinctParser struct{ ops []store.DistinctOp }

var distinctParsers = sync.Pool{New: func() any { return new(distinctParser) }}

func (p *distinctParser) parse(res []rueidis.RedisResult) error {
	for i, r := range res {
		if re, ok := rueidis.IsRedisErr(r.Error()); ok && re.IsNoScript() {
			return errNoScript
		}
		v, err := r.ToArray() // the reply's own slice: no copy
		if err != nil {
			return err
		}
		if len(v) != 2 {
			return errors.New("redisstore: countdistinct: unexpected reply")
		}
		size, err := v[0].AsInt64()
		if err != nil {
			return err
		}
		added, err := v[1].AsInt64()
		if err != nil {
			return err
		}
		p.ops[i].Size, p.ops[i].Added = size, added == 1
	}
	return nil
}

// itoa formats v, from a small cache: a guard's TTLs and caps repeat.
func itoa(v int64) string {
	slot := &itoaCache[uint64(v)%uint64(len(itoaCache))]
	if e := slot.Load(); e != nil && e.v == v {
		return e.s
	}
	e := &itoaEntry{v: v, s: strconv.FormatInt(v, 10)}
	slot.Store(e)
	return e.s
}

type itoaEntry struct {
	v int64
	s string
}

var itoaCache [64]atomic.Pointer[itoaEntry]

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
