// Package jwks fetches a remote JSON Web Key Set (an identity provider's
// /.well-known/jwks.json) and serves it to a jwt.Verifier as a jwt.KeySet.
//
// # Refresh
//
// The set is cached and refreshed in the background, every
// RefreshInterval (15 minutes), or sooner when the response's
// Cache-Control max-age says so: max-age (less the response's Age) sets
// the period, bounded by MinRefreshInterval below and RefreshInterval
// above. A max-age cannot lengthen the period beyond RefreshInterval,
// because RefreshInterval is also how long a key the provider withdraws
// may keep verifying. A response that forbids caching (no-store,
// no-cache, max-age=0) cannot be honoured, since the set would be fetched
// for every token, and reads as no guidance; so does a response without
// max-age.
//
// A token naming a kid the set does not hold (the provider rotated its
// keys) triggers a refetch, shared by every lookup that arrives while it
// runs (each waits at most Timeout), when none started in the last
// MinRefreshInterval (5 seconds). Within that interval the token is
// refused at once as naming an unknown key, without waiting. So a newly
// published key verifies within MinRefreshInterval of its publication,
// whoever caused the last fetch, and a flood of tokens with random kids
// costs at most one fetch per MinRefreshInterval: 12 a minute by default,
// however many requests. A forced refresh (Refresh, and the background
// schedule) always fetches, sharing a fetch only with one already
// running.
//
// # Outages
//
// When the provider is unreachable or serves a broken document, the last
// good keys are kept (stale keys beat no keys) for at most MaxStaleness
// (24 hours) after the last successful fetch, and the background retries
// after MinRefreshInterval, doubling up to a minute. Past MaxStaleness the
// keys are dropped: a key the provider revoked during the outage stops
// verifying. With no keys (dropped, or never fetched), and for a token
// naming an unknown kid while fetches fail, Lookup answers a 503 problem
// with Retry-After and the reason "jwks_unavailable", which the Verifier
// returns as it is: the set cannot tell whether the token is good.
//
// Each change of health is one event on Options.Audit (guard "jwks",
// decision flag, outside any request), written by default to the logger
// as one line: jwks_stale (fetches fail, the last good keys are served),
// jwks_unavailable (no key is held: the first fetch failed, or the stale
// keys were dropped after MaxStaleness) and jwks_recovered (a fetch
// succeeded again). Give Audit a metrics.Sink to count them. Status
// reports the health, for a status or configuration page.
//
// # Keys
//
// Keys that cannot be used are skipped, not fatal: encryption keys, unknown
// curves, and RSA keys without an "alg" member unless DefaultAlg is set
// (Microsoft Entra and other providers omit it). Each change in what is
// skipped is logged with the reasons, and Skipped reports the current list;
// a document in which no usable key remains is refused.
//
// Keys named by the token itself (jku, x5u, jwk headers) are never
// fetched: the Verifier refuses such tokens. Only the URL configured here
// is trusted, and it must be HTTPS (or a loopback address, for tests and
// sidecars); redirects are followed only to the same host and never from
// https to http. Symmetric (oct) signing keys in a fetched document are
// refused.
package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/problem"
)

// Defaults of the Options fields.
const (
	// DefaultRefreshInterval is Options.RefreshInterval's default.
	DefaultRefreshInterval = 15 * time.Minute
	// DefaultMinRefreshInterval is Options.MinRefreshInterval's default.
	DefaultMinRefreshInterval = 5 * time.Second
	// DefaultMaxStaleness is Options.MaxStaleness's default.
	DefaultMaxStaleness = 24 * time.Hour
	// DefaultTimeout is Options.Timeout's default.
	DefaultTimeout = 5 * time.Second
)

// ErrUnavailable is the cause (problem.Err) of the 503 Lookup answers
// when it cannot tell whether a token's key is good; test with errors.Is.
var ErrUnavailable = errors.New("jwks: the key set cannot be fetched")

// Options configure a Remote key set. The zero value of every field but
// URL is a sensible default.
type Options struct {
	// URL of the JWKS document. Required; https:// unless the host is a
	// loopback address.
	URL string `json:"url" yaml:"url"`
	// DefaultAlg is used for RSA keys without an "alg" member (some
	// providers, Microsoft Entra among them, omit it), e.g. "RS256".
	// Default: such keys are skipped, and the skip is logged (EC and
	// Ed25519 keys imply their algorithm).
	DefaultAlg string `json:"default_alg" yaml:"default_alg"`
	// RefreshInterval is how often the set is fetched in the background
	// when the response gives no Cache-Control max-age, and the longest
	// period a max-age may set: a key the provider withdraws stops
	// verifying within RefreshInterval. Default 15 minutes; at least 1s.
	RefreshInterval time.Duration `json:"refresh_interval" yaml:"refresh_interval"`
	// MinRefreshInterval is the least time between the start of one fetch
	// and the start of a fetch caused by an unknown kid: the longest a
	// newly published key can be refused, and the bound on fetches under
	// a flood of random kids (60s / MinRefreshInterval a minute). It also
	// bounds a max-age from below and is the first retry delay after a
	// failure. Default 5 seconds; at most RefreshInterval.
	MinRefreshInterval time.Duration `json:"min_refresh_interval" yaml:"min_refresh_interval"`
	// MaxStaleness is how long after the last successful fetch the keys
	// are still served while fetches fail. Past it they are dropped, and
	// tokens are refused with 503 until a fetch succeeds, so that revoking
	// a key at the provider takes effect during an outage too. Negative:
	// never dropped (revoked keys then stay valid for as long as the
	// provider is unreachable). Default 24 hours; longer than
	// RefreshInterval.
	MaxStaleness time.Duration `json:"max_staleness" yaml:"max_staleness"`
	// Timeout bounds one fetch, and so the wait of a lookup for a refetch.
	// Default 5 seconds.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// MaxBytes bounds the document. Default 1 MiB.
	MaxBytes int64 `json:"max_bytes" yaml:"max_bytes"`
	// Client makes the requests. Default: a client with Timeout. Whatever
	// the client, redirects are followed only to the same host, at most 3,
	// and never from https to http (a plain-http original is allowed only
	// for a loopback address, and may then be redirected to https).
	Client *http.Client `json:"-" yaml:"-"`
	// Logger receives skipped keys and, at Debug level, each failed fetch.
	// Default slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Audit receives one event per change of health (jwks_stale,
	// jwks_unavailable, jwks_recovered; see the package doc). Default:
	// audit.NewSlog(Logger), so that each change is one log line even when
	// nothing is configured; a sink set here replaces that line (chain
	// audit.NewSlog into it to keep it, and metrics.Sink to count).
	Audit audit.Sink `json:"-" yaml:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Remote is a jwt.KeySet backed by a remote JWKS. Create it with New and
// stop its background refresh with Close.
type Remote struct {
	url     string
	safeURL string
	opts    Options
	client  *http.Client
	log     *slog.Logger
	audit   audit.Sink
	now     func() time.Time
	state   atomic.Pointer[snapshot]
	gen     atomic.Uint64
	dropAt  atomic.Int64 // when stale keys are dropped, UnixNano on Now's clock; 0: no drop pending

	mu       sync.Mutex   // guards what follows
	lastTry  time.Time    // when the last fetch started
	cur      *call        // the fetch in progress, nil when none
	skipSig  string       // the skip list last logged
	h        health       // how fetches have been going
	pending  []transition // health changes not yet reported
	fetchAt  time.Time    // the next background fetch, on the monotonic clock
	dropWake time.Time    // when the background checks the drop, monotonic; zero: none

	emitMu   sync.Mutex    // orders the reports of health changes
	kick     chan struct{} // wakes the background to reschedule
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

type snapshot struct {
	byID      map[string][]*jwt.Key
	anonymous map[string][]*jwt.Key
	byAlg     map[string][]*jwt.Key
	keys      []*jwt.Key
	skipped   []jwt.SkippedKey
	fetched   time.Time
	sig       string // identity of the key set, to detect changes
}

// call is one fetch, shared by the callers that arrive while it runs.
type call struct {
	done chan struct{} // closed when the fetch ended
	err  error         // its result, set before done is closed
}

var _ jwt.KeySet = (*Remote)(nil)

// New validates opts, fetches the set once (a failure is reported as the
// jwks_unavailable event, not returned: the set retries in the background
// and on lookups) and starts the background refresh.
func New(opts Options) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("jwks: invalid URL %s", redactURL(opts.URL))
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("jwks: the JWKS URL must use https (got %s); keys fetched over plain HTTP can be replaced in transit", u.Scheme)
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.MinRefreshInterval == 0 {
		opts.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if opts.MaxStaleness == 0 {
		opts.MaxStaleness = DefaultMaxStaleness
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 1 << 20
	}
	switch {
	case opts.RefreshInterval < time.Second || opts.MinRefreshInterval < 0 || opts.Timeout < 0 || opts.MaxBytes < 0:
		return nil, errors.New("jwks: intervals, timeout and size must be positive (RefreshInterval at least 1s)")
	case opts.MinRefreshInterval > opts.RefreshInterval:
		return nil, fmt.Errorf("jwks: MinRefreshInterval (%v) is longer than RefreshInterval (%v); lower it, or raise RefreshInterval", opts.MinRefreshInterval, opts.RefreshInterval)
	case opts.MaxStaleness > 0 && opts.MaxStaleness <= opts.RefreshInterval:
		return nil, fmt.Errorf("jwks: MaxStaleness (%v) must be longer than RefreshInterval (%v), or the keys would be dropped at the first failed refresh; raise it, or set it negative to never drop them", opts.MaxStaleness, opts.RefreshInterval)
	}
	r := &Remote{
		url: opts.URL, safeURL: redactURL(opts.URL), opts: opts,
		client: opts.Client, log: opts.Logger, audit: opts.Audit, now: opts.Now,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: opts.Timeout}
	} else {
		c := *r.client // the caller's client, with our redirect policy on top
		r.client = &c
	}
	r.client.CheckRedirect = redirectPolicy(u, r.client.CheckRedirect)
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.audit == nil {
		r.audit = audit.NewSlog(r.log)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.state.Store(&snapshot{})
	_ = r.Refresh(context.Background()) // a failure is reported as jwks_unavailable
	go r.loop()
	return r, nil
}

// redirectPolicy refuses redirects to another host (or port), more than 3
// of them, and any that would leave https: the scheme may only stay the
// same or go from http (allowed for loopback originals) to https. then, when
// set, is the caller's own policy, consulted after ours.
func redirectPolicy(orig *url.URL, then func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	host := orig.Host
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 3 {
			return errors.New("jwks: more than 3 redirects refused")
		}
		if req.URL.Host != host {
			return errors.New("jwks: redirect to another host refused")
		}
		switch prev := via[len(via)-1].URL.Scheme; {
		case req.URL.Scheme == "https":
		case req.URL.Scheme == "http" && prev == "http" && orig.Scheme == "http" && isLoopback(req.URL.Hostname()):
		default:
			return fmt.Errorf("jwks: redirect from %s to %s refused: keys fetched over plain HTTP can be replaced in transit", prev, req.URL.Scheme)
		}
		if then != nil {
			return then(req, via)
		}
		return nil
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loop runs the background schedule: a fetch when one is due, and the
// drop of stale keys at MaxStaleness even when no lookup comes to notice
// it. Every fetch and drop reschedules it (kick). Its timers run on the
// monotonic clock; the instants they aim at were computed from Now's.
func (r *Remote) loop() {
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-r.stop; cancel() }()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		r.mu.Lock()
		next := r.fetchAt
		if !r.dropWake.IsZero() && r.dropWake.Before(next) {
			next = r.dropWake
		}
		r.mu.Unlock()
		t.Reset(time.Until(next))
		select {
		case <-r.stop:
			return
		case <-r.kick:
			continue
		case <-t.C:
		}
		now := time.Now()
		r.mu.Lock()
		dropDue := !r.dropWake.IsZero() && !now.Before(r.dropWake)
		if dropDue {
			r.dropWake = time.Time{}
		}
		fetchDue := !now.Before(r.fetchAt)
		r.mu.Unlock()
		if dropDue {
			r.expireIfDue()
		}
		if fetchDue {
			_, _ = r.flight(ctx, true) // the outcome is in the health; a change is reported
		}
	}
}

// wake asks the background to reschedule.
func (r *Remote) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close stops the background refresh and waits for it to end.
func (r *Remote) Close() {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}

// Refresh fetches the set now. Concurrent callers, and callers that arrive
// while another fetch is running, share one fetch. On failure the previous
// keys stay in place (until MaxStaleness).
func (r *Remote) Refresh(ctx context.Context) error {
	_, err := r.flight(ctx, true)
	return err
}

// flight joins the fetch in progress, or starts one, and reports whether
// a fetch was waited for. A forced flight (Refresh, the background) always
// starts one when none is running; an unforced one (an unknown kid) only
// when the last fetch started at least MinRefreshInterval ago, and
// otherwise returns (false, nil) at once. The decision and the join happen
// under one lock, so a forced caller can never be handed an unforced
// caller's decision not to fetch, and a flood of unknown kids never starts
// more than one fetch per interval.
func (r *Remote) flight(ctx context.Context, force bool) (bool, error) {
	now := r.now() // read outside the lock: Options.Now is the caller's code
	r.mu.Lock()
	c := r.cur
	if c == nil {
		if !force && now.Sub(r.lastTry) < r.opts.MinRefreshInterval {
			r.mu.Unlock()
			return false, nil
		}
		if now.After(r.lastTry) {
			r.lastTry = now
		}
		c = &call{done: make(chan struct{})}
		r.cur = c
		go r.run(c)
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return true, c.err
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// run performs the fetch of c, detached from any caller's context (a
// caller that gives up must not cancel the fetch the others wait for),
// and records its outcome before releasing the callers: a caller that
// returns from Refresh sees the new keys, health and events.
func (r *Remote) run(c *call) {
	fctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	s, fresh, err := r.fetch(fctx)
	cancel()
	now := r.now()
	r.mu.Lock()
	r.cur = nil
	if err == nil {
		r.succeeded(s, fresh, now)
	} else {
		r.failed(err, now)
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Debug("jwks: fetch failed", "url", r.safeURL, "error", err)
	}
	r.report()
	r.expireIfDue() // a failure past MaxStaleness drops the keys at once
	c.err = err
	close(c.done)
	r.wake()
}

// fetch gets and parses the document; it changes nothing but the log of
// skipped keys.
func (r *Remote) fetch(ctx context.Context) (*snapshot, freshness, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, freshness{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL, query string included
		}
		return nil, freshness{}, fmt.Errorf("jwks: fetching %s: %w", r.safeURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, freshness{}, fmt.Errorf("jwks: %s answered %d", r.safeURL, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxBytes+1))
	if err != nil {
		return nil, freshness{}, fmt.Errorf("jwks: reading %s: %w", r.safeURL, err)
	}
	if int64(len(data)) > r.opts.MaxBytes {
		return nil, freshness{}, fmt.Errorf("jwks: %s is larger than %d bytes", r.safeURL, r.opts.MaxBytes)
	}
	keys, skipped, err := jwt.ParseJWKSSkipped(data, jwt.JWKSOptions{DefaultAlg: r.opts.DefaultAlg})
	if err != nil {
		return nil, freshness{}, err
	}
	r.logSkipped(skipped)
	if len(keys) == 0 {
		if len(skipped) > 0 {
			return nil, freshness{}, fmt.Errorf("jwks: %s holds no usable signature key; skipped: %v", r.safeURL, skipped)
		}
		return nil, freshness{}, fmt.Errorf("jwks: %s holds no usable signature key", r.safeURL)
	}
	s := &snapshot{byID: map[string][]*jwt.Key{}, anonymous: map[string][]*jwt.Key{}, byAlg: map[string][]*jwt.Key{}, skipped: skipped, fetched: r.now()}
	var sig strings.Builder
	for _, k := range keys {
		k = k.WithSource("jwks:" + r.safeURL)
		if k.ID() != "" {
			s.byID[k.ID()] = []*jwt.Key{k}
		} else {
			s.anonymous[k.Alg()] = append(s.anonymous[k.Alg()], k)
		}
		s.byAlg[k.Alg()] = append(s.byAlg[k.Alg()], k)
		s.keys = append(s.keys, k)
		sig.WriteString(k.ID() + "|" + k.Alg() + "|" + k.Thumbprint() + ";")
	}
	s.sig = sig.String()
	return s, parseFreshness(resp.Header), nil
}

// logSkipped logs the keys a fetch skipped, once per change of the list,
// so that a provider omitting "alg" is visible without a line every
// RefreshInterval.
func (r *Remote) logSkipped(skipped []jwt.SkippedKey) {
	sig := fmt.Sprint(skipped)
	r.mu.Lock()
	changed := sig != r.skipSig
	r.skipSig = sig
	r.mu.Unlock()
	if changed && len(skipped) > 0 {
		reasons := make([]string, len(skipped))
		for i, k := range skipped {
			reasons[i] = k.String()
		}
		r.log.Warn("jwks: keys skipped (set DefaultAlg for RSA keys without \"alg\")", "url", r.safeURL, "skipped", len(skipped), "reasons", reasons)
	}
}

// Skipped returns the keys the last successful fetch left out, and why.
func (r *Remote) Skipped() []jwt.SkippedKey {
	return append([]jwt.SkippedKey(nil), r.state.Load().skipped...)
}

// Lookup implements jwt.KeySet. A kid that is not in the set waits for a
// refetch when one is running or none started in the last
// MinRefreshInterval, and is otherwise a miss at once. When the set holds
// no keys, or fetches are failing and the kid is not among the last good
// keys, the answer is a 503 problem (reason jwks_unavailable, cause
// ErrUnavailable) with Retry-After: whether the token is good cannot be
// told.
func (r *Remote) Lookup(ctx context.Context, kid, alg string) ([]*jwt.Key, error) {
	r.expireIfDue()
	if ks := r.find(kid, alg); len(ks) > 0 {
		return ks, nil
	}
	fetched, err := r.flight(ctx, false)
	if ks := r.find(kid, alg); len(ks) > 0 {
		return ks, nil
	}
	if fetched && err == nil {
		return nil, nil // the provider does not publish this kid
	}
	if err != nil && ctx.Err() != nil {
		return nil, err // the caller gave up waiting
	}
	r.mu.Lock()
	st, lastErr, retry := r.h.state, r.h.lastErr, r.lastTry.Add(r.opts.MinRefreshInterval)
	r.mu.Unlock()
	if err == nil && st == StateFresh {
		return nil, nil // fetched less than MinRefreshInterval ago: an unknown key
	}
	if err == nil {
		err = lastErr
	}
	return nil, problem.Unavailable(max(retry.Sub(r.now()), time.Second), "the token's signing keys cannot be fetched right now").
		WithReason("jwks_unavailable").WithErr(fmt.Errorf("%w: %w", ErrUnavailable, err))
}

func (r *Remote) find(kid, alg string) []*jwt.Key {
	s := r.state.Load()
	if kid == "" {
		return s.byAlg[alg]
	}
	if ks := s.byID[kid]; ks != nil {
		return ks
	}
	return s.anonymous[alg]
}

// Generation implements jwt.KeySet: it changes when the fetched keys do,
// and when stale keys are dropped (so that a Verifier's cache forgets the
// tokens they verified).
func (r *Remote) Generation() uint64 {
	r.expireIfDue()
	return r.gen.Load()
}

// Keys returns the current keys.
func (r *Remote) Keys() []*jwt.Key { return append([]*jwt.Key(nil), r.state.Load().keys...) }

// Describe returns the current keys' descriptions.
func (r *Remote) Describe() []jwt.KeyDescription {
	s := r.state.Load()
	out := make([]jwt.KeyDescription, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.Describe()
	}
	return out
}

// DescribeSource returns the URL without credentials.
func (r *Remote) DescribeSource() string { return r.safeURL }

// redactURL returns u with any password and query string removed, for
// descriptions and logs.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "[unparseable URL]"
	}
	if p.User != nil {
		p.User = url.User(p.User.Username())
	}
	if p.RawQuery != "" {
		p.RawQuery = "[redacted]"
	}
	return p.String()
}
