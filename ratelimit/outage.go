package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/breaker"
)

// Reason codes of the audit events a Limiter records about its Store (see
// Options.Audit). They are transitions, not one event per decision.
const (
	// ReasonFallbackLocal, ReasonFailOpen and ReasonFailClosed (flags):
	// the Store failed, and the Outage policy named decides from now on.
	ReasonFallbackLocal = "ratelimit_fallback_local"
	ReasonFailOpen      = "ratelimit_fail_open"
	ReasonFailClosed    = "ratelimit_fail_closed"
	// ReasonStillDegraded (a flag): the Store keeps failing; a summary at
	// most once a minute.
	ReasonStillDegraded = "ratelimit_still_degraded"
	// ReasonRecovered (an allow): the Store decides again.
	ReasonRecovered = "ratelimit_recovered"
)

// The pacing of the outage events.
const (
	// recoverQuiet is how long the Store must go without an error before a
	// success counts as its recovery: a Store failing now and then (a
	// timeout under load) makes one degraded period, not an event pair
	// per error.
	recoverQuiet = int64(time.Second)
	// summaryEvery is the least time between two reports of one degraded
	// period.
	summaryEvery = int64(time.Minute)
)

// StoreHealth is what a Limiter has seen of its Store, for a readiness
// check, a dashboard or a metric.
type StoreHealth struct {
	// Degraded reports that the Store failed within the last second: the
	// Outage policy is deciding. Always false without a Store.
	Degraded bool `json:"degraded"`
	// Errors is the number of Store errors since New: each was a decision
	// made by the Outage policy. (Callers who gave up are not counted.)
	Errors int64 `json:"errors"`
	// Outage is the policy that decides while the Store cannot.
	Outage Outage `json:"outage"`
}

// StoreHealth returns what the Limiter has seen of its Store.
func (l *Limiter) StoreHealth() StoreHealth {
	w := &l.watch
	n := w.errors.Load()
	return StoreHealth{
		Degraded: n > 0 && l.now()-w.lastErr.Load() < recoverQuiet,
		Errors:   n,
		Outage:   l.outage,
	}
}

// storeWatch makes a Limiter's Store outages visible without a line per
// decision: it counts every Store error, and records one audit event when
// the Store starts failing (its first error, with the Outage policy that
// decides from then on), a summary at most once a minute while it keeps
// failing, and one when it decides again after a second without errors.
// A healthy Store costs each decision one atomic load.
type storeWatch struct {
	errors   atomic.Int64 // Store errors since New
	lastErr  atomic.Int64 // Limiter.now of the last one
	degraded atomic.Bool  // a degraded period was reported and has not ended
	reported atomic.Int64 // when it was last reported (written under mu)

	mu     sync.Mutex
	since  int64 // when the degraded period began
	base   int64 // errors before it began
	sink   audit.Sink
	reason string    // the start's reason, from the policy
	attrs  slog.Attr // the limits' names
}

func (w *storeWatch) init(sink audit.Sink, o Outage, limits []Limit) {
	if sink == nil {
		sink = breaker.Log(nil)
	}
	w.sink = sink
	w.reason = [...]string{FallbackLocal: ReasonFallbackLocal, FailOpen: ReasonFailOpen, FailClosed: ReasonFailClosed}[o]
	names := make([]string, len(limits))
	for i := range limits {
		names[i] = limits[i].Name
	}
	w.attrs = slog.String("limits", strings.Join(names, ","))
}

// failed records a Store error at now.
func (w *storeWatch) failed(now int64, err error) {
	w.errors.Add(1)
	w.lastErr.Store(now)
	if w.degraded.Load() && now-w.reported.Load() < summaryEvery {
		return // reported lately: counted only
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.degraded.Load():
		w.degraded.Store(true)
		w.since, w.base = now, w.errors.Load()-1
		w.reported.Store(now)
		w.record(audit.Flag, w.reason, slog.String("error", err.Error()))
	case now-w.reported.Load() >= summaryEvery:
		w.reported.Store(now)
		w.record(audit.Flag, ReasonStillDegraded, slog.Duration("outage", time.Duration(now-w.since)),
			slog.Int64("errors", w.errors.Load()-w.base), slog.String("error", err.Error()))
	}
}

// succeeded records a decision by the Store at now (called only while
// degraded).
func (w *storeWatch) succeeded(now int64) {
	if now-w.lastErr.Load() < recoverQuiet {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.degraded.Load() || now-w.lastErr.Load() < recoverQuiet {
		return
	}
	w.degraded.Store(false)
	w.record(audit.Allow, ReasonRecovered, slog.Duration("outage", time.Duration(w.lastErr.Load()-w.since)),
		slog.Int64("errors", w.errors.Load()-w.base))
}

// record sends one event; w.mu is held, so that events keep their order.
func (w *storeWatch) record(d audit.Decision, reason string, attrs ...slog.Attr) {
	e := &audit.Event{Time: time.Now(), Guard: "ratelimit", Decision: d, Reason: reason}
	e.Attrs = append(append(e.Attrs, w.attrs), attrs...)
	w.sink.Record(context.Background(), e)
}
