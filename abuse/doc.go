// Package abuse detects distinct-value velocity: one client trying many
// different values of something that honest clients rarely vary.
//
// The card-testing service of the bottle post is the model: a fraudster
// tries hundreds of cards from one throw-away IP, while an honest customer
// retries one or two. Per client IP, count the distinct cards (a hash of
// the last four digits and the expiry); the same card again does not
// count; over the threshold every transaction from that IP is refused;
// data is kept for an hour and the hour restarts with every attempt, so a
// persistent attacker stays blocked.
//
//	g, err := abuse.New(abuse.Options{
//		Name:        "card-testing",
//		Store:       st, // memstore or redisstore
//		Fingerprint: abuse.Card("card_number", "exp_month", "exp_year"),
//		Threshold:   3, // the 4th distinct card blocks
//		SecretEnv:   "ABUSE_SECRET",
//	})
//	policy := bulwark.Policy{Abuse: g.Handler /* step 5 */}
//
// # Where it runs
//
// At step 5 of the request path (bulwark.Policy.Abuse) for keys known
// before authentication: the client (Client, grouped as the rate limits
// group it: IPv6 by /64), a header, a member of the JSON body. After
// authentication (Policy.PostAuthAbuse) for Principal or APIKey keys.
// Sources that read the body (JSONField, Card) read it once, under the body
// cap (a bodylimit guard's, else 1 MiB; 413 past it), and replay it for the
// handler (bind.Peek).
//
// # Retention, and a deliberate exception
//
// By default the window restarts with every attempt — refused ones
// included. That is a deliberate exception to the rule that a refused
// request changes no state: a blocked attacker who keeps trying must stay
// blocked until the window passes in silence, as in the seed. A refused
// attempt only restarts the window; it adds nothing (a set stops growing
// past Threshold+1 members, which also bounds its size). FixedWindow makes
// the window run from a key's first value instead.
//
// An attempt whose body cannot be read (a duplicate member: 400; over the
// cap: 413) is still checked against the views whose key needs no body
// (Client, say): a blocked client gets its 403, and the attempt restarts
// its window; otherwise the body's problem is the answer and nothing is
// counted. An unreadable body is no way out of a block.
//
// # Counting attempts or failures
//
// CountAttempts (the seed) records the value before the handler runs.
// CountFailures records it only when the handler reports a failure: a
// credential-stuffing detector counts failed logins, so that an office of
// users behind one address logging in successfully never trips it. The
// handler reports with Report before it answers, which also lets the
// failure that crosses the threshold answer 403 rather than 401 — the demo
// login:
//
//	if err != nil { // bad credentials
//		if abuse.Report(w, r, abuse.Failed) {
//			return // the guard answered 403
//		}
//		deny(w, r, badCredentials) // 401
//		return
//	}
//
// A handler that does not report is judged by its response status
// (Options.FailedStatus; default 401 or 402).
//
// # Attackers with many addresses
//
// Card testers rotate IPs. Views (Options.Views) count other pairs over the
// same attempts, in the same round trip: ClientPrefix(24, 64) per Card (one
// card tried from many networks), Card per JSONField("email") or per
// Principal (many cards for one account), Card per Global (a route-wide
// distinct-card rate, with Action Alert: one audit event per window when it
// crosses, counted in bulwark_security_events_total by the metrics sink).
//
// Which views block: only those keyed by the attacker's own resources —
// the client, its network, its principal or API key. A view keyed by a
// card, an email or an account must Flag (the default for views): anyone
// can name a victim's card or account, and a block would lock the victim
// out. Flags and alerts are audit events (decision flag, reason
// "<guard>:<view>", attributes distinct, threshold, action and key: the
// key's handle, the first 12 hex characters of its HMAC — never the raw
// key — so that the events of one card or one email can be followed
// without naming it); blocks are 403 problems of type abuse-detected
// (reason Options.Name), each audited once.
//
// A flag view is not noisy: it flags when a key crosses its threshold and
// then once per further distinct value (the 5th, 6th … card of an email),
// never again for a request that adds nothing new. Its set keeps up to
// 2×Threshold+1 values, so one key raises at most Threshold+1 flags per
// window. An alert view audits once per window, at the crossing.
//
// # Secrets and privacy
//
// Every key and every counted value is an HMAC-SHA256 (128 bits kept)
// under Options.Secret (or SecretEnv, SecretFile): the guard's own store
// keys and set members are HMACs, so card digits, usernames, emails and
// addresses are never stored by the guard nor sent to Redis by it, and
// its events name a key only by its handle. The audit event itself
// carries the client IP (client_ip), like every guard's event
// (audit.FromRequest): the log knows who was refused. Other guards keep
// their own keys — the rate limiter's store keys hold raw client IPs —
// so this says nothing of the whole process's state. Rotating
// the secret changes every key and value, so every count restarts from
// zero (old sets expire after their window): rotate between attack waves,
// or accept a window in which a blocked client is released.
//
// The client's HMAC is cached: each guard keeps a bounded table (16,384
// direct-mapped slots, under 1.5 MiB when full) of recent raw client
// values — the key of Client, ClientPrefix and Global — with their
// digests, so a returning client costs one HMAC (its card's) instead of
// two. The raw value is compared on every hit, so a shared slot only costs
// a recomputation. The table holds client addresses in process memory,
// which the process already sees on every connection; it is never stored,
// sent or logged. Card numbers, usernames, emails, API keys, principals
// and any Func or Header value are HMAC'd on every request and never
// cached (one value's HMAC must not depend on who sent it, and secrets
// must not linger). A hit is about an HMAC faster than a miss: whether a
// client was seen recently is not secret from the client itself.
//
// # Stores
//
// The store must implement store.DistinctCounter. memstore counts exactly,
// bounded like every memory store here (MaxKeys sets, evicting the least
// recently used; each set capped at Threshold+1 members, 2×Threshold+1
// for a flag view). redisstore runs
// one Lua script per view (SCARD, SADD unless over the cap, PEXPIRE), so
// the count and the TTL restart are one atomic step; the views of one
// request are pipelined in one round trip, and each view's state is one key,
// hence one Cluster slot. View.Approximate keeps a HyperLogLog instead
// (PFADD, PFCOUNT; 12 KB at most per key, a standard error of 0.81%) for
// very high cardinality such as a route-wide view.
//
// When the store cannot answer, FailOpen decides: refuse with 503 (the
// default) or let requests through. Either way one audit event marks the
// outage's start (store_unavailable) and one its end (store_recovered).
//
// # Detector
//
// Detector (NewDetector) is the older hand-called mechanism (Fingerprint,
// Observe, Exceeded, Deny, Flag, Unavailable), kept for handlers that
// need to drive the counting themselves.
package abuse
