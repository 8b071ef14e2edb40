package demo

import (
	"context"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/breaker"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// breakers follows the circuit breakers of the demo's Redis stores through
// the audit events they record (one per change), for /config/security and
// /metrics.
type breakers struct {
	mu   sync.Mutex
	open map[string]bool // store name → breaker open
}

// storeAudit is the audit sink of the Redis store called name: the app's,
// and a record of its breaker's state.
func (a *App) storeAudit(name string) audit.Sink {
	b := &a.redis
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == nil {
		b.open = map[string]bool{}
	}
	b.open[name] = false
	return breakerSink{b: b, name: name, next: a.audit}
}

type breakerSink struct {
	b    *breakers
	name string
	next audit.Sink
}

func (s breakerSink) Record(ctx context.Context, e *audit.Event) {
	s.b.mu.Lock()
	switch e.Reason {
	case breaker.ReasonUnavailable, breaker.ReasonStillUnavailable:
		s.b.open[s.name] = true
	case breaker.ReasonRecovered:
		s.b.open[s.name] = false
	}
	s.b.mu.Unlock()
	s.next.Record(ctx, e)
}

// states returns each store's breaker state.
func (b *breakers) states() map[string]breaker.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]breaker.State, len(b.open))
	for name, open := range b.open {
		m[name] = breaker.Closed
		if open {
			m[name] = breaker.Open
		}
	}
	return m
}

// limiters are the demo's Store-backed limiters, by name.
func (x *auth) limiters() map[string]*ratelimit.Limiter {
	return map[string]*ratelimit.Limiter{"ip": x.ipLimit, "api": x.apiLimit, "login": x.loginLimit}
}

// describeOutage is what each guard does when its store cannot answer, and
// the stores' health now.
func (a *App) describeOutage() map[string]any {
	limits := map[string]ratelimit.StoreHealth{}
	for name, l := range a.auth.limiters() {
		limits[name] = l.StoreHealth()
	}
	revocation := "fail_closed"
	if a.auth.verifier.Describe().RevocationFailOpen {
		revocation = "fail_open"
	}
	// The abuse guards say their own policy; a view (account-targeted is
	// one of the credential-stuffing guard) shares its guard's store round
	// trip, hence its policy.
	stuffing, cards := a.auth.stuffing.Describe().Outage, a.auth.cardTest.Describe().Outage
	out := map[string]any{
		"rate_limits":         limits, // each: its policy, and what it has seen of its store
		"jwt_revocation":      revocation,
		"refresh":             "fail_closed",
		"logout":              "fail_closed",
		"credential_stuffing": stuffing,
		"account_targeted":    stuffing,
		"card_testing":        cards,
		"note": "fail_closed: 503 with Retry-After; fail_open: the request passes (audited); fallback_local: " +
			"each replica counts on its own. A full in-memory store counts as an outage too.",
	}
	if a.cfg.RedisURL != "" {
		out["redis_breakers"] = a.redis.states()
	}
	return out
}

// registerOutageMetrics adds to /metrics each Redis store's breaker state
// and each limiter's store errors (the changes themselves are counted in
// bulwark_security_events_total, from the audit events).
func (a *App) registerOutageMetrics() error {
	reg := a.metrics.Registry()
	stores := a.redis.states()
	names := make([]string, 0, len(stores))
	for name := range stores {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "bulwark_redis_breaker_open",
			Help:        "1 while the circuit breaker of a Redis store is open (calls fail at once), else 0.",
			ConstLabels: prometheus.Labels{"store": name},
		}, func() float64 {
			if a.redis.states()[name] == breaker.Open {
				return 1
			}
			return 0
		})); err != nil {
			return err
		}
	}
	for name, l := range a.auth.limiters() {
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "bulwark_ratelimit_store_errors_total",
			Help:        "Store errors of a rate limiter: decisions made by its outage policy.",
			ConstLabels: prometheus.Labels{"limiter": name},
		}, func() float64 { return float64(l.StoreHealth().Errors) })); err != nil {
			return err
		}
	}
	return nil
}
