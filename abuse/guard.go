package abuse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/respwriter"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Action is what a view does with a key over its threshold.
type Action string

const (
	// Block refuses every request of the key with a 403 problem (type
	// abuse-detected) while it is over the threshold, and audits each.
	Block Action = "block"
	// Flag lets the request pass and audits it (decision flag) when its key
	// crosses the threshold, then once per further distinct value (not per
	// request): a shadow mode, and the only safe action for a view whose
	// key an attacker can name for a victim (a card, an email, an account).
	Flag Action = "flag"
	// Alert audits once per window, when the key crosses the threshold:
	// for a route-wide rate (Global), where a flag per request is noise.
	Alert Action = "alert"
)

// Count says which attempts are counted.
type Count string

const (
	// CountAttempts counts every attempt, as the seed's card-testing
	// service does: the value is recorded before the handler runs.
	CountAttempts Count = "attempts"
	// CountFailures counts only attempts the handler reports as failed
	// (Report, or a response status Options.FailedStatus accepts): a
	// credential-stuffing detector counts failed logins, not the user's
	// own successful ones. The check before the handler still refuses a
	// key over the threshold and restarts its window.
	CountFailures Count = "failures"
)

// Outcome is what a handler reports of an attempt (Report).
type Outcome uint8

const (
	// Succeeded: the attempt worked (a login, a payment); nothing counts.
	Succeeded Outcome = iota + 1
	// Failed: the attempt failed (bad credentials, a declined card); it
	// counts under CountFailures.
	Failed
)

// MaxViews is the most views one guard evaluates (the primary one
// included).
const MaxViews = 8

// View is one distinct count over the guard's attempts: for every Key,
// the number of distinct Values within the window. The primary view is
// Options' own (Key, Fingerprint, Threshold, Action); Options.Views adds
// the many-address views: ClientPrefix per Card (one card from many
// networks), Card per JSONField("email") (many cards for one email), Card
// per Global (a route-wide rate).
type View struct {
	// Name labels the view in store keys and audit reasons
	// ("<guard>:<view>"). Required for extra views; letters, digits, '-'
	// and '_'.
	Name string `json:"name" yaml:"name"`
	// Key is whose attempts are counted. Required.
	Key Source `json:"-" yaml:"-"`
	// Value is what is counted distinct. Required.
	Value Source `json:"-" yaml:"-"`
	// Threshold is the number of distinct values a key may show; one more
	// triggers Action. Required, > 0.
	Threshold int `json:"threshold" yaml:"threshold"`
	// Action is Block, Flag or Alert. Default Flag for extra views: a view
	// keyed by something an attacker can name (a card, an email) must not
	// block, or it hands out lock-outs.
	Action Action `json:"action" yaml:"action"`
	// Window is the retention window. Default: the guard's.
	Window time.Duration `json:"window" yaml:"window"`
	// FixedWindow keeps the window from its first value instead of
	// restarting it with every attempt. A view's window is fixed when the
	// view or the guard says so.
	FixedWindow bool `json:"fixed_window" yaml:"fixed_window"`
	// Approximate counts with a HyperLogLog on Redis (0.81% standard
	// error, 12 KB per key at most) for very high cardinality, such as a
	// route-wide view. Default false: exact sets, bounded by Threshold+1
	// members per key (2×Threshold+1 for a Flag view).
	Approximate bool `json:"approximate" yaml:"approximate"`
}

// Options configure a Guard.
type Options struct {
	// Name identifies the guard in store keys and audit reasons, e.g.
	// "card-testing". Required; letters, digits, '-' and '_'.
	Name string `json:"name" yaml:"name"`
	// Store holds the counts: memstore for one process, redisstore to
	// share them across replicas. Required.
	Store store.DistinctCounter `json:"-" yaml:"-"`
	// Key is whose attempts the primary view counts. Default Client():
	// the client IP, IPv6 by /64.
	Key Source `json:"-" yaml:"-"`
	// Fingerprint is what the primary view counts distinct, e.g.
	// Card("card_number", "exp_month", "exp_year") or JSONField("username").
	// Required.
	Fingerprint Source `json:"-" yaml:"-"`
	// Threshold is the number of distinct fingerprints a key may show
	// within the window; one more triggers Action. Required, > 0.
	Threshold int `json:"threshold" yaml:"threshold"`
	// Window is the retention window. Default 1 hour.
	Window time.Duration `json:"window" yaml:"window"`
	// FixedWindow makes the window start at a key's first value and end
	// Window later. Default false: the seed's retention, restarted by every
	// attempt — blocked ones included — so a persistent attacker stays
	// blocked until Window passes in silence.
	FixedWindow bool `json:"fixed_window" yaml:"fixed_window"`
	// Action is Block (the default) or Flag (shadow mode).
	Action Action `json:"action" yaml:"action"`
	// Count is CountAttempts (the default) or CountFailures.
	Count Count `json:"count" yaml:"count"`
	// FailedStatus tells, under CountFailures, whether a response status
	// means the attempt failed when the handler did not Report. Default:
	// 401 or 402.
	FailedStatus func(status int) bool `json:"-" yaml:"-"`
	// Approximate counts the primary view with a HyperLogLog (see View).
	Approximate bool `json:"approximate" yaml:"approximate"`
	// Views are further counts over the same attempts (see View).
	Views []View `json:"views" yaml:"views"`
	// AllowPrefixes are client networks the guard never counts nor
	// refuses (a payment provider's callbacks, a test harness).
	AllowPrefixes []netip.Prefix `json:"allow_prefixes" yaml:"allow_prefixes"`
	// AllowPrincipals are authenticated callers (principal IDs) the guard
	// never counts nor refuses; meaningful after authentication.
	AllowPrincipals []string `json:"allow_principals" yaml:"allow_principals"`
	// Secret keys the HMAC of every key and value. Exactly one of Secret,
	// SecretEnv and SecretFile is required; at least 32 bytes, since the
	// values (last four digits × expiry) are few enough to brute-force
	// under a weak key. Rotating it restarts every count from zero (old
	// sets are no longer found, and expire after their window).
	Secret []byte `json:"-" yaml:"-"`
	// SecretEnv names an environment variable holding the secret.
	SecretEnv string `json:"secret_env" yaml:"secret_env"`
	// SecretFile names a file holding the secret (trailing newline
	// trimmed).
	SecretFile string `json:"secret_file" yaml:"secret_file"`
	// FailOpen lets requests through while the store cannot answer;
	// default false: 503 with Retry-After. Either way one audit event marks
	// the outage's start and one its end, not one per request.
	FailOpen bool `json:"fail_open" yaml:"fail_open"`
	// Detail is the client-facing detail of the 403. Default "too many
	// distinct attempts from this client; try again later".
	Detail string `json:"detail" yaml:"detail"`
	// Audit receives one event per block, flag, alert and outage
	// transition. Default: none.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes denials. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Guard is distinct-value velocity detection as middleware. Safe for
// concurrent use.
type Guard struct {
	name      string
	views     []view
	count     Count
	failed    func(int) bool
	allowNets []netip.Prefix
	allowIDs  map[string]struct{}
	secret    []byte
	st        store.DistinctCounter
	failOpen  bool
	detail    string
	needBody  []string // JSON members the sources read
	needForm  bool     // a source reads a urlencoded form field
	audit     audit.Sink
	deny      problem.Denier
	pool      sync.Pool
	cache     *keyCache // nil when no source may use it
	down      atomic.Bool
	downSince atomic.Int64
}

type view struct {
	View
	reason       string // audit reason
	prefix       string // store key prefix
	sliding      bool
	keyNeedsBody bool  // the key reads the body (JSON or form)
	cap          int64 // the set's cap (DistinctOp.Cap)
}

func validName(s string) bool {
	return s != "" && len(s) <= 64 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// New validates opts and returns a Guard.
func New(opts Options) (*Guard, error) {
	if !validName(opts.Name) {
		return nil, fmt.Errorf("abuse: Name %q must be 1-64 letters, digits, '-' or '_'", opts.Name)
	}
	if opts.Store == nil {
		return nil, errors.New("abuse: Store is required (memstore for one process, redisstore for many)")
	}
	secret, err := loadSecret(opts)
	if err != nil {
		return nil, err
	}
	if opts.Window < 0 {
		return nil, errors.New("abuse: Window must be positive (or zero for the default hour)")
	}
	if opts.Window == 0 {
		opts.Window = time.Hour
	}
	switch opts.Count {
	case "":
		opts.Count = CountAttempts
	case CountAttempts, CountFailures:
	default:
		return nil, fmt.Errorf("abuse: Count %q is not %q or %q", opts.Count, CountAttempts, CountFailures)
	}
	if opts.Action == "" {
		opts.Action = Block
	}
	if !opts.Key.valid() {
		opts.Key = Client()
	}
	if !opts.Fingerprint.valid() {
		return nil, errors.New("abuse: Fingerprint is required (e.g. abuse.Card(\"card_number\", \"exp_month\", \"exp_year\") or abuse.JSONField(\"username\"))")
	}
	g := &Guard{
		name: opts.Name, count: opts.Count, failed: opts.FailedStatus, secret: secret, st: opts.Store,
		failOpen: opts.FailOpen, detail: opts.Detail, audit: opts.Audit,
		allowNets: append([]netip.Prefix(nil), opts.AllowPrefixes...),
		deny:      problem.Denier{Guard: "abuse", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	if g.failed == nil {
		g.failed = func(s int) bool { return s == http.StatusUnauthorized || s == http.StatusPaymentRequired }
	}
	if g.detail == "" {
		g.detail = "too many distinct attempts from this client; try again later"
	}
	for i, p := range g.allowNets {
		if !p.IsValid() {
			return nil, fmt.Errorf("abuse: AllowPrefixes[%d] is not a valid prefix", i)
		}
		g.allowNets[i] = p.Masked()
	}
	if len(opts.AllowPrincipals) > 0 {
		g.allowIDs = make(map[string]struct{}, len(opts.AllowPrincipals))
		for _, id := range opts.AllowPrincipals {
			g.allowIDs[id] = struct{}{}
		}
	}
	all := append([]View{{Key: opts.Key, Value: opts.Fingerprint, Threshold: opts.Threshold, Action: opts.Action,
		Window: opts.Window, FixedWindow: opts.FixedWindow, Approximate: opts.Approximate}}, opts.Views...)
	if len(all) > MaxViews {
		return nil, fmt.Errorf("abuse: at most %d views per guard, the primary one included", MaxViews)
	}
	seen := map[string]bool{}
	for i, v := range all {
		where := "abuse: view " + v.Name
		if i == 0 {
			where = "abuse"
		} else {
			if !validName(v.Name) || seen[v.Name] {
				return nil, fmt.Errorf("abuse: Views[%d].Name %q must be unique letters, digits, '-' or '_'", i-1, v.Name)
			}
			seen[v.Name] = true
			if v.Action == "" {
				v.Action = Flag
			}
			if v.Window == 0 {
				v.Window = opts.Window
			}
			v.FixedWindow = v.FixedWindow || opts.FixedWindow
		}
		switch {
		case v.Threshold <= 0:
			return nil, fmt.Errorf("%s: Threshold must be positive", where)
		case !v.Key.valid() || !v.Value.valid():
			return nil, fmt.Errorf("%s: Key and Value are required", where)
		case v.Window <= 0:
			return nil, fmt.Errorf("%s: Window must be positive", where)
		case v.Action != Block && v.Action != Flag && v.Action != Alert:
			return nil, fmt.Errorf("%s: Action %q is not block, flag or alert", where, v.Action)
		}
		vw := view{View: v, reason: opts.Name, prefix: "abuse:" + opts.Name + ":", sliding: !v.FixedWindow,
			keyNeedsBody: len(v.Key.json) > 0 || len(v.Key.form) > 0, cap: int64(v.Threshold)}
		if v.Action == Flag {
			// A flag per distinct value past the threshold: the set keeps
			// up to 2×Threshold+1 members, so a key raises Threshold+1
			// flags per window at most.
			vw.cap = 2 * int64(v.Threshold)
		}
		if i > 0 {
			vw.reason = opts.Name + ":" + v.Name
			vw.prefix = "abuse:" + opts.Name + ":" + v.Name + ":"
		}
		g.views = append(g.views, vw)
		for _, f := range append(append([]string(nil), v.Key.json...), v.Value.json...) {
			if !contains(g.needBody, f) {
				g.needBody = append(g.needBody, f)
			}
		}
		g.needForm = g.needForm || len(v.Key.form) > 0 || len(v.Value.form) > 0
		if (v.Key.cache || v.Value.cache) && g.cache == nil {
			g.cache = newKeyCache()
		}
	}
	g.pool.New = func() any { return &scratch{mac: hmac.New(sha256.New, g.secret), arena: make([]byte, 0, 512)} }
	return g, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func loadSecret(o Options) ([]byte, error) {
	n := 0
	for _, set := range []bool{len(o.Secret) > 0, o.SecretEnv != "", o.SecretFile != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("abuse: set exactly one of Secret, SecretEnv and SecretFile (32+ random bytes, e.g. `openssl rand -base64 32`)")
	}
	var s []byte
	switch {
	case len(o.Secret) > 0:
		s = append([]byte(nil), o.Secret...)
	case o.SecretEnv != "":
		v, ok := os.LookupEnv(o.SecretEnv)
		if !ok {
			return nil, fmt.Errorf("abuse: the environment variable %s (SecretEnv) is not set", o.SecretEnv)
		}
		s = []byte(strings.TrimSpace(v))
	default:
		b, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("abuse: reading SecretFile: %w", err)
		}
		s = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	if len(s) < 32 {
		return nil, errors.New("abuse: the secret must be at least 32 random bytes (e.g. `openssl rand -base64 32`): fingerprints of low-entropy values are only safe under a strong key")
	}
	return s, nil
}

// scratch is one request's working memory, pooled: the HMAC, the raw
// values, the store keys and members, the ops.
type scratch struct {
	mac     hash.Hash
	digest  [sha256.Size]byte
	raw     []byte
	arena   []byte
	keys    [MaxViews]string
	members [MaxViews]string
	use     [MaxViews]bool
	ops     [MaxViews]store.DistinctOp
	idx     [MaxViews]uint8 // view index of each op
	in      input
}

func (g *Guard) get() *scratch { return g.pool.Get().(*scratch) }

func (g *Guard) put(sc *scratch) {
	clear(sc.in.vals) // keep no reference to the body
	sc.in.ok, sc.in.form = false, nil
	if cap(sc.arena) > 4096 {
		sc.arena = make([]byte, 0, 512)
	}
	g.pool.Put(sc)
}

// sum appends the hex HMAC (128 bits) of v to the arena and returns it as
// a string that aliases the arena (the store copies what it keeps).
func (sc *scratch) sum(prefix string, v []byte) string {
	sc.mac.Reset()
	sc.mac.Write(v)
	start := len(sc.arena)
	sc.arena = append(sc.arena, prefix...)
	s := sc.mac.Sum(sc.digest[:0]) // into sc: a local array would escape through the interface
	sc.arena = hex.AppendEncode(sc.arena, s[:16])
	b := sc.arena[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendHex appends prefix and a cached hex digest to the arena, returning
// them as a string that aliases it.
func (sc *scratch) appendHex(prefix string, hex []byte) string {
	start := len(sc.arena)
	sc.arena = append(sc.arena, prefix...)
	sc.arena = append(sc.arena, hex...)
	b := sc.arena[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// prepare reads the request's keys and values into sc. A problem means the
// body could not be read (over the cap, ambiguous, malformed): sc then
// holds, without values, the keys of the views whose key needs no body
// (the client, say), so that a blocked key is still refused (bodyless).
func (g *Guard) prepare(w http.ResponseWriter, r *http.Request, sc *scratch) *problem.Problem {
	sc.arena = sc.arena[:0]
	sc.in.reset(g.needBody)
	var bodyP *problem.Problem
	formRead := false
	if g.needForm { // an HTML form's body; anything else is left to Peek
		form, ok, p := bind.PeekForm(w, r)
		bodyP = p
		sc.in.form, formRead = form, ok
	}
	if len(g.needBody) > 0 && !formRead && bodyP == nil {
		data, ok, p := bind.Peek(w, r)
		bodyP = p
		if ok && p == nil {
			bodyP = sc.in.parse(data)
		}
	}
	if bodyP != nil {
		sc.in.reset(g.needBody) // read nothing of a body that was refused
	}
	for i := range g.views {
		v := &g.views[i]
		sc.use[i], sc.members[i] = false, ""
		if bodyP != nil && v.keyNeedsBody {
			continue
		}
		var ok bool
		if sc.raw, ok = v.Key.get(sc.raw[:0], r, &sc.in); !ok {
			continue
		}
		sc.keys[i] = g.hmacOf(sc, v.prefix, sc.raw, &v.Key)
		sc.use[i] = true
		if bodyP != nil {
			continue // no value: the view can only be touched
		}
		if sc.raw, ok = v.Value.get(sc.raw[:0], r, &sc.in); ok {
			sc.members[i] = g.hmacOf(sc, "", sc.raw, &v.Value)
		}
	}
	return bodyP
}

// bodyless answers a request whose body could not be read (bodyP): if a
// blocking view whose key needs no body (the client) is over its
// threshold, the 403 — its window restarted, as for every blocked
// attempt — else bodyP. A blocked client gains nothing, and does not
// escape the restart, by sending an unreadable body.
func (g *Guard) bodyless(r *http.Request, sc *scratch, bodyP *problem.Problem) *problem.Problem {
	if p := g.decide(r, sc, false); p != nil && p.Status == http.StatusForbidden {
		return p
	}
	return bodyP
}

// decide runs the views: with record, adding each value; without, only
// touching (reading the count, restarting a sliding window). It returns
// the problem to answer with, or nil to let the request pass.
func (g *Guard) decide(r *http.Request, sc *scratch, record bool) *problem.Problem {
	n := 0
	for i := range g.views {
		if !sc.use[i] {
			continue
		}
		v := &g.views[i]
		member := ""
		if record {
			member = sc.members[i]
		} else if v.Action != Block {
			continue // a touch of a view that cannot refuse tells nothing
		}
		sc.ops[n] = store.DistinctOp{Key: sc.keys[i], Member: member, TTL: v.Window, Sliding: v.sliding, Cap: v.cap, Approximate: v.Approximate}
		sc.idx[n] = uint8(i)
		n++
	}
	if n == 0 {
		return nil
	}
	if err := g.st.CountDistinct(r.Context(), sc.ops[:n]); err != nil {
		return g.unavailable(r, err)
	}
	g.recovered()
	var block *view
	for j := range n {
		op := &sc.ops[j]
		v := &g.views[sc.idx[j]]
		if op.Size <= int64(v.Threshold) {
			continue
		}
		switch v.Action {
		case Block:
			if block == nil {
				block = v
			}
		case Flag:
			// The crossing, then each further distinct value: not every
			// request of a key already flagged.
			if op.Added {
				g.flag(r, v, op)
			}
		case Alert:
			if op.Added && op.Size == int64(v.Threshold)+1 {
				g.flag(r, v, op)
			}
		}
	}
	if block != nil {
		return problem.Forbidden(problem.TypeAbuse, g.detail).WithReason(block.reason)
	}
	return nil
}

// flag audits a flag or an alert of view v: the distinct count, and the
// key's handle (KeyHandleLen hex characters of its HMAC, never the raw
// key), so that the events of one key can be told apart and followed.
func (g *Guard) flag(r *http.Request, v *view, op *store.DistinctOp) {
	if g.audit == nil {
		return
	}
	e := audit.FromRequest(r, "abuse", audit.Flag, v.reason)
	e.Attrs = append(e.Attrs, slog.Int64("distinct", op.Size), slog.Int("threshold", v.Threshold), slog.String("action", string(v.Action)),
		slog.String("key", keyHandle(op.Key, v.prefix)))
	g.audit.Record(r.Context(), e)
}

// KeyHandleLen is the length of the key handle in flag and alert events:
// the first 12 hex characters (48 bits) of the key's HMAC — enough to
// follow one key through the log, too short to stand for the key.
const KeyHandleLen = 12

// keyHandle copies the handle out of a store key (prefix + hex HMAC),
// which aliases pooled memory.
func keyHandle(key, prefix string) string {
	h := key[len(prefix):]
	if len(h) > KeyHandleLen {
		h = h[:KeyHandleLen]
	}
	return strings.Clone(h)
}

// unavailable handles a store error: one audit event when the outage
// begins; then, failing open, nil; failing closed, a 503.
func (g *Guard) unavailable(r *http.Request, err error) *problem.Problem {
	if g.down.CompareAndSwap(false, true) {
		g.downSince.Store(time.Now().UnixNano())
		if g.audit != nil {
			policy := OutageFailClosed
			if g.failOpen {
				policy = OutageFailOpen
			}
			e := audit.FromRequest(r, "abuse", audit.Flag, ReasonStoreUnavailable)
			e.Attrs = append(e.Attrs, slog.String("detector", g.name), slog.String("policy", policy), slog.String("error", err.Error()))
			g.audit.Record(r.Context(), e)
		}
	}
	if g.failOpen {
		return nil
	}
	return problem.Unavailable(5*time.Second, "abuse detection is temporarily unavailable").WithReason(ReasonStoreUnavailable).WithErr(err)
}

// recovered ends an outage: one audit event.
func (g *Guard) recovered() {
	if !g.down.Load() || !g.down.CompareAndSwap(true, false) {
		return
	}
	if g.audit != nil {
		g.audit.Record(context.Background(), &audit.Event{Time: time.Now(), Guard: "abuse", Decision: audit.Allow, Reason: ReasonStoreRecovered,
			Attrs: []slog.Attr{slog.String("detector", g.name), slog.Duration("outage", time.Duration(time.Now().UnixNano()-g.downSince.Load()))}})
	}
}

// Reasons of the outage events (guard "abuse").
const (
	// ReasonStoreUnavailable: the store stopped answering (a flag event,
	// once per outage) — and the reason of the 503 when failing closed.
	ReasonStoreUnavailable = "store_unavailable"
	// ReasonStoreRecovered: the store answers again (an allow event).
	ReasonStoreRecovered = "store_recovered"
)

// allowed reports whether r is on an allow list.
func (g *Guard) allowed(r *http.Request) bool {
	if len(g.allowNets) > 0 {
		if a, ok := clientAddr(r); ok {
			for _, p := range g.allowNets {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	if g.allowIDs != nil {
		if st := reqctx.From(r.Context()); st != nil && st.PrincipalID != "" {
			if _, ok := g.allowIDs[st.PrincipalID]; ok {
				return true
			}
		}
	}
	return false
}

// Check is the guard's decision: under CountAttempts it records r's values
// and returns the 403 problem when a blocking view is over its threshold;
// under CountFailures it only checks (and restarts the windows). Unlike
// other guards' checks it changes state — counting is the point, and a
// refused attempt restarts its window, the seed's deliberate exception to
// "a refused request changes no state". When the guard reads the JSON
// body, the returned request carries a body that replays it; Check writes
// nothing.
func (g *Guard) Check(r *http.Request) (*http.Request, *problem.Problem) {
	if g.allowed(r) {
		return r, nil
	}
	if len(g.needBody) > 0 || g.needForm {
		r2 := new(http.Request)
		*r2 = *r
		r = r2
	}
	sc := g.get()
	defer g.put(sc)
	if p := g.prepare(nil, r, sc); p != nil {
		return r, g.bodyless(r, sc, p)
	}
	return r, g.decide(r, sc, g.count == CountAttempts)
}

// Handler returns next guarded: a key over a blocking view's threshold is
// refused (403, or 503 when the store cannot answer and FailOpen is off);
// other requests pass, their values counted before next runs
// (CountAttempts) or after it, when it reports a failure (CountFailures).
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.allowed(r) {
			next.ServeHTTP(w, r)
			return
		}
		sc := g.get()
		p := g.prepare(w, r, sc)
		if p != nil {
			p = g.bodyless(r, sc, p)
		} else {
			p = g.decide(r, sc, g.count == CountAttempts)
		}
		if p != nil || g.count == CountAttempts {
			g.put(sc)
			if p != nil {
				g.deny.Deny(w, r, p)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		pd := &pending{g: g, sc: sc}
		pd.next, _ = r.Context().Value(pendingKey{}).(*pending)
		r = r.WithContext(context.WithValue(r.Context(), pendingKey{}, pd))
		rw := &respwriter.Writer{}
		rw.Reset(w)
		next.ServeHTTP(rw, r)
		if pd.done.CompareAndSwap(false, true) && g.failed(rw.StatusOrOK()) {
			// The response is out: if this failure crossed a blocking
			// threshold, the next attempt is refused.
			_ = g.decide(r, sc, true)
		}
		g.put(sc)
	})
}

type pendingKey struct{}

// pending is an attempt a CountFailures guard waits to hear about.
type pending struct {
	g    *Guard
	sc   *scratch
	done atomic.Bool
	next *pending // an outer guard's attempt
}

// Report tells the CountFailures guards around the handler how the attempt
// went, before the handler answers. A Failed attempt is counted now; if it
// puts a blocking view over its threshold, Report writes the refusal (403,
// or 503 when the store cannot answer and FailOpen is off; audited) to w
// and returns true: the handler then writes nothing more. The demo login:
//
//	if err != nil { // bad credentials
//		if abuse.Report(w, r, abuse.Failed) {
//			return // this failure crossed the threshold: 403, not 401
//		}
//		deny(w, r, badCredentials)
//		return
//	}
//
// Succeeded counts nothing (and writes nothing; w may be nil). Only the
// first report counts; without one, the guard reads the response status
// (Options.FailedStatus) after the handler. Outside such a guard Report
// does nothing.
func Report(w http.ResponseWriter, r *http.Request, o Outcome) (answered bool) {
	pd, _ := r.Context().Value(pendingKey{}).(*pending)
	for ; pd != nil; pd = pd.next {
		if !pd.done.CompareAndSwap(false, true) || o != Failed {
			continue
		}
		if p := pd.g.decide(r, pd.sc, true); p != nil && !answered {
			pd.g.deny.Deny(w, r, p)
			answered = true
		}
	}
	return answered
}

// Outage policies, as Description.Outage names them.
const (
	// OutageFailClosed: while the store cannot answer, 503 with
	// Retry-After (Options.FailOpen false, the default).
	OutageFailClosed = "fail_closed"
	// OutageFailOpen: while the store cannot answer, requests pass.
	OutageFailOpen = "fail_open"
)

// Description is a guard's effective configuration, for a configuration
// endpoint or a dashboard: never the secret, never a counted value.
type Description struct {
	// Name is Options.Name.
	Name string `json:"name"`
	// Count is CountAttempts or CountFailures.
	Count Count `json:"count"`
	// Outage is OutageFailClosed or OutageFailOpen: the policy of every
	// view, since the guard's views share one store round trip.
	Outage string `json:"outage"`
	// Views are the primary view, then Options.Views.
	Views []ViewDescription `json:"views"`
	// AllowPrefixes are the allow-listed client networks.
	AllowPrefixes []string `json:"allow_prefixes,omitempty"`
	// AllowPrincipals is how many principals are allow-listed (their IDs
	// are left out).
	AllowPrincipals int `json:"allow_principals,omitempty"`
}

// ViewDescription is one view of a Description.
type ViewDescription struct {
	// Name is the view's audit reason: the guard's name for the primary
	// view, "<guard>:<view>" for the others.
	Name string `json:"name"`
	// Key and Value name the view's sources (Source.String).
	Key   string `json:"key"`
	Value string `json:"value"`
	// Threshold, Action, Window, FixedWindow and Approximate are the
	// view's, defaults applied; Window in Go's duration text ("1h0m0s").
	Threshold   int    `json:"threshold"`
	Action      Action `json:"action"`
	Window      string `json:"window"`
	FixedWindow bool   `json:"fixed_window"`
	Approximate bool   `json:"approximate"`
}

// Describe returns g's effective configuration (secrets left out).
func (g *Guard) Describe() Description {
	d := Description{Name: g.name, Count: g.count, Outage: OutageFailClosed, AllowPrincipals: len(g.allowIDs)}
	if g.failOpen {
		d.Outage = OutageFailOpen
	}
	for _, p := range g.allowNets {
		d.AllowPrefixes = append(d.AllowPrefixes, p.String())
	}
	for _, v := range g.views {
		d.Views = append(d.Views, ViewDescription{
			Name: v.reason, Key: v.Key.String(), Value: v.Value.String(), Threshold: v.Threshold, Action: v.Action,
			Window: v.Window.String(), FixedWindow: !v.sliding, Approximate: v.Approximate,
		})
	}
	return d
}
