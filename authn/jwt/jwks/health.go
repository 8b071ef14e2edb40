package jwks

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bulwark-go/bulwark/audit"
)

// State is the health of a Remote, as Status reports it.
type State string

// The states of a Remote. Each change between them is one audit event,
// whose reason names the state entered (jwks_recovered for StateFresh).
const (
	// StateFresh: the last fetch succeeded.
	StateFresh State = "fresh"
	// StateStale: fetches fail; the last good keys are served until
	// MaxStaleness after the last successful fetch. Event jwks_stale.
	StateStale State = "stale"
	// StateUnavailable: no key is held (the first fetch failed, or the
	// stale keys were dropped); tokens are refused with 503. Event
	// jwks_unavailable.
	StateUnavailable State = "unavailable"
)

// health is how fetches have been going; guarded by Remote.mu. Instants
// are on Options.Now's clock.
type health struct {
	state        State // "" until the first fetch ends
	lastSuccess  time.Time
	lastErr      error
	failingSince time.Time     // the first failure after the last success; zero when fresh
	since        time.Time     // when the current state began
	failures     int           // consecutive failed fetches
	period       time.Duration // the background period the last success set
	next         time.Time     // the next background fetch
	fetches      uint64
	failed       uint64
}

// transition is a change of health waiting to be reported.
type transition struct {
	at     time.Time
	reason string
	detail string
	attrs  []slog.Attr
}

// succeeded records a fetch that brought s. Called with r.mu held.
func (r *Remote) succeeded(s *snapshot, f freshness, now time.Time) {
	old := r.state.Swap(s)
	if old.sig != s.sig {
		r.gen.Add(1)
	}
	h := &r.h
	prev, downSince := h.state, h.failingSince
	h.fetches++
	h.state, h.lastSuccess, h.lastErr, h.failures = StateFresh, now, nil, 0
	h.failingSince, h.since = time.Time{}, now
	h.period = r.period(f)
	h.next = now.Add(h.period)
	r.fetchAt = time.Now().Add(h.period)
	r.dropAt.Store(0)
	r.dropWake = time.Time{}
	if prev == StateStale || prev == StateUnavailable {
		r.pending = append(r.pending, transition{at: now, reason: "jwks_recovered",
			detail: "the JWKS answers again; its keys are fresh",
			attrs: []slog.Attr{slog.String("was", string(prev)), slog.Int("keys", len(s.keys)),
				slog.Duration("failing_for", now.Sub(downSince))}})
	}
}

// failed records a failed fetch. Called with r.mu held.
func (r *Remote) failed(err error, now time.Time) {
	h := &r.h
	h.fetches++
	h.failed++
	h.failures++
	h.lastErr = err
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
	backoff := r.backoff(h.failures)
	h.next = now.Add(backoff)
	r.fetchAt = time.Now().Add(backoff)
	switch h.state {
	case "":
		h.state, h.since = StateUnavailable, now
		r.pending = append(r.pending, transition{at: now, reason: "jwks_unavailable",
			detail: "the JWKS cannot be fetched and no key is held; tokens are refused with 503 until a fetch succeeds",
			attrs:  []slog.Attr{slog.String("error", err.Error())}})
	case StateFresh:
		h.state, h.since = StateStale, now
		attrs := []slog.Attr{slog.String("error", err.Error()), slog.Int("keys", len(r.state.Load().keys)),
			slog.Time("last_success", h.lastSuccess)}
		detail := "the JWKS cannot be fetched; serving the last good keys"
		if r.opts.MaxStaleness > 0 {
			drop := h.lastSuccess.Add(r.opts.MaxStaleness)
			r.dropAt.Store(drop.UnixNano())
			r.dropWake = time.Now().Add(drop.Sub(now))
			attrs = append(attrs, slog.Time("drops_at", drop))
			detail += " until MaxStaleness after the last success"
		}
		r.pending = append(r.pending, transition{at: now, reason: "jwks_stale", detail: detail, attrs: attrs})
	}
}

// expireIfDue drops stale keys once MaxStaleness has passed since the
// last successful fetch. Cheap when no drop is pending: one atomic load.
func (r *Remote) expireIfDue() {
	d := r.dropAt.Load()
	if d == 0 {
		return
	}
	now := r.now() // outside the lock: Options.Now is the caller's code
	if now.UnixNano() < d {
		return
	}
	r.mu.Lock()
	if d = r.dropAt.Load(); d == 0 || now.UnixNano() < d || r.h.state != StateStale {
		r.mu.Unlock()
		return
	}
	old := r.state.Swap(&snapshot{skipped: r.state.Load().skipped})
	r.gen.Add(1)
	r.dropAt.Store(0)
	r.dropWake = time.Time{}
	h := &r.h
	staleSince := h.since
	h.state, h.since = StateUnavailable, now
	errText := ""
	if h.lastErr != nil {
		errText = h.lastErr.Error()
	}
	r.pending = append(r.pending, transition{at: now, reason: "jwks_unavailable",
		detail: fmt.Sprintf("the JWKS has failed since %s; keys older than MaxStaleness (%v) were dropped and tokens are refused with 503 until a fetch succeeds",
			staleSince.UTC().Format(time.RFC3339), r.opts.MaxStaleness),
		attrs: []slog.Attr{slog.String("error", errText), slog.Int("dropped_keys", len(old.keys)),
			slog.Time("last_success", h.lastSuccess), slog.Time("stale_since", staleSince)}})
	r.mu.Unlock()
	r.report()
	r.wake()
}

// report sends the pending health changes to the audit sink, in the order
// they happened, outside r.mu (the sink is the caller's code and may call
// Status).
func (r *Remote) report() {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	for {
		r.mu.Lock()
		ts := r.pending
		r.pending = nil
		r.mu.Unlock()
		if len(ts) == 0 {
			return
		}
		for _, t := range ts {
			attrs := append([]slog.Attr{slog.String("url", r.safeURL), slog.String("detail", t.detail)}, t.attrs...)
			r.audit.Record(context.Background(), &audit.Event{
				Time: t.at, Guard: "jwks", Decision: audit.Flag, Reason: t.reason, Attrs: attrs,
			})
		}
	}
}

// period is the background period after a success: the response's
// max-age within [MinRefreshInterval, RefreshInterval], else
// RefreshInterval.
func (r *Remote) period(f freshness) time.Duration {
	if f.noCache || !f.hasMaxAge {
		return r.opts.RefreshInterval
	}
	return min(max(f.maxAge, r.opts.MinRefreshInterval), r.opts.RefreshInterval)
}

// backoff is the delay before the background retries after the n-th
// consecutive failure: MinRefreshInterval, doubling up to a minute (or
// RefreshInterval when shorter, but never less than MinRefreshInterval).
func (r *Remote) backoff(n int) time.Duration {
	ceil := max(r.opts.MinRefreshInterval, min(r.opts.RefreshInterval, time.Minute))
	d := r.opts.MinRefreshInterval
	for i := 1; i < n && d < ceil; i++ {
		d *= 2
	}
	return max(min(d, ceil), time.Millisecond)
}

// Status is a Remote's health and outage policy, for a status or
// configuration page. Times are on Options.Now's clock; zero times are
// omitted from JSON.
type Status struct {
	URL   string `json:"url"`   // without credentials or query string
	State State  `json:"state"` // fresh, stale or unavailable
	Keys  int    `json:"keys"`  // keys served now
	// LastSuccess is when the last successful fetch ended.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastAttempt is when the last fetch started.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastError is the last fetch's error while fetches fail.
	LastError string `json:"last_error,omitempty"`
	// StaleSince is when the keys began to be served stale (StateStale).
	StaleSince time.Time `json:"stale_since,omitzero"`
	// DropsAt is when stale keys will be dropped (StateStale, unless
	// MaxStaleness is negative).
	DropsAt time.Time `json:"drops_at,omitzero"`
	// UnavailableSince is when the set lost its last key, or, when it
	// never had one, when the first fetch failed (StateUnavailable).
	UnavailableSince time.Time `json:"unavailable_since,omitzero"`
	// NextRefresh is when the background fetches next.
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	// RefreshSeconds is the background period the last success set
	// (its max-age within the bounds, or RefreshInterval).
	RefreshSeconds float64 `json:"refresh_seconds"`
	// MinRefreshSeconds is Options.MinRefreshInterval.
	MinRefreshSeconds float64 `json:"min_refresh_seconds"`
	// MaxStalenessSeconds is Options.MaxStaleness; negative: never dropped.
	MaxStalenessSeconds float64 `json:"max_staleness_seconds"`
	// Fetches and Failures count the fetches since New, and those that
	// failed.
	Fetches  uint64 `json:"fetches"`
	Failures uint64 `json:"failures"`
	// OutagePolicy says in one sentence what happens while the JWKS
	// cannot be fetched.
	OutagePolicy string `json:"outage_policy"`
}

// Status returns the set's health and outage policy.
func (r *Remote) Status() Status {
	r.expireIfDue()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	st := Status{
		URL: r.safeURL, State: h.state, Keys: len(r.state.Load().keys),
		LastSuccess: h.lastSuccess, LastAttempt: r.lastTry, NextRefresh: h.next,
		RefreshSeconds:      h.period.Seconds(),
		MinRefreshSeconds:   r.opts.MinRefreshInterval.Seconds(),
		MaxStalenessSeconds: r.opts.MaxStaleness.Seconds(),
		Fetches:             h.fetches, Failures: h.failed,
		OutagePolicy: r.outagePolicy(),
	}
	if h.lastErr != nil {
		st.LastError = h.lastErr.Error()
	}
	switch h.state {
	case StateStale:
		st.StaleSince = h.since
		if d := r.dropAt.Load(); d != 0 {
			st.DropsAt = time.Unix(0, d)
		}
	case StateUnavailable:
		st.UnavailableSince = h.since
	}
	return st
}

func (r *Remote) outagePolicy() string {
	if r.opts.MaxStaleness < 0 {
		return "while the JWKS cannot be fetched, the last good keys are served with no time limit " +
			"(MaxStaleness is negative: a key revoked at the provider stays valid until it answers again); " +
			"with no key held, tokens are refused with 503"
	}
	return fmt.Sprintf("while the JWKS cannot be fetched, the last good keys are served for up to %v after the last successful fetch, "+
		"then dropped; with no key held, tokens are refused with 503 (jwks_unavailable)", r.opts.MaxStaleness)
}
