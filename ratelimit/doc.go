// Package ratelimit limits how often clients may call an HTTP API: exact
// algorithms, keys that say what they count by, bounded in-process state,
// and — through package ratelimit/redislimit — one shared limit across
// every replica of a service.
//
//	login, err := ratelimit.New(ratelimit.Options{
//		Limits: []ratelimit.Limit{
//			ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP()),
//		},
//		Audit: sink,
//	})
//	mux.Handle("POST /api/login", login.Handler(loginHandler))
//
// A refused request gets 429 Too Many Requests: an RFC 9457 problem (type
// https://bulwark.dev/problems/rate-limited, reason "rate_limited") with
// Retry-After, written through problem.Denier (one audit event, the
// ErrorHandler hook); the problem names the binding limit in its "policy"
// member and repeats Retry-After, in seconds, in "retry_after". Responses
// carry the IETF RateLimit-Policy and RateLimit headers of
// draft-ietf-httpapi-ratelimit-headers:
//
//	RateLimit-Policy: "login";q=5;w=300
//	RateLimit: "login";r=0;t=294
//
// q is the quota (Limit), w the window in seconds, r the units remaining,
// t the seconds until the quota is full again; optionally also the legacy
// X-RateLimit-Limit, -Remaining and -Reset (seconds from now). Both headers
// are lists: nested limiters (a login limit inside a site-wide bucket) each
// add their members, so a response describes every limit it passed.
// (*Limiter).Check is the guard's decision and Decide the figures behind
// it: both charge the limits and write nothing; (*Limiter).Allow / AllowN
// decide for keys outside HTTP.
//
// # Algorithms and their accuracy
//
// Each algorithm is exact: it admits precisely what its definition says,
// under any concurrency, in memory and in Redis alike (the two share one
// step-by-step test suite) — as long as a key's state is kept, which in
// memory MaxKeys bounds (see below). What differs is the definition:
//
//   - TokenBucket(capacity, refillPerSecond): a bucket of capacity tokens,
//     refilled continuously; a request of cost n takes n tokens. Over any
//     interval of length d at most capacity + d×rate units pass. It is
//     implemented as GCRA (below): the same decisions, from one timestamp
//     of state, in integer arithmetic — no floating-point drift, no refill
//     loop.
//   - GCRA(rate, per, burst): the generic cell rate algorithm: a sustained
//     rate with bursts of up to burst units; the same bound as the token
//     bucket with capacity burst. State: one timestamp (the theoretical
//     arrival time) per key. The refill interval (Window/Limit) is rounded
//     to the nanosecond in memory and to the microsecond in Redis.
//   - SlidingWindow(limit, window): at most limit units in any interval
//     (t−window, t] — exact, not the two-window weighted estimate: the
//     state is a log of the last limit admission times, 8 bytes each, so
//     Limit is capped at MaxSlidingLimit (1,000), and in memory
//     Options.MaxMemory bounds Limit × MaxKeys (see below). A unit admitted
//     at t0 leaves the window at exactly t0+window. Use GCRA for large
//     limits.
//   - FixedWindow(limit, window): at most limit units per window, windows
//     aligned to the Unix epoch (so replicas agree where they start). The
//     cheapest, but not a sliding bound: up to 2×limit units can pass
//     within a short time around a window boundary (limit just before it,
//     limit just after).
//
// Retry-After is exact too: the time until the same request would be
// admitted (for a sliding window, until enough old admissions leave it).
// A clock that steps backwards (NTP) never yields negative usage or a free
// burst: the state just looks fuller until the clock catches up.
//
// # Several limits, weighted requests
//
// A Limiter holds up to 8 limits, e.g. a burst limit and a daily limit,
// or one per IP and one per principal, each with its own Key. A request is
// admitted only if every limit admits it, and a refusal by one consumes
// none of the others: all are checked, then all are charged, atomically
// (holding the keys' slot locks in memory, in one script in Redis). The decision
// (and the RateLimit header) describes the binding limit. Options.Cost
// weighs requests; a request costing more than a limit's Limit is never
// admitted: it gets 413 Content Too Large (type
// https://bulwark.dev/problems/cost-exceeds-limit, reason
// "cost_exceeds_limit", members "policy" and "limit"), with no Retry-After
// and no RateLimit member, since no wait makes it fit.
//
// # Keys
//
// Every limit says what it counts by, and New refuses a limit without a
// Key: ByIP (the client IP that package clientip resolved, IPv6 grouped by
// /64), ByPrincipal (the authenticated caller, else the IP), ByAPIKey (a
// SHA-256 of the key), ByHeader, ByRoute, ByFunc, Global (every request
// together), or a Compose of them. A request whose key cannot be derived
// (no IP, no such header, a ByFunc returning false) is counted in one
// shared bucket per limit, never exempted, so omitting a header cannot
// dodge a limit. Keys are built without allocating; values that are long
// or hold bytes outside printable ASCII are replaced by a SHA-256 digest,
// as API keys always are.
//
// # State in memory
//
// The default store keeps each limit's state in a sharded open-addressing
// hash table over flat []int64 slots. A decision on a known key takes no
// shard-wide lock: it finds the key's slot with atomic loads and locks that
// slot alone (a bit in its first word), so decisions contend only when
// they concern the same key, and allocate nothing. Keys are stored only as
// seeded hashes (maphash, a random seed per process; 63 bits kept): memory
// per key does not depend on the key's length, and no client identifier is
// kept.
// MaxKeys (default 100,000) bounds the keys per limit. A new key that
// finds its limit full — MaxKeys keys in all, or its shard holding its share
// of them (MaxKeys divided among the shards, plus a quarter for an uneven
// spread) — first evicts one key of its shard. Of up to 16 keys scanned from
// a rotating position, it evicts the first whose state has expired: it
// holds no units (a full bucket, an ended window, a log whose every entry
// has left the window), so forgetting it changes no decision. Failing
// that, of the first 8 of them, it evicts the one holding the fewest units:
// for the token bucket and GCRA the one whose bucket is full again soonest,
// for the windows the one with the fewest units counted in its window. Its
// loss admits the least: a key over its limit holds many units, so flooding
// the table with new keys does not buy a limited client a fresh quota while
// lighter keys remain. Keys in use by a decision at that instant are passed
// over; when all of the shard's keys are, the new key waits for one to be
// released. This holds for any MaxKeys, however small, under any number of
// concurrent clients. Nothing runs in the background; there is nothing to
// close.
//
// Memory per tracked key, with the table full — the slack of power-of-two
// tables, of uneven shards and of Go's allocation sizes included — for a
// MaxKeys of 10,000 or more and any GOMAXPROCS: at most 58 bytes for the
// token bucket and GCRA, 84 for the fixed window, and 110 + 12×Limit for
// the sliding window, whatever the key. At the default MaxKeys of 100,000 a
// token bucket takes at most 5.8 MB (TestMemoryBound sends 1,000,000
// distinct keys through it and measures about 26 bytes per key on 2 CPUs).
// New refuses limits whose state could outgrow Options.MaxMemory (default
// 256 MiB) by these figures, and says how to fit: a sliding window of 1,000
// over 100,000 keys (1.1 GiB) is refused, with GCRA or TokenBucket, a lower
// MaxKeys or a larger MaxMemory as the ways out. Hashes keep 63 bits (one
// is the slot's lock), so a collision, which makes two keys share a limit,
// happens among 100,000 keys with probability about 5.4·10⁻¹⁰ (n²/2⁶⁴);
// without the seed it cannot be aimed.
//
// # State in Redis
//
// With a redislimit.Store (Redis 6.2 or later), every replica shares each
// limit. A decision is one atomic script run using the Redis server's
// clock; concurrent decisions are coalesced and pipelined; keys are Redis
// Cluster safe. Options.Outage says what happens when Redis cannot answer
// within its timeout: FallbackLocal (the default: an in-process limiter of
// the same limits; each replica then admits up to Limit on its own, so N
// replicas may admit up to N×Limit during the outage), FailOpen, or
// FailClosed (503 with Retry-After). A request whose client gives up first
// (its context cancelled or past its deadline) is no outage: nothing is
// decided, no policy applies, and Handler answers 499
// (StatusClientClosedRequest) with no body. See package redislimit.
//
// An outage is never silent, and never one log line per request: every
// Store error is counted (StoreHealth), and each change is one audit event
// (Options.Audit; without a sink, a log line on slog.Default()) — the
// Store starting to fail, with the policy that decides from then on
// (ratelimit_fallback_local, ratelimit_fail_open, ratelimit_fail_closed),
// a summary at most once a minute while it keeps failing, and its
// recovery after a second without errors (ratelimit_recovered). Errors
// now and then (a timeout under load) within a second of each other are
// one outage. metrics.Sink counts these events.
//
// # Choosing an outage policy
//
// Choose by what the limit protects (the policy applies only with a Store;
// in-process state has no outage):
//
//   - FailClosed for limits that stand between a guesser and a secret:
//     login, password reset, one-time and second-factor codes, sign-up or
//     message sending. An attempt the limit cannot count must not be made:
//     under FallbackLocal every replica, and every decision that times
//     out, hands a client that has used its quota a fresh local one (a
//     login limit of 5 admitted up to 10 under a burst that slowed Redis),
//     and under FailOpen there is no quota at all. The price is a 503 with
//     Retry-After for honest users while Redis is down or slower than its
//     timeout: keep the timeout above Redis's latency under load, and the
//     CPU the protected path takes bounded (a password.Verifier for
//     argon2id), so that a busy moment is not an outage.
//   - FallbackLocal (the default) for fairness and capacity limits: an
//     API's per-client bucket, a flood guard before authentication. Each
//     replica keeps enforcing the limit on its own, so an outage costs at
//     most N × Limit over N replicas, never availability.
//   - FailOpen where any refusal costs more than the excess, and something
//     else bounds the load (a cheap endpoint behind a site-wide bucket):
//     no limit while the outage lasts.
//
// A Limiter has one policy for all of its limits: give a security-critical
// limit a Limiter of its own, nested inside the others (the demo's login
// limit fails closed inside its per-address bucket, which falls back).
package ratelimit
