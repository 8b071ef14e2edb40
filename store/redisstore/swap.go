package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

var _ store.Swapper = (*Store)(nil)

// casScript compares KEYS[1] with ARGV[2] (or with nothing, when ARGV[1]
// is not "1") and, when they match, sets it to ARGV[4] for ARGV[5] ms (or
// deletes it, when ARGV[3] is not "1"). A key of another type than a
// string never matches. 1 when swapped, else 0.
var casScript = newScript(`
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'string' and t ~= 'none' then
  return 0
end
local v = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if v ~= ARGV[2] then
    return 0
  end
elseif v then
  return 0
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
else
  redis.call('DEL', KEYS[1])
end
return 1`)

// CompareAndSwap implements store.Swapper with one script call.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (swapped bool, err error) {
	if next != nil && ttl <= 0 {
		return false, store.ErrInvalidTTL
	}
	flag := func(b []byte) string {
		if b == nil {
			return "0"
		}
		return "1"
	}
	args := []string{flag(old), string(old), flag(next), string(next), strconv.FormatInt(ms(max(ttl, time.Millisecond)), 10)}
	err = s.script(ctx, "cas", casScript, []string{s.prefix + key}, args, func(r rueidis.RedisResult) (err error) {
		n, err := r.AsInt64()
		swapped = n == 1
		return err
	})
	return swapped && err == nil, err
}
