// Package jwks fetches a remote JSON Web Key Set (an identity provider's
// /.well-known/jwks.json) and serves it to a jwt.Verifier as a jwt.KeySet.
//
// The set is cached and refreshed in the background. A token naming an
// unknown kid (the provider rotated its keys) triggers at most one refresh
// per MinRefreshInterval, shared by all concurrent requests through
// singleflight, so a flood of tokens with random kids costs one fetch, not
// one per request. When the provider is unreachable or serves a broken
// document, the last good keys are kept (stale keys beat no keys) and the
// error is logged.
//
// Keys named by the token itself (jku, x5u, jwk headers) are never
// fetched: the Verifier refuses such tokens. Only the URL configured here
// is trusted, and it must be HTTPS (or a loopback address, for tests and
// sidecars). Symmetric (oct) keys in a fetched document are refused.
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

	"golang.org/x/sync/singleflight"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

// Options configure a Remote key set. The zero value of every field but
// URL is a sensible default.
type Options struct {
	// URL of the JWKS document. Required; https:// unless the host is a
	// loopback address.
	URL string `json:"url" yaml:"url"`
	// DefaultAlg is used for keys without an "alg" member (some providers
	// omit it on RSA keys), e.g. "RS256". Default: such keys are skipped
	// unless their curve implies the algorithm.
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
	// Client makes the requests. Default: a client that follows no
	// redirects to other hosts and has Timeout.
	Client *http.Client `json:"-" yaml:"-"`
	// Logger receives fetch failures. Default slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Remote is a jwt.KeySet backed by a remote JWKS. Create it with New and
// stop its background refresh with Close.
type Remote struct {
	url      string
	safeURL  string
	opts     Options
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	sf       singleflight.Group
	state    atomic.Pointer[snapshot]
	gen      atomic.Uint64
	mu       sync.Mutex // guards lastTry
	lastTry  time.Time
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

type snapshot struct {
	byID      map[string][]*jwt.Key
	anonymous map[string][]*jwt.Key
	byAlg     map[string][]*jwt.Key
	keys      []*jwt.Key
	fetched   time.Time
	sig       string // identity of the key set, to detect changes
}

var _ jwt.KeySet = (*Remote)(nil)

// New validates opts, fetches the set once (a failure is logged, not
// returned: the set retries in the background and on unknown kids) and
// starts the background refresh.
func New(opts Options) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("jwks: invalid URL %s", jwt.RedactURL(opts.URL))
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
		url: opts.URL, safeURL: jwt.RedactURL(opts.URL), opts: opts,
		client: opts.Client, log: opts.Logger, now: opts.Now,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if r.client == nil {
		host := u.Host
		r.client = &http.Client{
			Timeout: opts.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Host != host || len(via) > 3 {
					return errors.New("jwks: redirect to another host refused")
				}
				return nil
			},
		}
	}
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

// Refresh fetches the set now (concurrent callers share one fetch). On
// failure the previous keys stay in place.
func (r *Remote) Refresh(ctx context.Context) error {
	return r.flight(ctx, true)
}

// flight runs one fetch shared by every concurrent caller (singleflight).
// Unless forced, it fetches only when the last attempt is older than
// MinRefreshInterval, so callers that arrive while a fetch is running wait
// for its result, and callers after it are rate-limited.
func (r *Remote) flight(ctx context.Context, force bool) error {
	ch := r.sf.DoChan("fetch", func() (any, error) {
		r.mu.Lock()
		now := r.now()
		if !force && now.Sub(r.lastTry) < r.opts.MinRefreshInterval {
			r.mu.Unlock()
			return nil, nil
		}
		r.lastTry = now
		r.mu.Unlock()
		fctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
		defer cancel()
		return nil, r.fetch(fctx)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
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
	keys, err := jwt.ParseJWKS(data, jwt.JWKSOptions{DefaultAlg: r.opts.DefaultAlg})
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("jwks: %s holds no usable signature key", r.safeURL)
	}
	s := &snapshot{byID: map[string][]*jwt.Key{}, anonymous: map[string][]*jwt.Key{}, byAlg: map[string][]*jwt.Key{}, fetched: r.now()}
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
