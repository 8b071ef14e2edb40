// Package metrics exposes Bulwark's request and security-decision counters
// in the Prometheus text format.
//
// Requests are counted by method, route pattern and status code; denials
// and flags by guard and reason code, fed from the audit stream so that
// every denial or flag counted is one that was audited.
//
// Every label takes its values from a closed set, so that no client can
// add series: each series costs memory until the process ends and bytes
// in every scrape. The method is counted under its own name only when it
// is one of Options.KnownMethods (by default those of RFC 9110, PATCH and
// QUERY, exactly as written: "get" is not GET) and as "_OTHER" otherwise,
// as the OpenTelemetry HTTP semantic conventions do for
// http.request.method; net/http hands a handler any method a client sends,
// up to a megabyte long. The route is the pattern a router matched, never
// the raw path: every request no route matched counts under "unmatched".
//
// Wrap the router with Handler (the Metrics step of bulwark.Policy),
// serve Exposition at /metrics, and give the guards Sink(next) as their
// audit sink. The metrics:
//
//	bulwark_http_requests_total            counter    method, route, code
//	bulwark_http_request_duration_seconds  histogram  route
//	bulwark_denials_total                  counter    guard, reason
//	bulwark_security_events_total          counter    guard, decision, reason
//
// method is a known method or "_OTHER", route as Handler says, code the
// status code. The histogram's buckets run from 0.5 ms to 2.5 s.
// bulwark_security_events_total counts the audit events that are not
// denials: flags (a suspicious request let through), and changes of state
// such as a Redis store's circuit breaker opening (guard redisstore or
// redislimit, reason store_unavailable) and closing (store_recovered), a
// rate limiter falling back to local counting (ratelimit_fallback_local)
// and recovering (ratelimit_recovered), a remote JWKS serving stale keys
// (guard jwks, jwks_stale) — one event per change, not per request.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/internal/respwriter"
)

// Options configure Metrics.
type Options struct {
	// Registry receives Bulwark's collectors. Default: a new registry that
	// also holds the Go runtime and process collectors. Pass your own to
	// serve Bulwark's metrics beside your application's.
	Registry *prometheus.Registry

	// KnownMethods are the methods counted under their own name; any other
	// method counts as OtherMethod. Case matters, as in HTTP. The list
	// replaces the default rather than adding to it (to add WebDAV's, say:
	// append(metrics.DefaultKnownMethods(), "PROPFIND")). Default:
	// DefaultKnownMethods(). At most 64 methods.
	KnownMethods []string
}

// DefaultKnownMethods returns the methods counted under their own name by
// default: those of RFC 9110, PATCH (RFC 5789) and QUERY, the set the
// OpenTelemetry HTTP semantic conventions call known.
func DefaultKnownMethods() []string {
	return []string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch, "QUERY",
	}
}

// OtherMethod is the method label of every request whose method is not
// one of Options.KnownMethods.
const OtherMethod = "_OTHER"

// maxKnownMethods bounds Options.KnownMethods, and so the method label.
const maxKnownMethods = 64

// Metrics holds the collectors and their registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	denials  *prometheus.CounterVec
	events   *prometheus.CounterVec
	methods  map[string]string // known method → its label value
	pool     sync.Pool
}

// New registers Bulwark's collectors on opts.Registry. It fails when the
// registry already holds collectors of the same names (a second Metrics on
// one registry).
func New(opts Options) (*Metrics, error) {
	methods, err := knownMethods(opts.KnownMethods)
	if err != nil {
		return nil, err
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
	}
	m := &Metrics{
		reg:     reg,
		methods: methods,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bulwark_http_request_duration_seconds", Help: "Time to serve a request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_denials_total", Help: "Requests refused by a guard, by guard and reason code.",
		}, []string{"guard", "reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_security_events_total", Help: "Audit events other than denials (flags, outages and recoveries), by guard, decision and reason code.",
		}, []string{"guard", "decision", "reason"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.denials, m.events} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w (one Metrics per registry)", err)
		}
	}
	m.pool.New = func() any { return new(respwriter.Writer) }
	return m, nil
}

func knownMethods(list []string) (map[string]string, error) {
	if len(list) == 0 {
		list = DefaultKnownMethods()
	}
	if len(list) > maxKnownMethods {
		return nil, fmt.Errorf("metrics: KnownMethods lists %d methods; at most %d, since each is a label value", len(list), maxKnownMethods)
	}
	methods := make(map[string]string, len(list))
	for _, name := range list {
		if !httpsyntax.IsToken(name) || name == OtherMethod {
			return nil, fmt.Errorf("metrics: KnownMethods entry %q is not a method name (an RFC 9110 token, such as PROPFIND)", name)
		}
		methods[name] = name
	}
	return methods, nil
}

// Registry returns the registry, to add application collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Exposition serves the metrics in the Prometheus text format.
func (m *Metrics) Exposition() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Handler counts every request served by next, by method (a known method,
// else "_OTHER"), by the route pattern a router recorded
// (bulwark.RecordRoute, which bulwark.Policy applies, or
// bulwark.SetRoute), and by status; unrouted requests (404s, and 405s
// from a ServeMux) count under the route "unmatched".
func (m *Metrics) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, _ = reqctx.Ensure(r) // routers inside record their pattern into it
		rw := m.pool.Get().(*respwriter.Writer)
		rw.Reset(w)
		defer func() {
			aborted := recover() // counted, then passed on (see accesslog)
			status := rw.StatusOrOK()
			if aborted != nil && rw.Status == 0 {
				status = http.StatusInternalServerError
			}
			route := reqctx.Pattern(r)
			if route == "" {
				route = "unmatched"
			}
			m.requests.WithLabelValues(m.method(r.Method), route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			rw.Reset(nil)
			m.pool.Put(rw)
			if aborted != nil {
				panic(aborted)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// method returns the method label for m. A known method's label is the
// string New stored, not m: r.Method shares its memory with the whole
// request line, which a new series would otherwise keep alive.
func (m *Metrics) method(name string) string {
	if v, ok := m.methods[name]; ok {
		return v
	}
	return OtherMethod
}

// Sink returns an audit sink that counts every event — denials in
// bulwark_denials_total, the others in bulwark_security_events_total —
// and then forwards it to next (which may be nil).
func (m *Metrics) Sink(next audit.Sink) audit.Sink { return &sink{m: m, next: audit.OrNop(next)} }

type sink struct {
	m    *Metrics
	next audit.Sink
}

func (s *sink) Record(ctx context.Context, e *audit.Event) {
	switch e.Decision {
	case audit.Deny:
		s.m.denials.WithLabelValues(e.Guard, e.Reason).Inc()
	default:
		s.m.events.WithLabelValues(e.Guard, string(e.Decision), e.Reason).Inc()
	}
	s.next.Record(ctx, e)
}
