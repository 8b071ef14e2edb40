package csp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/audit"
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
	// Limiter throttles report requests: its Check (a guard's decision;
	// *ratelimit.Limiter has it) is asked before the body is read, and its
	// refusal (a 429 with Retry-After) is the answer. It bounds the audit
	// log's volume, so it is required: a per-client limit and a global one,
	// in one *ratelimit.Limiter (see the package documentation).
	Limiter problem.Checker `json:"-" yaml:"-"`
	// MaxBodyBytes bounds a report request's body; larger bodies get 413.
	// Default 64 KiB.
	MaxBodyBytes int64 `json:"max_body_bytes" yaml:"max_body_bytes"`
	// MaxReports is how many reports of one Reporting API batch become
	// audit events; the rest are counted in the last event's "dropped"
	// attribute. Default 20.
	MaxReports int `json:"max_reports" yaml:"max_reports"`
	// Audit receives one Flag event per accepted report (guard "csp",
	// reason "csp_violation") and one Deny event per refused request, but
	// only one for a run of refusals by one limit, until the Limiter admits
	// a request again. Default: none (reports are accepted and discarded).
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes refusals. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Collector is an http.Handler that receives CSP violation reports and
// turns each into an audit event. It answers 204 to a valid report, 405 to
// a method other than POST, 415 to another media type, 413 to an oversized
// body, 400 to a malformed one and the Limiter's problem (429) to a request
// over its limits, always with fixed problem bodies: nothing from a report
// is ever reflected back.
//
// Report fields are untrusted (any page can post anything): the events
// keep only the directive (checked against the directive grammar), the
// blocked URI (truncated to 256 bytes, valid UTF-8, no control
// characters), the document's host and the disposition.
type Collector struct {
	max        int64
	maxReports int
	limiter    problem.Checker
	audit      audit.Sink
	deny       problem.Denier
	quiet      problem.Denier // deny without an audit event
	// throttled names the limits (a refusal's "policy" member, else its
	// reason) whose refusal was audited; the Limiter admitting a request
	// clears it. The refusals in between are not audited. Its keys come
	// from the Limiter's configuration, never from a request: it stays
	// small.
	mu        sync.Mutex
	throttled map[string]bool
	anyQuiet  atomic.Bool // throttled is not empty
}

var _ http.Handler = (*Collector)(nil)

// firstRefusal reports whether p is the first refusal by its limit since
// the Limiter last admitted a request, and marks that limit refusing.
func (c *Collector) firstRefusal(p *problem.Problem) bool {
	limit, _ := p.Extensions["policy"].(string)
	if limit == "" {
		limit = p.Reason
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.throttled[limit] {
		return false
	}
	if c.throttled == nil {
		c.throttled = make(map[string]bool)
	}
	c.throttled[limit] = true
	c.anyQuiet.Store(true)
	return true
}

// errNoLimiter explains how to build the Limiter a collector needs.
var errNoLimiter = errors.New(`csp: CollectorOptions.Limiter is required, so that a flood of reports cannot flood the audit log; ` +
	`for example, per client and overall in one limiter: ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{` +
	`ratelimit.TokenBucket(5, 1).Named("csp-client").By(ratelimit.ByIP()), ` +
	`ratelimit.TokenBucket(20, 10).Named("csp").By(ratelimit.Global())}})`)

// NewCollector validates o and returns a Collector.
func NewCollector(o CollectorOptions) (*Collector, error) {
	if o.Limiter == nil {
		return nil, errNoLimiter
	}
	if o.MaxBodyBytes < 0 || o.MaxReports < 0 {
		return nil, errors.New("csp: collector limits must not be negative (0 selects the default)")
	}
	c := &Collector{
		max:        o.MaxBodyBytes,
		maxReports: o.MaxReports,
		limiter:    o.Limiter,
		audit:      o.Audit,
		deny:       problem.Denier{Guard: "csp", Audit: o.Audit, Handler: o.ErrorHandler},
		quiet:      problem.Denier{Guard: "csp", Handler: o.ErrorHandler},
	}
	if c.max == 0 {
		c.max = 64 << 10
	}
	if c.maxReports == 0 {
		c.maxReports = 20
	}
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The limiter counts every request, before anything else is checked:
	// a flood of malformed ones (GETs, wrong media types) is throttled, and
	// audited, like a flood of reports.
	r, p := c.limiter.Check(r)
	if p != nil {
		d := c.quiet
		if c.firstRefusal(p) {
			d = c.deny
		}
		d.Deny(w, r, p)
		return
	}
	if c.anyQuiet.Load() {
		c.mu.Lock()
		clear(c.throttled)
		c.anyQuiet.Store(false)
		c.mu.Unlock()
	}
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
