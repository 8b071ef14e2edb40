package redislimit

// script decides a batch of requests, each against one or more limits, in
// one atomic step on the Redis server, using the server's clock.
//
// ARGV[1] is the number of limit specs S, ARGV[2] a uniform request code
// (0 when the requests' codes follow the specs). Then S specs, each n (the
// number of limits) followed by n triples: algorithm, limit, parameter in
// µs. Then, unless uniform, one code per request: the index of its spec
// (from 1) + (S+1) × its cost. KEYS holds every request's n keys in order.
//
// Each request is decided on its own, in order: every limit is checked
// first (which changes nothing but dropping sliding-log entries that have
// already left the window), and only if all admit it are they charged.
//
// The reply, per limit of every request: for GCRA one integer, 2×d + 1
// when admitted (d = the new TAT − now) and 2×d when refused (d = the
// current TAT − now, never negative); the client derives remaining, reset
// and retry-after from d, the limit and the cost. For the windows four
// integers: admitted (1/0), remaining, reset (µs) and retry-after (µs).
//
// Times are integers of microseconds since the Unix epoch, below 2^53 and
// so exact in Lua's doubles; numbers stored by redis.call are read back
// with tonumber, which parses any format Redis writes them in.
//
// Algorithms: 'g' GCRA (token bucket): a string holding the theoretical
// arrival time (TAT) as an 8-byte little-endian double, p = refill
// interval; 'f' fixed window: a hash {e = window end, c = count}, p =
// window; 's' sliding log: a list of admission times, oldest first, p =
// window. Every key expires once its state has become indistinguishable
// from a fresh one — at the end of the bucket (of the limit's window,
// aligned to the epoch) holding that moment. Because expiry times are
// bucketed, a write that leaves them where they were keeps the TTL: for
// GCRA, SETRANGE overwrites the 8 bytes in place (no new value, the TTL
// untouched, fewer lookups than SET … KEEPTTL), so most decisions cost one
// read and one in-place write. A batch whose requests are all single-GCRA
// reads every key with one MGET; a key written earlier in the batch is then
// read from the script's own record of what it wrote — unless the client
// found every key of the batch distinct and said so (ARGV[7] == 'd' after
// the one spec). Numbers passed to redis.call are strings where they can
// be ('0'): Lua formats a number argument with printf.
const script = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local fmod, floor, ceil = math.fmod, math.floor, math.ceil
-- A TAT is stored as 8 bytes (a little-endian double): no decimal
-- formatting or parsing on the hot path.
local pack, unpack8 = struct.pack, struct.unpack
local uniform = tonumber(ARGV[2])
if uniform > 0 and ARGV[1] == '1' and ARGV[3] == '1' and ARGV[4] == 'g' then
  -- The common case: one GCRA limit per request, all alike (one spec,
  -- so a code is 1 + 2 × cost). Every key is read with one MGET. When
  -- the client found the keys distinct (ARGV[7] == 'd'), none is read
  -- after it was written; otherwise a key written earlier in the batch is
  -- read from the record of what was written. The same decisions as gcra
  -- below, inlined; x % y is exact here (x < 2^53), as fmod is.
  local call = redis.call
  local p = tonumber(ARGV[6])
  local cap = tonumber(ARGV[5]) * p
  local dp = floor(uniform / 2) * p
  local vals = call('MGET', unpack(KEYS))
  local out = {}
  local written = nil
  if ARGV[7] ~= 'd' then written = {} end
  for i = 1, #KEYS do
    local key = KEYS[i]
    local old = written and written[key]
    if not old then
      local v = vals[i]
      if v then old = unpack8('<d', v) end
    end
    local t0 = now
    if old and old > now then t0 = old end
    local ntat = t0 + dp
    if ntat - now > cap then
      out[i] = 2 * (t0 - now)
    else
      out[i] = 2 * (ntat - now) + 1
      -- e, the end of the bucket of width cap holding ntat + cap, is the
      -- key's expiry; the old one, the end of old + cap's bucket, is at
      -- or after e exactly when old + cap > e - cap.
      local e = ntat + cap
      local m = e % cap
      if m ~= 0 then e = e - m + cap end
      if old and old > e - 2 * cap then
        call('SETRANGE', key, '0', pack('<d', ntat))
      else
        call('SET', key, pack('<d', ntat), 'PX', ceil((e - now) / 1000))
      end
      if written then written[key] = ntat end
    end
  end
  return out
end
local out = {}
local o = 0
local nargs = #ARGV
local base = tonumber(ARGV[1]) + 1 -- a request's code: spec index + base × cost
local specs = {}
local ai = 3
for s = 1, tonumber(ARGV[1]) do
  local nl = tonumber(ARGV[ai])
  local sp = {nl}
  for j = 1, nl do
    local b = ai + 3 * j - 2
    sp[3 * j - 1] = ARGV[b]
    sp[3 * j] = tonumber(ARGV[b + 1])
    sp[3 * j + 1] = tonumber(ARGV[b + 2])
  end
  specs[s] = sp
  ai = ai + 1 + 3 * nl
end
-- the end of x's bucket of width w: the first multiple of w at or after x
local function bucket(x, w)
  local m = fmod(x, w)
  if m == 0 then return x end
  return x - m + w
end
local function tat(v)
  if v then return (unpack8('<d', v)) end
  return nil
end
local written = {} -- GCRA keys written by this run: key -> TAT
-- set_tat stores a GCRA key's new TAT: in place when its expiry bucket
-- does not move (the TTL kept), else with the new bucket's expiry.
local function set_tat(key, old, ntat, cap)
  if old and bucket(old + cap, cap) >= ntat + cap then
    redis.call('SETRANGE', key, '0', pack('<d', ntat))
  else
    redis.call('SET', key, pack('<d', ntat), 'PX', ceil((bucket(ntat + cap, cap) - now) / 1000))
  end
  written[key] = ntat
end
-- gcra decides one GCRA limit; old is the stored TAT (or nil). It returns
-- whether the limit admits, and the new TAT.
local function gcra(key, old, cap, p, cost, commit)
  local t0 = old or 0
  if t0 < now then t0 = now end
  local ntat = t0 + cost * p
  if ntat - now > cap then
    out[o + 1] = 2 * (t0 - now)
    o = o + 1
    return false, ntat
  end
  out[o + 1] = 2 * (ntat - now) + 1
  o = o + 1
  if commit then set_tat(key, old, ntat, cap) end
  return true, ntat
end
local ok, rem, reset, retry, a, b, old
local function check(alg, key, lim, p, cost)
  if alg == 'g' then
    old = written[key] or tat(redis.call('GET', key))
    ok, a = gcra(key, old, lim * p, p, cost, false)
    return
  elseif alg == 'f' then
    local v = redis.call('HMGET', key, 'e', 'c')
    local e = tonumber(v[1])
    local c = tonumber(v[2]) or 0
    old = e
    if not e or now >= e then
      e = now - fmod(now, p) + p
      c = 0
    end
    reset = e - now
    if c + cost <= lim then
      ok, a, b, rem, retry = true, e, c + cost, lim - c - cost, 0
    else
      ok, rem, retry = false, lim - c, e - now
    end
  else
    local limit = now - p
    while true do
      local h = redis.call('LINDEX', key, 0)
      if h and tonumber(h) <= limit then redis.call('LPOP', key) else break end
    end
    local n = redis.call('LLEN', key)
    old = nil
    if n > 0 then old = tonumber(redis.call('LINDEX', key, -1)) end
    if n + cost <= lim then
      a = now
      if old and old > a then a = old end
      ok, rem, reset, retry = true, lim - n - cost, a + p - now, 0
    else
      ok, rem, reset = false, lim - n, old + p - now
      retry = tonumber(redis.call('LINDEX', key, n + cost - lim - 1)) + p - now
    end
  end
  if reset < 0 then reset = 0 end
  if rem < 0 then rem = 0 end
  out[o + 1] = ok and 1 or 0
  out[o + 2] = rem
  out[o + 3] = reset
  out[o + 4] = retry
  o = o + 4
end
-- commit writes the state check computed; old is what check read.
local function commit(alg, key, lim, p, cost, a, b, old)
  if alg == 'g' then
    set_tat(key, old, a, lim * p)
  elseif alg == 'f' then
    if old == a then
      redis.call('HINCRBY', key, 'c', cost)
    else
      redis.call('HSET', key, 'e', a, 'c', b)
      redis.call('PEXPIRE', key, ceil((a - now) / 1000))
    end
  else
    local args = {}
    for i = 1, cost do args[i] = a end
    redis.call('RPUSH', key, unpack(args))
    if not old or bucket(old + p, p) < a + p then
      redis.call('PEXPIRE', key, ceil((bucket(a + p, p) - now) / 1000))
    end
  end
end
local ki = 1
local pa, pb, po = {}, {}, {}
local ri = ai
while true do
  local r = uniform
  if r == 0 then
    if ri > nargs then break end
    r = tonumber(ARGV[ri])
    ri = ri + 1
  elseif ki > #KEYS then
    break
  end
  local sp = specs[fmod(r, base)]
  local cost = floor(r / base)
  local nl = sp[1]
  if nl == 1 then
    local alg, key, lim, p = sp[2], KEYS[ki], sp[3], sp[4]
    if alg == 'g' then
      gcra(key, written[key] or tat(redis.call('GET', key)), lim * p, p, cost, true)
    else
      check(alg, key, lim, p, cost)
      if ok then commit(alg, key, lim, p, cost, a, b, old) end
    end
  else
    local all = true
    for j = 1, nl do
      check(sp[3 * j - 1], KEYS[ki + j - 1], sp[3 * j], sp[3 * j + 1], cost)
      all = all and ok
      pa[j], pb[j], po[j] = a, b, old
    end
    if all then
      for j = 1, nl do
        commit(sp[3 * j - 1], KEYS[ki + j - 1], sp[3 * j], sp[3 * j + 1], cost, pa[j], pb[j], po[j])
      end
    end
  end
  ki = ki + nl
end
return out
`
