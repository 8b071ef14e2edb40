// Package jwks fetches a remote JSON Web Key Set (an identity provider's
// /.well-known/jwks.json) and serves it to a jwt.Verifier as a jwt.KeySet.
//
// The set is cached and refreshed in the background. A token naming an
// unknown kid (the provider rotated its keys) triggers at most one refresh
// per MinRefreshInterval, shared by all concurrent requests, so a flood of
// tokens with random kids costs one fetch, not one per request. A forced
// refresh (the background tick, Refresh) always fetches, sharing a fetch
// only with one already running. When the provider is unreachable or
// serves a broken document, the last good keys are kept (stale keys beat
// no keys) and the error is logged.
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

	"github.com/bulwark-go/bulwark/authn/jwt"
)

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
	// RefreshInterval is how often the set is fetched in the background.
	// Default 15 minutes.
	RefreshInterval time.Duration `json:"refresh_interval" yaml:"refresh_interval"`
	// MinRefreshInterval is the least time between two fetches caused by
	// an unknown kid. Default 1 minute.
	MinRefreshInterval time.Duration `json:"min_refresh_interval" yaml:"min_refresh_interval"`
	// Timeout bounds one fetch. Default 5 seconds.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// MaxBytes bounds the document. Default 1 MiB.
	MaxBytes int64 `json:"max_bytes" yaml:"max_bytes"`
	// Client makes the requests. Default: a client with Timeout. Whatever
	// the client, redirects are followed only to the same host, at most 3,
	// and never from https to http (a plain-http original is allowed only
	// for a loopback address, and may then be redirected to https).
	Client *http.Client `json:"-" yaml:"-"`
	// Logger receives fetch failures. Default slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
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
	now     func() time.Time
	state   atomic.Pointer[snapshot]
	gen     atomic.Uint64
	mu      sync.Mutex // guards lastTry, cur and skipSig
	lastTry time.Time  // when the last fetch started
	cur     *call      // the fetch in progress, nil when none
	skipSig string     // the skip list last logged

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

// New validates opts, fetches the set once (a failure is logged, not
// returned: the set retries in the background and on unknown kids) and
// starts the background refresh.
func New(opts Options) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("jwks: invalid URL %s", redactURL(opts.URL))
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("jwks: the JWKS URL must use https (got %s); keys fetched over plain HTTP can be replaced in transit", u.Scheme)
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = 15 * time.Minute
	}
	if opts.MinRefreshInterval == 0 {
		opts.MinRefreshInterval = time.Minute
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 1 << 20
	}
	if opts.RefreshInterval < time.Second || opts.MinRefreshInterval < 0 || opts.Timeout < 0 || opts.MaxBytes < 0 {
		return nil, errors.New("jwks: intervals, timeout and size must be positive (RefreshInterval at least 1s)")
	}
	r := &Remote{
		url: opts.URL, safeURL: redactURL(opts.URL), opts: opts,
		client: opts.Client, log: opts.Logger, now: opts.Now,
		stop: make(chan struct{}), done: make(chan struct{}),
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
	if r.now == nil {
		r.now = time.Now
	}
	r.state.Store(&snapshot{})
	if err := r.Refresh(context.Background()); err != nil {
		r.log.Warn("jwks: initial fetch failed; retrying in the background", "url", r.safeURL, "error", err)
	}
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

func (r *Remote) loop() {
	defer close(r.done)
	t := time.NewTicker(r.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if err := r.Refresh(context.Background()); err != nil {
				r.log.Warn("jwks: refresh failed; keeping the last good keys", "url", r.safeURL, "error", err)
			}
		}
	}
}

// Close stops the background refresh and waits for it to end.
func (r *Remote) Close() {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}

// Refresh fetches the set now. Concurrent callers, and callers that arrive
// while another fetch is running, share one fetch. On failure the previous
// keys stay in place.
func (r *Remote) Refresh(ctx context.Context) error {
	return r.flight(ctx, true)
}

// flight joins the fetch in progress, or starts one. A forced flight
// (Refresh, the background tick) always starts one when none is running;
// an unforced one (an unknown kid) only when the last fetch started at
// least MinRefreshInterval ago, and otherwise returns nil at once. The
// decision and the join happen under one lock, so a forced caller can
// never be handed an unforced caller's decision not to fetch, and a flood
// of unknown kids never starts more than one fetch per interval.
func (r *Remote) flight(ctx context.Context, force bool) error {
	now := r.now() // read outside the lock: Options.Now is the caller's code
	r.mu.Lock()
	c := r.cur
	if c == nil {
		if !force && now.Sub(r.lastTry) < r.opts.MinRefreshInterval {
			r.mu.Unlock()
			return nil
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
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run performs the fetch of c, detached from any caller's context (a
// caller that gives up must not cancel the fetch the others wait for).
func (r *Remote) run(c *call) {
	fctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	c.err = r.fetch(fctx)
	cancel()
	r.mu.Lock()
	r.cur = nil
	r.mu.Unlock()
	close(c.done)
}

func (r *Remote) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetching %s: %w", r.safeURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: %s answered %d", r.safeURL, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxBytes+1))
	if err != nil {
		return fmt.Errorf("jwks: reading %s: %w", r.safeURL, err)
	}
	if int64(len(data)) > r.opts.MaxBytes {
		return fmt.Errorf("jwks: %s is larger than %d bytes", r.safeURL, r.opts.MaxBytes)
	}
	keys, skipped, err := jwt.ParseJWKSSkipped(data, jwt.JWKSOptions{DefaultAlg: r.opts.DefaultAlg})
	if err != nil {
		return err
	}
	r.logSkipped(skipped)
	if len(keys) == 0 {
		if len(skipped) > 0 {
			return fmt.Errorf("jwks: %s holds no usable signature key; skipped: %v", r.safeURL, skipped)
		}
		return fmt.Errorf("jwks: %s holds no usable signature key", r.safeURL)
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
	old := r.state.Swap(s)
	if old.sig != s.sig {
		r.gen.Add(1)
	}
	return nil
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

// Lookup implements jwt.KeySet. A kid that is not in the set triggers a
// refresh when the last one is older than MinRefreshInterval; lookups that
// miss while a refresh is running wait for it.
func (r *Remote) Lookup(ctx context.Context, kid, alg string) ([]*jwt.Key, error) {
	if ks := r.find(kid, alg); len(ks) > 0 {
		return ks, nil
	}
	if err := r.flight(ctx, false); err != nil {
		r.log.Warn("jwks: refresh for an unknown kid failed", "url", r.safeURL, "error", err)
		return nil, err
	}
	return r.find(kid, alg), nil
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

// Generation implements jwt.KeySet: it changes when the fetched keys do.
func (r *Remote) Generation() uint64 { return r.gen.Load() }

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
