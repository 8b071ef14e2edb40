package csp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
)

// Media types the collector accepts.
const (
	// MediaTypeCSPReport is the CSP Level 2 report-uri format:
	// {"csp-report": {...}}.
	MediaTypeCSPReport = "application/csp-report"
	// MediaTypeReports is the Reporting API format (report-to): a JSON
	// array of {"type": "csp-violation", "body": {...}}.
	MediaTypeReports = "application/reports+json"
)

// CollectorOptions configure a Collector.
type CollectorOptions struct {
	// MaxBodyBytes bounds a report request's body; larger bodies get 413.
	// Default 64 KiB.
	MaxBodyBytes int64 `json:"max_body_bytes" yaml:"max_body_bytes"`
	// RateLimit is how many report requests per second the collector
	// accepts, across all clients (a token bucket); beyond it clients get
	// 429. It bounds the audit log's volume. Default 10.
	RateLimit float64 `json:"rate_limit" yaml:"rate_limit"`
	// Burst is the token bucket's capacity. Default 2×RateLimit (at
	// least 1).
	Burst int `json:"burst" yaml:"burst"`
	// ClientRateLimit is how many report requests per second one client
	// may send (a token bucket per client, checked before the global one,
	// whose tokens a refused client does not spend), so that one client
	// cannot crowd out everyone else's reports. A client is the client IP
	// that the identity guard (package clientip) resolved — its /64 for
	// IPv6, as clientip.Key says — or, without that guard, the
	// connection's peer address: behind a proxy, put the identity guard
	// in front, or every client shares the proxy's bucket. Default 1.
	ClientRateLimit float64 `json:"client_rate_limit" yaml:"client_rate_limit"`
	// ClientBurst is each client's bucket capacity: the reports a page
	// may send at once (report-uri sends one request per violation).
	// Default 5, or 2×ClientRateLimit when larger.
	ClientBurst int `json:"client_burst" yaml:"client_burst"`
	// MaxClients bounds the per-client buckets kept in memory. When it is
	// reached, the buckets of clients idle long enough to be full again
	// are dropped (at most one sweep a second), and if none is, an
	// arbitrary one: that client starts afresh, while the global limit
	// still bounds the total. Default 4096.
	MaxClients int `json:"max_clients" yaml:"max_clients"`
	// MaxReports is how many reports of one Reporting API batch become
	// audit events; the rest are counted in the last event's "dropped"
	// attribute. Default 20.
	MaxReports int `json:"max_reports" yaml:"max_reports"`
	// Audit receives one Flag event per accepted report (guard "csp",
	// reason "csp_violation") and one Deny event per refused request,
	// except that a client over its rate limit (reason
	// "client_rate_limited"), or everyone over the global one (reason
	// "rate_limited"), is audited once until a request is accepted
	// again: a flood of reports does not become a flood of audit events.
	// Default: none (reports are accepted and discarded).
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes refusals. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
	// Now is the clock for the rate limit. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Collector is an http.Handler that receives CSP violation reports and
// turns each into an audit event. It answers 204 to a valid report, 405 to
// a method other than POST, 415 to another media type, 413 to an oversized
// body, 400 to a malformed one and 429 over a client's or the global rate
// limit (CollectorOptions.ClientRateLimit, RateLimit), always with
// fixed problem bodies: nothing from a report is ever reflected back.
//
// Report fields are untrusted (any page can post anything): the events
// keep only the directive (checked against the directive grammar), the
// blocked URI (truncated to 256 bytes, valid UTF-8, no control
// characters), the document's host and the disposition.
type Collector struct {
	max        int64
	maxReports int
	audit      audit.Sink
	deny       problem.Denier
	quiet      problem.Denier // deny without an audit event
	now        func() time.Time

	rate, burst             float64
	clientRate, clientBurst float64
	maxClients              int

	mu        sync.Mutex
	global    tokenBucket
	clients   map[netip.Prefix]tokenBucket
	lastSweep time.Time
}

// tokenBucket is one token bucket's state.
type tokenBucket struct {
	tokens float64
	last   time.Time // of the last refill
	quiet  bool      // a refusal was audited; the next are not, until one is allowed
}

// refill adds the tokens earned since the last refill, up to burst (a
// clock going backwards earns none).
func (b *tokenBucket) refill(now time.Time, rate, burst float64) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*rate)
	}
	b.last = now
}

// full reports whether the bucket would be full at now, so that dropping
// it changes nothing.
func (b *tokenBucket) full(now time.Time, rate, burst float64) bool {
	return b.tokens+now.Sub(b.last).Seconds()*rate >= burst
}

// waitFor is how long until a bucket holding tokens (< 1) has one.
func waitFor(tokens, rate float64) time.Duration {
	return time.Duration((1 - tokens) / rate * float64(time.Second))
}

var _ http.Handler = (*Collector)(nil)

// NewCollector validates o and returns a Collector.
func NewCollector(o CollectorOptions) (*Collector, error) {
	if o.MaxBodyBytes < 0 || o.RateLimit < 0 || o.Burst < 0 || o.MaxReports < 0 ||
		o.ClientRateLimit < 0 || o.ClientBurst < 0 || o.MaxClients < 0 {
		return nil, errors.New("csp: collector limits must not be negative (0 selects the default)")
	}
	for name, v := range map[string]float64{"RateLimit": o.RateLimit, "ClientRateLimit": o.ClientRateLimit} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("csp: collector %s must be a finite number of requests per second", name)
		}
	}
	c := &Collector{
		max:        o.MaxBodyBytes,
		maxReports: o.MaxReports,
		audit:      o.Audit,
		deny:       problem.Denier{Guard: "csp", Audit: o.Audit, Handler: o.ErrorHandler},
		quiet:      problem.Denier{Guard: "csp", Handler: o.ErrorHandler},
		now:        o.Now,
		rate:       o.RateLimit,
		clientRate: o.ClientRateLimit,
		maxClients: o.MaxClients,
	}
	if c.max == 0 {
		c.max = 64 << 10
	}
	if c.maxReports == 0 {
		c.maxReports = 20
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.rate == 0 {
		c.rate = 10
	}
	c.burst = float64(o.Burst)
	if o.Burst == 0 {
		c.burst = math.Max(1, math.Ceil(2*c.rate))
	}
	if c.clientRate == 0 {
		c.clientRate = 1
	}
	c.clientBurst = float64(o.ClientBurst)
	if o.ClientBurst == 0 {
		c.clientBurst = math.Max(5, math.Ceil(2*c.clientRate))
	}
	if c.maxClients == 0 {
		c.maxClients = 4096
	}
	c.global = tokenBucket{tokens: c.burst, last: c.now()}
	c.clients = make(map[netip.Prefix]tokenBucket)
	return c, nil
}

// clientKey is the rate-limit key of r's client: the identity guard's
// client IP, else the connection's peer address, as clientip.Key makes
// it; the zero Prefix (one shared bucket) when neither is known.
func clientKey(r *http.Request) netip.Prefix {
	addr := clientip.FromContext(r.Context())
	if !addr.IsValid() {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			addr = ap.Addr()
		}
	}
	return clientip.Key(addr)
}

// allow takes a token from the client's bucket and from the global one.
// When either is empty it takes none and returns how long until one is,
// the reason, and whether this refusal is to be audited (the first of a
// run of refusals).
func (c *Collector) allow(r *http.Request) (ok bool, wait time.Duration, reason string, audited bool) {
	key := clientKey(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.global.refill(now, c.rate, c.burst)
	b, known := c.clients[key]
	if known {
		b.refill(now, c.clientRate, c.clientBurst)
	} else {
		b = tokenBucket{tokens: c.clientBurst, last: now}
	}
	switch {
	case b.tokens < 1:
		ok, wait, reason, audited = false, waitFor(b.tokens, c.clientRate), "client_rate_limited", !b.quiet
		b.quiet = true
	case c.global.tokens < 1:
		ok, wait, reason, audited = false, waitFor(c.global.tokens, c.rate), "rate_limited", !c.global.quiet
		c.global.quiet = true
	default:
		ok = true
		b.tokens--
		b.quiet = false
		c.global.tokens--
		c.global.quiet = false
	}
	if !known && len(c.clients) >= c.maxClients {
		c.evict(now)
	}
	c.clients[key] = b
	return ok, wait, reason, audited
}

// evict makes room for one more client: it drops the buckets that are
// full again (at most one sweep a second, so that a stream of new clients
// costs no scan each), then, if the table is still full, an arbitrary one.
func (c *Collector) evict(now time.Time) {
	if now.Sub(c.lastSweep) >= time.Second || now.Before(c.lastSweep) {
		c.lastSweep = now
		for k, b := range c.clients {
			if b.full(now, c.clientRate, c.clientBurst) {
				delete(c.clients, k)
			}
		}
	}
	for k := range c.clients {
		if len(c.clients) < c.maxClients {
			break
		}
		delete(c.clients, k)
	}
}

// ServeHTTP implements http.Handler.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		c.deny.Deny(w, r, problem.MethodNotAllowed([]string{http.MethodPost}))
		return
	}
	format, ok := reportFormat(r.Header.Get("Content-Type"))
	if !ok {
		c.deny.Deny(w, r, problem.New(http.StatusUnsupportedMediaType, problem.TypeUnsupportedMediaType,
			"send CSP reports as application/csp-report or application/reports+json").WithReason("unsupported_media_type"))
		return
	}
	if r.ContentLength > c.max {
		c.deny.Deny(w, r, tooLarge())
		return
	}
	if ok, wait, reason, audited := c.allow(r); !ok {
		d := c.quiet
		if audited {
			d = c.deny
		}
		d.Deny(w, r, problem.TooManyRequests(wait, "too many reports").WithReason(reason))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			c.deny.Deny(w, r, tooLarge())
			return
		}
		c.deny.Deny(w, r, problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the report body could not be read").
			WithReason("malformed_report").WithErr(err))
		return
	}
	reports, dropped, err := parseReports(format, body, c.maxReports)
	if err != nil {
		c.deny.Deny(w, r, problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the body is not a valid CSP report").
			WithReason("malformed_report").WithErr(err))
		return
	}
	if c.audit != nil {
		for i, rep := range reports {
			e := audit.FromRequest(r, "csp", audit.Flag, "csp_violation")
			e.Status = http.StatusNoContent
			e.Attrs = append(e.Attrs,
				slog.String("directive", rep.Directive),
				slog.String("blocked_uri", rep.BlockedURI),
				slog.String("document_host", rep.DocumentHost),
				slog.String("disposition", rep.Disposition),
			)
			if dropped > 0 && i == len(reports)-1 {
				e.Attrs = append(e.Attrs, slog.Int("dropped", dropped))
			}
			c.audit.Record(r.Context(), e)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func tooLarge() *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, problem.TypeBodyTooLarge, "the report body is too large").WithReason("body_too_large")
}

type format uint8

const (
	formatCSP2 format = iota + 1
	formatReporting
)

// reportFormat maps a Content-Type to a report format, ignoring
// parameters and case.
func reportFormat(ct string) (format, bool) {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch {
	case strings.EqualFold(ct, MediaTypeCSPReport):
		return formatCSP2, true
	case strings.EqualFold(ct, MediaTypeReports):
		return formatReporting, true
	}
	return 0, false
}

// Report is the sanitized content of one violation report.
type Report struct {
	Directive    string // the effective directive, e.g. "script-src-elem"
	BlockedURI   string // what was blocked ("inline", "eval" or a URL), ≤ 256 bytes
	DocumentHost string // the host of the page that reported
	Disposition  string // "enforce", "report" or ""
}

type csp2Body struct {
	Report *struct {
		DocumentURI        string `json:"document-uri"`
		ViolatedDirective  string `json:"violated-directive"`
		EffectiveDirective string `json:"effective-directive"`
		BlockedURI         string `json:"blocked-uri"`
		Disposition        string `json:"disposition"`
	} `json:"csp-report"`
}

type reportingEntry struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	Body *struct {
		DocumentURL        string `json:"documentURL"`
		EffectiveDirective string `json:"effectiveDirective"`
		BlockedURL         string `json:"blockedURL"`
		Disposition        string `json:"disposition"`
	} `json:"body"`
}

// parseReports decodes a body of the given format into sanitized reports,
// at most max of them; dropped counts the csp-violation reports beyond
// max. Reports of other types in a Reporting API batch are ignored.
func parseReports(f format, body []byte, max int) (reports []Report, dropped int, err error) {
	switch f {
	case formatCSP2:
		var b csp2Body
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, 0, err
		}
		if b.Report == nil {
			return nil, 0, errors.New(`no "csp-report" object`)
		}
		d := b.Report.EffectiveDirective
		if d == "" {
			// CSP1-era browsers put the whole directive here.
			d, _, _ = strings.Cut(b.Report.ViolatedDirective, " ")
		}
		rep, err := sanitize(d, b.Report.BlockedURI, b.Report.DocumentURI, b.Report.Disposition)
		if err != nil {
			return nil, 0, err
		}
		return []Report{rep}, 0, nil
	case formatReporting:
		var entries []reportingEntry
		if err := json.Unmarshal(body, &entries); err != nil {
			return nil, 0, err
		}
		for _, e := range entries {
			if e.Type != "csp-violation" {
				continue
			}
			if e.Body == nil {
				return nil, 0, errors.New("csp-violation report without a body")
			}
			doc := e.Body.DocumentURL
			if doc == "" {
				doc = e.URL
			}
			rep, err := sanitize(e.Body.EffectiveDirective, e.Body.BlockedURL, doc, e.Body.Disposition)
			if err != nil {
				return nil, 0, err
			}
			if len(reports) >= max {
				dropped++
				continue
			}
			reports = append(reports, rep)
		}
		return reports, dropped, nil
	}
	return nil, 0, fmt.Errorf("unknown format %d", f)
}

const maxBlockedURI = 256

func sanitize(directive, blocked, document, disposition string) (Report, error) {
	directive = strings.ToLower(directive)
	if directive == "" || len(directive) > 40 {
		return Report{}, errors.New("report without a valid directive")
	}
	for i := 0; i < len(directive); i++ {
		if c := directive[i]; (c < 'a' || c > 'z') && c != '-' {
			return Report{}, errors.New("report without a valid directive")
		}
	}
	rep := Report{Directive: directive, BlockedURI: clean(blocked, maxBlockedURI)}
	if u, err := url.Parse(document); err == nil {
		rep.DocumentHost = clean(u.Hostname(), 253)
	}
	switch disposition {
	case "enforce", "report":
		rep.Disposition = disposition
	}
	return rep, nil
}

// clean returns s without control characters and invalid UTF-8,
// truncated to at most n bytes on a rune boundary.
func clean(s string, n int) string {
	if len(s) > 4*n {
		s = s[:4*n]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}
