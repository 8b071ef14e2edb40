package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// Problem types of upstream failures.
const (
	TypeUpstreamUnavailable = problem.BaseURI + "upstream-unavailable"
	TypeUpstreamTimeout     = problem.BaseURI + "upstream-timeout"
)

// Upstream defaults.
const (
	DefaultConnectTimeout        = 5 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultUpstreamIdleTimeout   = 90 * time.Second
	DefaultMaxIdleConnsPerHost   = 256
	DefaultUnhealthyFor          = 10 * time.Second
)

// pool is an upstream: its URLs in round-robin, each skipped for a while
// after a failure (passive health).
type pool struct {
	name         string
	targets      []*target
	next         atomic.Uint64
	unhealthyFor time.Duration
	preserveHost bool
	tel          *Telemetry
	transport    http.RoundTripper // every target's, through retryTransport
}

type target struct {
	url       *url.URL
	downUntil atomic.Int64 // unix nanoseconds
}

func (p *pool) urls() []string {
	out := make([]string, len(p.targets))
	for i, t := range p.targets {
		out[i] = t.url.String()
	}
	return out
}

// pick returns the next healthy target, or, when every one is marked
// down, the next one anyway: a request is never refused without trying.
func (p *pool) pick() *target { return p.targets[p.pickIndex()] }

// pickIndex is pick's index in p.targets.
func (p *pool) pickIndex() int {
	n := uint64(len(p.targets))
	start := p.next.Add(1)
	if n == 1 {
		return 0
	}
	now := time.Now().UnixNano()
	for i := uint64(0); i < n; i++ {
		j := (start + i) % n
		if p.targets[j].downUntil.Load() <= now {
			return int(j)
		}
	}
	return int(start % n)
}

func newPool(name string, u Upstream, tel *Telemetry) (*pool, error) {
	if len(u.URLs) == 0 {
		return nil, errors.New("urls: at least one is required")
	}
	tr, err := newTransport(u)
	if err != nil {
		return nil, err
	}
	p := &pool{name: name, unhealthyFor: u.UnhealthyFor, preserveHost: u.PreserveHost, tel: tel}
	p.transport = &retryTransport{pool: p, base: tr}
	if p.unhealthyFor == 0 {
		p.unhealthyFor = DefaultUnhealthyFor
	}
	for _, s := range u.URLs {
		pu, err := url.Parse(s)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
			return nil, fmt.Errorf("url %q: want http(s)://host[:port][/path], without credentials, query or fragment", s)
		}
		t := &target{url: pu}
		tel.health.WithLabelValues(name, pu.String()).Set(1)
		p.targets = append(p.targets, t)
	}
	return p, nil
}

// proxiesFor returns f's reverse proxies, one per target of p, in
// p.targets' order: each knows its forwarder and target, so that no
// request carries them in its context.
func (p *pool) proxiesFor(f *forwarder) []*httputil.ReverseProxy {
	out := make([]*httputil.ReverseProxy, len(p.targets))
	for i, t := range p.targets {
		out[i] = &httputil.ReverseProxy{
			Transport:      p.transport,
			BufferPool:     bufferPool{},
			ErrorHandler:   p.errorHandler(t),
			Rewrite:        func(pr *httputil.ProxyRequest) { f.rewrite(pr, t) },
			ModifyResponse: f.modifyResponse,
		}
	}
	return out
}

// newTransport is the tuned transport of one upstream.
func newTransport(u Upstream) (*http.Transport, error) {
	connect := orDefault(u.ConnectTimeout, DefaultConnectTimeout)
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                  nil, // never through an environment proxy
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    u.MaxIdleConnsPerHost,
		IdleConnTimeout:        orDefault(u.IdleTimeout, DefaultUpstreamIdleTimeout),
		TLSHandshakeTimeout:    connect,
		ResponseHeaderTimeout:  orDefault(u.ResponseHeaderTimeout, DefaultResponseHeaderTimeout),
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		WriteBufferSize:        16 << 10,
		ReadBufferSize:         16 << 10,
	}
	if tr.MaxIdleConnsPerHost == 0 {
		tr.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if u.TLS != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.TLS.ServerName}
		if u.TLS.CAFile != "" {
			pem, err := os.ReadFile(u.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("tls.ca_file: %w", err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", u.TLS.CAFile)
			}
			tc.RootCAs = roots
		}
		if (u.TLS.CertFile == "") != (u.TLS.KeyFile == "") {
			return nil, errors.New("tls: cert_file and key_file go together")
		}
		if u.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(u.TLS.CertFile, u.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("tls client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = tc
	}
	return tr, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// errorHandler answers a failed round trip: 504 for a timeout, 502
// otherwise, as problems; the target is skipped for a while after a
// connection failure or a timeout. A failure of the client's side — its
// body over the route's limit (413), or cut short (400) — is the client's:
// it counts no upstream error and marks no upstream down. A client that
// went away gets nothing.
func (p *pool) errorHandler(t *target) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			w.WriteHeader(ratelimit.StatusClientClosedRequest)
			return
		}
		if body, _ := r.Context().Value(fwdKey{}).(*bodyWatch); body != nil {
			if berr := body.failed(); berr != nil {
				var mbe *http.MaxBytesError
				if errors.As(berr, &mbe) {
					problem.Denier{Guard: "bodylimit", Audit: p.tel.Audit}.Deny(w, r, bodylimit.TooLarge(mbe.Limit))
					return
				}
				problem.Write(w, r, problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the request body could not be read").WithReason("body_unreadable").WithErr(berr))
				return
			}
		}
		var ne net.Error
		timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
		var pr *problem.Problem
		if timeout {
			p.tel.upstreams.WithLabelValues(p.name, "timeout").Inc()
			pr = problem.New(http.StatusGatewayTimeout, TypeUpstreamTimeout, "the upstream service did not answer in time").WithReason("upstream_timeout")
		} else {
			p.tel.upstreams.WithLabelValues(p.name, "unavailable").Inc()
			pr = problem.New(http.StatusBadGateway, TypeUpstreamUnavailable, "the upstream service is unavailable").WithReason("upstream_unavailable")
		}
		if len(p.targets) > 1 {
			p.down(t)
		}
		problem.Write(w, r, pr.WithErr(err))
	}
}

// bodyWatch is a client's request body that remembers the first read
// error other than io.EOF: a body over the limit or a client gone
// mid-upload, which is no fault of the upstream's.
type bodyWatch struct {
	rc  io.ReadCloser
	err atomic.Pointer[error]
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

func (b *bodyWatch) Close() error { return b.rc.Close() }

func (b *bodyWatch) failed() error {
	if e := b.err.Load(); e != nil {
		return *e
	}
	return nil
}

// forwarder sends a route's requests to its upstream.
type forwarder struct {
	pool            *pool
	stripPrefix     string
	strip           headerSet // principal headers of every policy: never from clients
	principal       *PrincipalHeaders
	managed         []string                 // response headers the gateway's profile owns
	removeHeaders   func(http.Header)        // the profile's removals (Server, X-Powered-By, …)
	corsOwned       bool                     // the gateway answers CORS: upstream's CORS headers dropped
	requestIDHeader string                   // canonical form
	dropCookies     []string                 // the gateway's own cookies (session, CSRF): never sent upstream
	credentials     headerSet                // strip_credentials: the client's credential headers
	dropQuery       []string                 // strip_credentials: API-key query parameters
	proxies         []*httputil.ReverseProxy // per pool target: pool.proxiesFor
}

// fwdKey is the context key of a request's *bodyWatch, for the error
// handler; a request without a body has none.
type fwdKey struct{}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := f.pool.pickIndex()
	if r.Body != nil && r.Body != http.NoBody {
		body := &bodyWatch{rc: r.Body}
		r.Body = body
		r = r.WithContext(context.WithValue(r.Context(), fwdKey{}, body))
	}
	f.proxies[i].ServeHTTP(w, r)
}

// rewrite builds the outbound request: the target URL, the forwarding
// headers from the client identity the gateway resolved, the request ID
// and trace context, and the principal headers (every incoming copy
// removed first).
func (f *forwarder) rewrite(pr *httputil.ProxyRequest, t *target) {
	if f.stripPrefix != "" {
		p := strings.TrimPrefix(pr.Out.URL.Path, f.stripPrefix)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		pr.Out.URL.Path, pr.Out.URL.RawPath = p, ""
	}
	pr.SetURL(t.url)
	if f.pool.preserveHost {
		pr.Out.Host = pr.In.Host
	}
	h := pr.Out.Header
	f.strip.removeFrom(h)
	f.credentials.removeFrom(h)
	if len(f.dropQuery) > 0 && pr.Out.URL.RawQuery != "" {
		q, changed := pr.Out.URL.Query(), false
		for _, name := range f.dropQuery {
			if q.Has(name) {
				q.Del(name)
				changed = true
			}
		}
		if changed { // untouched otherwise: the upstream sees the query as sent
			pr.Out.URL.RawQuery = q.Encode()
		}
	}
	if len(f.dropCookies) > 0 && len(h["Cookie"]) > 0 {
		dropCookies(h, f.dropCookies)
	}
	ctx := pr.In.Context()
	// Client identity, as the trust model resolved it: the one address
	// the gateway believes, never a client's chain passed on.
	ip := clientip.FromContext(ctx)
	proto := "http"
	if pr.In.TLS != nil || clientip.IsSecure(ctx) {
		proto = "https"
	}
	delete(h, "Forwarded")
	delete(h, "X-Real-Ip")
	// The values written below share two allocations: their bytes in one
	// string, their one-element slices in one array (each capped, so that
	// an append by anyone later copies instead of writing into the next).
	var vals outValues
	var sbuf [192]byte
	b := sbuf[:0]
	var ipEnd, fwdEnd, tpEnd int
	if ip.IsValid() {
		b = ip.AppendTo(b)
		ipEnd = len(b)
		b = append(b, "for="...)
		if ip.Is6() && !ip.Is4In6() {
			b = append(b, `"[`...)
			b = append(b, b[:ipEnd]...)
			b = append(b, `]"`...)
		} else {
			b = append(b, b[:ipEnd]...)
		}
		b = append(b, ";host="...)
		b = appendForwarded(b, pr.In.Host)
		b = append(b, ";proto="...)
		b = append(b, proto...)
		fwdEnd = len(b)
	}
	id := clientip.RequestID(ctx)
	tp := h.Get("Traceparent")
	if id != "" && f.requestIDHeader == "Traceparent" {
		tp = id // the request ID, set below, is in that header by then
	}
	newTrace := !validTraceparent(tp)
	if newTrace {
		b = appendTraceparent(b)
		tpEnd = len(b)
	}
	str := string(b)
	if ip.IsValid() {
		vals.set(h, "X-Forwarded-For", str[:ipEnd])
		vals.set(h, "Forwarded", str[ipEnd:fwdEnd])
	}
	vals.set(h, "X-Forwarded-Host", pr.In.Host)
	vals.set(h, "X-Forwarded-Proto", proto)
	if id != "" {
		vals.set(h, f.requestIDHeader, id)
	}
	if newTrace {
		delete(h, "Tracestate")
		vals.set(h, "Traceparent", str[fwdEnd:tpEnd])
	}
	if f.principal != nil {
		if p, ok := authn.FromContext(ctx); ok && p != nil {
			set := func(name, v string) {
				if name != "" && v != "" {
					h.Set(name, v)
				}
			}
			set(f.principal.Subject, p.Subject)
			set(f.principal.Method, p.Method)
			set(f.principal.Roles, strings.Join(p.Roles, ","))
			set(f.principal.Scopes, strings.Join(p.Scopes, " "))
		}
	}
}

// outValues holds the one-element value slices of the headers rewrite
// sets, so that they cost one allocation together rather than one each
// (http.Header.Set's).
type outValues struct {
	arr *[6]string
	n   int
}

// set sets h[name] to v; name is in canonical form.
func (o *outValues) set(h http.Header, name, v string) {
	if o.arr == nil {
		o.arr = new([6]string)
	}
	o.arr[o.n] = v
	h[name] = o.arr[o.n : o.n+1 : o.n+1]
	o.n++
}

// headerSet is a set of header names normalised as servers behind the
// gateway may read them: case ignored and '_' taken for '-' (CGI, WSGI,
// PHP-FPM, nginx with underscores_in_headers all map X_Auth_Subject and
// X-Auth-Subject to the same variable).
type headerSet map[string]struct{}

// newHeaderSet is the normalised set of names.
func newHeaderSet(names []string) headerSet {
	s := make(headerSet, len(names))
	for _, n := range names {
		s[normHeader(n)] = struct{}{}
	}
	return s
}

// normHeader lower-cases name and maps '_' to '-'.
func normHeader(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' {
			return '-'
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, name)
}

// removeFrom deletes from h every header whose normalised name is in s,
// in one pass over h.
func (s headerSet) removeFrom(h http.Header) {
	if len(s) == 0 {
		return
	}
	var buf [64]byte
	for k := range h {
		if _, ok := s[string(appendNormHeader(buf[:0], k))]; ok {
			delete(h, k)
		}
	}
}

// appendNormHeader appends normHeader(name) to b, without the allocation
// of a new string for every header of every request.
func appendNormHeader(b []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			c = '-'
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// quoteForwarded writes a Forwarded host value: a token as it is, else a
// quoted-string (RFC 7239; a host with a port needs quoting).
func quoteForwarded(host string) string { return string(appendForwarded(nil, host)) }

// appendForwarded appends quoteForwarded(host) to b.
func appendForwarded(b []byte, host string) []byte {
	if host == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b = append(b, '"')
			for j := 0; j < len(host); j++ {
				if c := host[j]; c == '"' || c == '\\' {
					b = append(b, '\\')
				}
				b = append(b, host[j])
			}
			return append(b, '"')
		}
	}
	return append(b, host...)
}

// modifyResponse keeps the gateway's security headers authoritative: the
// upstream's copies of the headers the profile sets are dropped (the
// profile's stay), as are the headers it removes, and the CORS headers
// when the gateway answers CORS.
func (f *forwarder) modifyResponse(resp *http.Response) error {
	for _, name := range f.managed {
		delete(resp.Header, name)
	}
	if f.removeHeaders != nil {
		f.removeHeaders(resp.Header)
	}
	if f.corsOwned {
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(resp.Header, k)
			}
		}
	}
	return nil
}

// validTraceparent checks a W3C traceparent: version 00,
// 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>, ids not all zero.
func validTraceparent(s string) bool {
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || s[:2] != "00" {
		return false
	}
	hexok := func(p string) bool {
		zero := true
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
			if c != '0' {
				zero = false
			}
		}
		return !zero
	}
	return hexok(s[3:35]) && hexok(s[36:52]) && (hexok(s[53:55]) || s[53:55] == "00")
}

// newTraceparent starts a trace: random IDs from the runtime's ChaCha8
// generator (no system call per request), not sampled.
func newTraceparent() string { return string(appendTraceparent(nil)) }

// appendTraceparent appends newTraceparent() to dst.
func appendTraceparent(dst []byte) []byte {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64()|1) // never all zero
	binary.LittleEndian.PutUint64(b[16:], rand.Uint64()|1)
	dst = append(dst, "00-"...)
	dst = hex.AppendEncode(dst, b[:16])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[16:])
	return append(dst, "-00"...)
}

// bufferPool recycles the 32 KiB copy buffers of the reverse proxy.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// retryTransport moves a request whose connection could not even be
// established (the request was never sent, so any method is safe to
// resend) to the pool's next healthy URL, marking the failed one down.
type retryTransport struct {
	pool *pool
	base http.RoundTripper
}

func (rt *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	p := rt.pool
	for tries := 1; err != nil && tries < len(p.targets) && dialFailed(err) && req.Context().Err() == nil; tries++ {
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return nil, err // a body we cannot replay
		}
		// This attempt failed as surely as one answered 502: counted,
		// even though the next URL may save the request.
		p.tel.upstreams.WithLabelValues(p.name, "unavailable").Inc()
		p.markDown(req.URL.Host)
		next := p.pick()
		if next.url.Host == req.URL.Host {
			return nil, err
		}
		r2 := req.Clone(req.Context())
		r2.URL.Scheme, r2.URL.Host = next.url.Scheme, next.url.Host
		if req.GetBody != nil {
			if r2.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = r2
		resp, err = rt.base.RoundTrip(req)
	}
	return resp, err
}

// dialFailed reports whether err happened before the request was sent:
// the connection was refused or could not be made.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// markDown takes the URL with this host out of rotation for unhealthyFor.
func (p *pool) markDown(host string) {
	if len(p.targets) < 2 {
		return
	}
	for _, t := range p.targets {
		if t.url.Host == host {
			p.down(t)
		}
	}
}

func (p *pool) down(t *target) {
	t.downUntil.Store(time.Now().Add(p.unhealthyFor).UnixNano())
	p.tel.health.WithLabelValues(p.name, t.url.String()).Set(0)
	time.AfterFunc(p.unhealthyFor, func() {
		if t.downUntil.Load() <= time.Now().UnixNano() {
			p.tel.health.WithLabelValues(p.name, t.url.String()).Set(1)
		}
	})
}

// dropCookies removes the named cookies from h's Cookie headers: the
// gateway's session ID is a credential the upstream has no use for.
func dropCookies(h http.Header, names []string) {
	var keep []string
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || slices.Contains(names, strings.TrimSpace(name)) {
				continue
			}
			keep = append(keep, part)
		}
	}
	if len(keep) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = []string{strings.Join(keep, "; ")}
}
