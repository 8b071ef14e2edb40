package redislimit

// script decides a batch of requests, each against one or more limits, in
// one atomic step on the Redis server, using the server's clock.
//
// ARGV is a sequence of requests: n (limits), cost, then n triples
// (algorithm, limit, parameter µs); KEYS holds every request's n keys in
// order. For each request every limit is checked first (phase 1, which
// changes nothing but dropping sliding-log entries that have left the
// window), and only if all admit it are they charged (phase 2). The reply
// holds four integers per limit: admitted (1/0), remaining, reset (µs) and
// retry-after (µs).
//
// Times are integers of microseconds since the Unix epoch (< 2^53, exact in
// Lua's doubles); numbers are written with string.format('%.0f') because
// Lua's default number format keeps only 14 significant digits.
//
// Algorithms: 'g' GCRA (token bucket): a string holding the theoretical
// arrival time, p = refill interval; 'f' fixed window: a hash {e = window
// end, c = count}, p = window; 's' sliding log: a list of admission times,
// oldest first, p = window.
const script = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local o = 0
local ki = 1
local ai = 1
local nargs = #ARGV
local function num(x) return string.format('%.0f', x) end
while ai <= nargs do
  local nl = tonumber(ARGV[ai])
  local cost = tonumber(ARGV[ai + 1])
  ai = ai + 2
  local all = true
  local plan = {}
  for j = 1, nl do
    local alg = ARGV[ai]
    local lim = tonumber(ARGV[ai + 1])
    local p = tonumber(ARGV[ai + 2])
    ai = ai + 3
    local key = KEYS[ki]
    ki = ki + 1
    local ok, rem, reset, retry, a, b
    if alg == 'g' then
      local cap = lim * p
      local t0 = tonumber(redis.call('GET', key)) or 0
      if t0 < now then t0 = now end
      local ntat = t0 + cost * p
      if ntat - now <= cap then
        ok = true
        a = ntat
        rem = math.floor((cap - (ntat - now)) / p)
        reset = ntat - now
        retry = 0
      else
        ok = false
        rem = math.floor((cap - (t0 - now)) / p)
        reset = t0 - now
        retry = ntat - now - cap
      end
    elseif alg == 'f' then
      local v = redis.call('HMGET', key, 'e', 'c')
      local e = tonumber(v[1])
      local c = tonumber(v[2]) or 0
      if not e or now >= e then
        e = now - math.fmod(now, p) + p
        c = 0
      end
      reset = e - now
      if c + cost <= lim then
        ok = true
        a = e
        b = c + cost
        rem = lim - b
        retry = 0
      else
        ok = false
        rem = lim - c
        retry = e - now
      end
    else
      local floor = now - p
      while true do
        local h = redis.call('LINDEX', key, 0)
        if h and tonumber(h) <= floor then redis.call('LPOP', key) else break end
      end
      local n = redis.call('LLEN', key)
      local last = nil
      if n > 0 then last = tonumber(redis.call('LINDEX', key, -1)) end
      if n + cost <= lim then
        ok = true
        a = now
        if last and last > a then a = last end
        rem = lim - n - cost
        reset = a + p - now
        retry = 0
      else
        ok = false
        rem = lim - n
        reset = last + p - now
        retry = tonumber(redis.call('LINDEX', key, n + cost - lim - 1)) + p - now
      end
    end
    if reset < 0 then reset = 0 end
    if rem < 0 then rem = 0 end
    all = all and ok
    plan[j] = {alg, key, a, b, p}
    out[o + 1] = ok and 1 or 0
    out[o + 2] = rem
    out[o + 3] = reset
    out[o + 4] = retry
    o = o + 4
  end
  if all then
    for j = 1, nl do
      local s = plan[j]
      local alg, key, a = s[1], s[2], s[3]
      if alg == 'g' then
        redis.call('SET', key, num(a), 'PX', num(math.ceil((a - now) / 1000)))
      elseif alg == 'f' then
        redis.call('HSET', key, 'e', num(a), 'c', num(s[4]))
        redis.call('PEXPIRE', key, num(math.ceil((a - now) / 1000)))
      else
        local ts = num(a)
        local args = {}
        for i = 1, cost do args[i] = ts end
        redis.call('RPUSH', key, unpack(args))
        redis.call('PEXPIRE', key, num(math.ceil((a + s[5] - now) / 1000)))
      end
    end
  end
end
return out
`
