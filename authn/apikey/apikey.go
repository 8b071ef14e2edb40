package apikey

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/internal/fastclock"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Defaults for Options.
const (
	DefaultHeader           = "X-API-Key"
	DefaultScheme           = "ApiKey"
	DefaultLastUsedInterval = time.Minute
)

// Off disables the X-API-Key header (Options.Header) or the Authorization
// scheme (Options.Scheme).
const Off = "-"

// Options configure an Authenticator. The zero value of every field but
// Store and Secrets is a sensible default.
type Options struct {
	// Store holds the key records. Required: a *Static (config or file)
	// or package rediskeys' Redis store.
	Store Store `json:"-" yaml:"-"`
	// Secrets are the HMAC secrets keys are hashed under, newest first,
	// each at least MinSecretLen bytes: the newest hashes new keys (the
	// CLI's job), every one verifies. Rotate by putting a new secret
	// first, reissuing the keys hashed under the old one, then dropping
	// it. Required.
	Secrets [][]byte `json:"-" yaml:"-"`
	// Prefixes are the prefixes of the keys in Bulwark's format that are
	// accepted. Default [DefaultPrefix] ("bwk_live_"). A test deployment
	// might accept only "bwk_test_".
	Prefixes []string `json:"prefixes,omitempty" yaml:"prefixes,omitempty"`
	// Legacy accepts keys that are not in Bulwark's format (no prefix, no
	// checksum), found by their hash in a LegacyStore: the migration path
	// for existing keys. Default false: such a key is refused
	// (apikey_unknown) without a lookup.
	Legacy bool `json:"legacy,omitempty" yaml:"legacy,omitempty"`
	// Header is the request header a key is read from. Default
	// "X-API-Key"; Off ("-") disables it.
	Header string `json:"header,omitempty" yaml:"header,omitempty"`
	// Scheme is the Authorization scheme a key is read from
	// ("Authorization: ApiKey <key>"). Default "ApiKey"; Off disables it.
	Scheme string `json:"scheme,omitempty" yaml:"scheme,omitempty"`
	// Cookie, when set, names a cookie a key is read from. Off by
	// default: browsers send cookies on cross-site requests, so unsafe
	// requests authenticated this way need CSRF protection (the principal
	// says SourceCookie).
	Cookie string `json:"cookie,omitempty" yaml:"cookie,omitempty"`
	// Query, when set, names a query parameter a key is read from. Off
	// by default: URLs leak into access logs, proxies, browser history and
	// Referer headers.
	Query string `json:"query,omitempty" yaml:"query,omitempty"`
	// LastUsedInterval is how often, at most, the authenticator reports a
	// key's use to a store that records it (Toucher), from a background
	// goroutine. Default 1 minute.
	LastUsedInterval time.Duration `json:"last_used_interval,omitempty" yaml:"last_used_interval,omitempty"`
	// Logger receives the rare failures of last-used writes. Default
	// slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Now is the clock for expiry and last-used times. Default: the
	// system clock read cheaply (a monotonic read added to a wall-clock
	// anchor refreshed every second, so a step of the system clock is
	// seen within a second; see the package doc).
	Now func() time.Time `json:"-" yaml:"-"`
}

// Authenticator authenticates requests by API key: an authn.Authenticator
// and authn.Challenger ("ApiKey realm=..."). Build it with New; it is
// safe for concurrent use. Close stops its last-used writer.
type Authenticator struct {
	store    Store
	pre      prefetcher  // store, when it takes hints; else nil
	legacy   LegacyStore // nil unless Options.Legacy
	hasher   *Hasher
	only     *secret // the secret when there is one, else nil
	prefixes []string
	sums     []uint32 // prefixSum of each of prefixes
	header   string   // canonical; "" when off
	scheme   string   // "" when off
	cookie   string
	query    string
	now      func() time.Time // Options.Now; nil: clock
	clock    fastclock.Clock

	touch    Toucher // nil when the store records no use
	interval int64   // seconds
	used     chan usedKey
	flushes  chan chan struct{}
	done     chan struct{}
	stopped  chan struct{}
	closing  sync.Once
	log      *slog.Logger
}

type usedKey struct {
	id string
	at int64 // Unix seconds
}

var (
	_ authn.Authenticator = (*Authenticator)(nil)
	_ authn.Challenger    = (*Authenticator)(nil)
)

// New validates opts and returns an Authenticator.
func New(opts Options) (*Authenticator, error) {
	if opts.Store == nil {
		return nil, errors.New("apikey: Options.Store is required (apikey.NewStatic / LoadStatic, or a Redis store from package rediskeys)")
	}
	h, err := NewHasher(opts.Secrets...)
	if err != nil {
		return nil, fmt.Errorf("%w (Options.Secrets)", err)
	}
	a := &Authenticator{store: opts.Store, hasher: h, now: opts.Now, log: opts.Logger}
	if len(h.secrets) == 1 {
		a.only = h.secrets[0]
	}
	a.pre, _ = opts.Store.(prefetcher)
	if a.log == nil {
		a.log = slog.Default()
	}
	a.prefixes = opts.Prefixes
	if len(a.prefixes) == 0 {
		a.prefixes = []string{DefaultPrefix}
	}
	for i, p := range a.prefixes {
		if err := ValidatePrefix(p); err != nil {
			return nil, err
		}
		for _, q := range a.prefixes[:i] {
			if len(q) <= len(p) && p[:len(q)] == q || len(p) <= len(q) && q[:len(p)] == p {
				return nil, fmt.Errorf("apikey: prefixes %q and %q overlap: one starts the other", q, p)
			}
		}
	}
	a.prefixes = append([]string(nil), a.prefixes...)
	for _, p := range a.prefixes {
		a.sums = append(a.sums, prefixSum(p))
	}
	if opts.Legacy {
		ls, ok := opts.Store.(LegacyStore)
		if !ok {
			return nil, fmt.Errorf("apikey: Options.Legacy needs a store that finds keys by hash (apikey.Static); %T does not", opts.Store)
		}
		a.legacy = ls
	}
	switch opts.Header {
	case Off:
	case "":
		a.header = textproto.CanonicalMIMEHeaderKey(DefaultHeader)
	default:
		if !validToken(opts.Header) {
			return nil, fmt.Errorf("apikey: Options.Header %q is not a valid header name", opts.Header)
		}
		a.header = textproto.CanonicalMIMEHeaderKey(opts.Header)
	}
	switch opts.Scheme {
	case Off:
	case "":
		a.scheme = DefaultScheme
	default:
		if !validToken(opts.Scheme) {
			return nil, fmt.Errorf("apikey: Options.Scheme %q is not a valid authentication scheme", opts.Scheme)
		}
		a.scheme = opts.Scheme
	}
	if a.header == "Authorization" {
		return nil, errors.New("apikey: Options.Header may not be Authorization; keys there use Options.Scheme (\"Authorization: ApiKey <key>\")")
	}
	if opts.Cookie != "" && !validToken(opts.Cookie) || opts.Query != "" && !validToken(opts.Query) {
		return nil, fmt.Errorf("apikey: invalid cookie (%q) or query parameter (%q) name", opts.Cookie, opts.Query)
	}
	a.cookie, a.query = opts.Cookie, opts.Query
	if a.header == "" && a.scheme == "" && a.cookie == "" && a.query == "" {
		return nil, errors.New("apikey: every key source is off; enable Header, Scheme, Cookie or Query")
	}
	if opts.LastUsedInterval < 0 {
		return nil, errors.New("apikey: Options.LastUsedInterval must not be negative (0: the default, 1 minute)")
	}
	iv := opts.LastUsedInterval
	if iv == 0 {
		iv = DefaultLastUsedInterval
	}
	a.interval = max(int64(iv/time.Second), 1)
	if t, ok := opts.Store.(Toucher); ok {
		a.touch = t
		a.used = make(chan usedKey, 4096)
		a.flushes = make(chan chan struct{})
		a.done = make(chan struct{})
		a.stopped = make(chan struct{})
		go a.writeUsed(iv)
	}
	return a, nil
}

// validToken reports whether s is an RFC 9110 token of at most 64 bytes.
func validToken(s string) bool {
	return len(s) <= 64 && httpsyntax.IsToken(s)
}

// Challenge implements authn.Challenger: `ApiKey realm="..."`.
func (a *Authenticator) Challenge(realm string) string {
	return problem.Challenge(DefaultScheme, realm)
}

// AuthorizationSchemes implements authn.AuthorizationReader: the
// Options.Scheme keys are read from ("ApiKey"), none when it is off.
func (a *Authenticator) AuthorizationSchemes() []string {
	if a.scheme == "" {
		return nil
	}
	return []string{a.scheme}
}

// Hasher returns the authenticator's hasher (its Options.Secrets).
func (a *Authenticator) Hasher() *Hasher { return a.hasher }

// Authenticate implements authn.Authenticator: the principal of a valid
// key, authn.ErrNoCredentials when the request carries none, otherwise a
// *problem.Problem — 401 for a bad key, 503 when the store cannot answer.
// For a hot key it allocates nothing.
func (a *Authenticator) Authenticate(r *http.Request) (*authn.Principal, error) {
	raw, src, perr := a.extract(r)
	if perr != nil {
		return nil, perr
	}
	if src == authn.SourceUnknown {
		return nil, authn.ErrNoCredentials
	}
	e, perr := a.verify(r.Context(), raw, src)
	if perr != nil {
		return nil, perr
	}
	return e.principals[src], nil
}

// Verify checks key (outside HTTP, e.g. for another protocol) and returns
// its entry, or the refusal. It applies the same rules as Authenticate.
func (a *Authenticator) Verify(ctx context.Context, key string) (*Entry, error) {
	e, p := a.verify(ctx, key, authn.SourceUnknown)
	if p != nil {
		return nil, p
	}
	return e, nil
}

// verify checks raw, which came from src (the principal the caller reads).
func (a *Authenticator) verify(ctx context.Context, raw string, src authn.CredentialSource) (*Entry, *problem.Problem) {
	if a.pre != nil {
		// Let the store start loading the key's slot while the format
		// and checksum are checked (a hint: a malformed key is refused
		// below all the same).
		for _, p := range a.prefixes {
			if len(raw) == len(p)+bodyLen && raw[:len(p)] == p {
				a.pre.Prefetch(raw[len(p) : len(p)+IDLen])
				break
			}
		}
	}
	pk, err := parse(raw, a.prefixes, a.sums)
	var e *Entry
	switch {
	case err == nil:
		var digest [sha256.Size]byte // stays on the stack: sum is not an interface call
		e, err = a.store.Lookup(ctx, pk.ID)
		if err != nil {
			return nil, unavailable(err)
		}
		if e == nil {
			return nil, refuse(reasonUnknown, nil)
		}
		// Among many keys the entry is likely not in the CPU's cache:
		// start loading the fields the check reads, and compute the HMAC
		// meanwhile. With one secret the HMAC needs nothing from the
		// entry; with several, its secret ID picks the secret.
		e.prefetch(src)
		s := a.only
		if s == nil {
			if s = a.hasher.secretBySID(e.sid); s == nil {
				if e.legacy {
					return nil, refuse(reasonUnknown, nil)
				}
				return nil, refuse(reasonUnknown, errRetiredSecret)
			}
		}
		s.sum(pk.Key, &digest)
		if e.legacy {
			return nil, refuse(reasonUnknown, nil)
		}
		if e.sid != s.sid {
			return nil, refuse(reasonUnknown, errRetiredSecret)
		}
		if subtle.ConstantTimeCompare(digest[:], e.digest[:]) != 1 {
			return nil, refuse(reasonUnknown, nil)
		}
	case errors.Is(err, ErrNotFormatted) && a.legacy != nil:
		digest := new([sha256.Size]byte) // handed to the store
		for _, s := range a.hasher.secrets {
			s.sum(pk.Key, digest)
			if e, err = a.legacy.LookupDigest(ctx, s.id, digest); err != nil {
				return nil, unavailable(err)
			}
			if e != nil {
				break
			}
		}
		// The digest is the lookup key itself: a match is the check
		// (an HMAC that an attacker cannot compute).
		if e == nil || !e.legacy {
			return nil, refuse(reasonUnknown, nil)
		}
	case errors.Is(err, ErrNotFormatted):
		return nil, refuse(reasonUnknown, err)
	case errors.Is(err, ErrTooLong):
		return nil, refuse(reasonTooLong, err)
	case errors.Is(err, ErrChecksum):
		return nil, refuse(reasonChecksum, err)
	default:
		return nil, refuse(reasonMalformed, err)
	}
	if e.revoked {
		return nil, refuse(reasonRevoked, nil)
	}
	if e.expires == 0 && a.touch == nil {
		return e, nil // no clock needed
	}
	now := a.nowNano()
	if e.expires != 0 && now >= e.expires {
		return nil, refuse(reasonExpired, nil)
	}
	if a.touch != nil {
		a.used1(e, now/int64(time.Second))
	}
	return e, nil
}

// nowNano reads the clock in Unix nanoseconds.
func (a *Authenticator) nowNano() int64 {
	if a.now != nil {
		return a.now().UnixNano()
	}
	return a.clock.UnixNano()
}

var errRetiredSecret = errors.New("apikey: the key's hash names a secret that is no longer configured")

// used1 reports e's use to the background writer at most once per
// interval: one atomic load on the hot path, a compare-and-swap and a
// channel send once a minute. A full queue drops the report (the next
// use after the interval retries).
func (a *Authenticator) used1(e *Entry, now int64) {
	last := e.touched.Load()
	if now-last < a.interval || !e.touched.CompareAndSwap(last, now) {
		return
	}
	select {
	case a.used <- usedKey{e.rec.ID, now}:
	default:
	}
}

// writeUsed batches last-used reports and writes them every interval.
func (a *Authenticator) writeUsed(interval time.Duration) {
	defer close(a.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	batch := map[string]time.Time{}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.touch.Touch(ctx, batch); err != nil {
			a.log.Warn("apikey: recording last-used times failed", "keys", len(batch), "error", err.Error())
		}
		cancel()
		batch = map[string]time.Time{}
	}
	drain := func() {
		for {
			select {
			case u := <-a.used:
				batch[u.id] = time.Unix(u.at, 0).UTC()
			default:
				return
			}
		}
	}
	for {
		select {
		case u := <-a.used:
			batch[u.id] = time.Unix(u.at, 0).UTC()
		case <-t.C:
			flush()
		case ack := <-a.flushes:
			drain()
			flush()
			close(ack)
		case <-a.done:
			drain()
			flush()
			return
		}
	}
}

// Flush writes the pending last-used reports now and returns when they
// are written (or the writer has stopped).
func (a *Authenticator) Flush() {
	if a.touch == nil {
		return
	}
	ack := make(chan struct{})
	select {
	case a.flushes <- ack:
		<-ack
	case <-a.stopped:
	}
}

// Close writes the pending last-used reports and stops the background
// writer; authentication keeps working, without last-used reports.
// Idempotent.
func (a *Authenticator) Close() error {
	if a.touch == nil {
		return nil
	}
	a.closing.Do(func() { close(a.done) })
	<-a.stopped
	return nil
}

func unavailable(err error) *problem.Problem {
	reason := "apikey_store_unavailable"
	if !errors.Is(err, store.ErrUnavailable) {
		reason = "apikey_store_error"
	}
	return problem.Unavailable(time.Second, "API keys cannot be checked right now; try again shortly").
		WithReason(reason).WithErr(err)
}
