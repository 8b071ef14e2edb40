// Package demo is the reference API of the seeds (Cello's security example,
// APIFromAnything's security guide, flask-xsrf, RestMachine's
// authentication guide and the bottle JWT post), served by `bulwark demo`
// with every Bulwark protection on.
//
// It exists to show the guards working together and to give acceptance
// tests a fixed target; its credentials are public and it says so loudly
// when it starts. State lives in memory unless Config.RedisURL is set.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/metrics"
	"github.com/bulwark-go/bulwark/panel"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Config configures the demo.
type Config struct {
	// CORSOrigins are the origins allowed to call the API from a browser,
	// with credentials. Default: https://example.com.
	CORSOrigins []string
	// TrustedProxies are CIDRs whose Forwarded / X-Forwarded-For headers
	// are believed. Default: none (the TCP peer is the client).
	TrustedProxies []string
	// RedisURL moves all state (rate limits, revocations, refresh token
	// families, abuse counters) to Redis. Default: in memory.
	RedisURL string
	// RedisPrefix is the key prefix in Redis. Default "bulwark-demo:".
	RedisPrefix string
	// RedisTimeout bounds every Redis command and rate-limit decision.
	// Default: the stores' own (redisstore.DefaultTimeout for state,
	// redislimit.DefaultTimeout for decisions).
	RedisTimeout time.Duration
	// MaxSessions bounds the live sessions (refresh-token families) kept
	// in memory without Redis; a login beyond it answers 503 until
	// sessions end. Default 100,000.
	MaxSessions int
	// Logger receives the access log and audit events. Default: discard.
	Logger *slog.Logger
	// Audit receives security events in addition to Logger. Optional.
	Audit audit.Sink
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// App is a running demo: its handler and the state behind it.
type App struct {
	cfg     Config
	handler http.Handler
	store   store.Store
	metrics *metrics.Metrics
	panel   *panel.Panel // GET /admin/security, fed by a.audit
	audit   audit.Sink
	logger  *slog.Logger
	data    *data
	items   *items
	headers *headers.Profile
	cors    *cors.CORS
	auth    *auth
	apiCSRF *csrf.Guard // the origin check on /api/*
	web     *webApp     // GET /app, /session/*, /app/*
	// tokenStore holds the revocation denylist (and, with Redis, the
	// refresh families): /readyz reports on it.
	tokenStore store.Store
	redis      breakers // the Redis stores' circuit breakers
	closers    []func() error
	once       sync.Once
}

// New builds the demo app.
func New(cfg Config) (*App, error) {
	if len(cfg.CORSOrigins) == 0 {
		cfg.CORSOrigins = []string{"https://example.com"}
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = "bulwark-demo:"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 100_000
	}
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: cfg.Logger, metrics: m, items: newItems()}
	// The security panel shows the requests per route that the metrics
	// count and, as the stores' state now, what /config/security says of
	// outages (a.auth exists by the time anyone asks).
	if a.panel, err = panel.New(panel.Options{
		Title:    "Bulwark demo: security",
		Gatherer: m.Registry(),
		Status:   func(context.Context) any { return a.describeOutage() },
		Now:      cfg.Now,
	}); err != nil {
		return nil, err
	}
	// Every audit event is counted (metrics), kept for the panel, then
	// logged and handed to Config.Audit.
	a.audit = a.metrics.Sink(a.panel.Sink(fanout{audit.NewSlog(cfg.Logger), audit.OrNop(cfg.Audit)}))

	if cfg.RedisURL != "" {
		st, err := redisstore.Open(redisstore.Options{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix, Timeout: cfg.RedisTimeout, Now: cfg.Now, OnReset: a.stateReset("state"), Audit: a.storeAudit("state")})
		if err != nil {
			return nil, fmt.Errorf("demo: redis: %w", err)
		}
		a.store = st
	} else {
		a.store = memstore.New(memstore.Options{Now: cfg.Now})
	}
	a.closers = append(a.closers, a.store.Close)

	if a.data, err = newData(); err != nil {
		return nil, err
	}
	h, err := a.build()
	if err != nil {
		_ = a.Close()
		return nil, err
	}
	a.handler = h
	return a, nil
}

// Handler returns the demo's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the app's state (store connections, background work).
func (a *App) Close() error {
	var errs []error
	a.once.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			errs = append(errs, a.closers[i]())
		}
	})
	return errors.Join(errs...)
}

// fanout sends each event to several sinks.
type fanout []audit.Sink

func (f fanout) Record(ctx context.Context, e *audit.Event) {
	for _, s := range f {
		s.Record(ctx, e)
	}
}

// writeJSON sends v as application/json with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = io.WriteString(w, "\n")
}

// deny writes p through the demo's audited denier for guard.
func (a *App) deny(guard string) problem.Denier {
	return problem.Denier{Guard: guard, Audit: a.audit}
}

// readyz is GET /readyz: 200 when the token store answers, else a 503
// problem. With Redis it also says when the store's state began and how
// many times this process has seen Redis come back empty (state_resets):
// each reset logged every user out (see redisstore, "Lost state").
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ready"}
	if _, _, err := a.tokenStore.Get(r.Context(), "readyz"); err != nil {
		a.deny("readyz").Deny(w, r, problem.Unavailable(time.Second, "the token store is not answering").WithReason("store_unavailable").WithErr(err))
		return
	}
	if rs, ok := a.tokenStore.(*redisstore.Store); ok {
		body["store"] = "redis"
		body["state_since"] = rs.StateSince().UTC().Format(time.RFC3339)
		body["state_resets"] = rs.Resets()
	} else {
		body["store"] = "memory"
	}
	writeJSON(w, http.StatusOK, body)
}
