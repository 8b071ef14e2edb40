package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/metrics"
	"github.com/bulwark-go/bulwark/panel"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// Telemetry is what outlives a configuration: the metrics registry, the
// audit sink and the logger. One Telemetry serves every configuration a
// server reloads, so counters keep counting across reloads.
type Telemetry struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Audit is the sink guards record to: counted by Metrics, then
	// forwarded to the sink NewTelemetry was given.
	Audit audit.Sink
	// Panel is the live security page the admin listener serves at
	// /security, fed by Audit.
	Panel *panel.Panel

	serving   atomic.Pointer[Gateway] // the configuration a Server serves, for the store collector
	shadow    *prometheus.CounterVec
	upstreams *prometheus.CounterVec
	health    *prometheus.GaugeVec
}

// NewTelemetry builds the metrics (a new registry) and the audit chain:
// every event is counted, then recorded to sink (nil: none). logger nil:
// slog.Default().
func NewTelemetry(logger *slog.Logger, sink audit.Sink) (*Telemetry, error) {
	if logger == nil {
		logger = slog.Default()
	}
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		return nil, err
	}
	p, err := panel.New(panel.Options{Title: "Bulwark gateway security", Gatherer: m.Registry()})
	if err != nil {
		return nil, err
	}
	t := &Telemetry{Logger: logger, Metrics: m, Panel: p, Audit: m.Sink(p.Sink(audit.OrNop(sink)))}
	t.shadow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulwark_shadow_denials_total",
		Help: "Requests a guard in shadow mode would have refused, by guard and reason; they were let through.",
	}, []string{"guard", "reason"})
	t.upstreams = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulwark_upstream_errors_total",
		Help: "Failed upstream round trips, by upstream and kind (unavailable, timeout).",
	}, []string{"upstream", "kind"})
	t.health = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bulwark_upstream_healthy",
		Help: "1 while an upstream URL is in rotation, 0 while passive health skips it.",
	}, []string{"upstream", "url"})
	reg := m.Registry()
	for _, c := range []prometheus.Collector{t.shadow, t.upstreams, t.health, storeCollector{t}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// shadowDenied records what a guard in shadow mode would have refused.
func (t *Telemetry) shadowDenied(r *http.Request, guard, reason string, status int) {
	t.shadow.WithLabelValues(guard, reason).Inc()
	e := audit.FromRequest(r, guard, audit.Flag, reason)
	e.Status = status
	e.Attrs = append(e.Attrs, slog.Bool("shadow", true))
	t.Audit.Record(context.WithoutCancel(r.Context()), e)
}

var (
	storeErrorsDesc = prometheus.NewDesc("bulwark_store_errors_total",
		"Shared-store errors seen by a rate limiter since it was built; each was decided by its outage policy.", []string{"limiter"}, nil)
	storeDegradedDesc = prometheus.NewDesc("bulwark_store_degraded",
		"1 while a rate limiter's shared store is failing and its outage policy decides.", []string{"limiter"}, nil)
)

// storeCollector reports the store health of the served configuration's
// rate limiters that keep their state in Redis.
type storeCollector struct{ t *Telemetry }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeErrorsDesc
	ch <- storeDegradedDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.t.serving.Load()
	if g == nil {
		return
	}
	var names []string
	for key := range g.resources {
		if strings.HasPrefix(key, "limit/") {
			names = append(names, key)
		}
	}
	sort.Strings(names)
	for _, key := range names {
		l, ok := g.resources[key].value.(*ratelimit.Limiter)
		if !ok || g.cfg.Limits[strings.TrimPrefix(key, "limit/")].Store != "redis" {
			continue
		}
		h := l.StoreHealth()
		name := strings.TrimPrefix(key, "limit/")
		ch <- prometheus.MustNewConstMetric(storeErrorsDesc, prometheus.CounterValue, float64(h.Errors), name)
		deg := 0.0
		if h.Degraded {
			deg = 1
		}
		ch <- prometheus.MustNewConstMetric(storeDegradedDesc, prometheus.GaugeValue, deg, name)
	}
}
