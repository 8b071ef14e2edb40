// Package shared is what the framework examples (stdlib, chi, gin, echo)
// have in common: the policy, the start-up code and, in exampletest, the
// tests every example passes.
//
// The point of the examples is that the same policy works around any
// router: NewGuards builds Bulwark's guards once, without a word about
// routing, and each example's app.go only wires them into its router — the
// site policy around the router, a route policy on each route, and, where
// the router needs one, a small adapter that names the route for the
// access log and the metrics.
package shared

import (
	"errors"
	"log/slog"
	"time"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/metrics"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/recovery"
)

// The token claims the examples' API accepts; Main and the tests issue
// tokens with them.
const (
	Issuer   = "https://example.test"
	Audience = "items-api"
)

// Config is what an example takes from its environment.
type Config struct {
	// Key verifies access tokens (HS256). Required.
	Key *jwt.Key
	// Logger receives the access log and the audit events. Default: none.
	Logger *slog.Logger
	// AllowedOrigin may call the API from a browser, with credentials.
	// Default "https://app.example.com".
	AllowedOrigin string
	// ReadsPerMinute is how often one caller may list the items. Default 60.
	ReadsPerMinute int
}

// Guards are the Bulwark parts every example builds the same way, whatever
// the router: the site-wide policy around the router, and the per-route
// policies the router applies to its routes.
type Guards struct {
	// Site wraps the router: identity, access log, metrics, recovery,
	// headers, CORS, body cap.
	Site bulwark.Policy
	// Metrics' Exposition serves GET /metrics.
	Metrics *metrics.Metrics
	// List guards GET /api/items: JWT, a rate limit per caller, scope read.
	List bulwark.Policy
	// Read guards GET /api/items/{id}: JWT, scope read.
	Read bulwark.Policy
	// Remove guards DELETE /api/items/{id}: JWT, role admin.
	Remove bulwark.Policy
}

// NewGuards builds the guards of cfg, or says which option is wrong.
func NewGuards(cfg Config) (*Guards, error) {
	if cfg.Key == nil {
		return nil, errors.New("config: a JWT key is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AllowedOrigin == "" {
		cfg.AllowedOrigin = "https://app.example.com"
	}
	if cfg.ReadsPerMinute == 0 {
		cfg.ReadsPerMinute = 60
	}
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		return nil, err
	}
	sink := m.Sink(audit.NewSlog(logger)) // every denial: one audit line, counted
	identity, err := clientip.New(clientip.Options{Audit: sink})
	if err != nil {
		return nil, err
	}
	log, err := accesslog.New(accesslog.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	rec, err := recovery.New(recovery.Options{Logger: logger, Audit: sink})
	if err != nil {
		return nil, err
	}
	hdrs, err := headers.New(headers.API())
	if err != nil {
		return nil, err
	}
	crs, err := cors.New(cors.Options{
		AllowedOrigins:   []string{cfg.AllowedOrigin},
		AllowedMethods:   []string{"GET", "POST", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-ID"},
		AllowCredentials: true,
		Audit:            sink,
	})
	if err != nil {
		return nil, err
	}
	body, err := bodylimit.New(bodylimit.Options{MaxBytes: 64 << 10, Audit: sink})
	if err != nil {
		return nil, err
	}
	verifier, err := jwt.NewVerifier(jwt.VerifierOptions{
		Keys:     []*jwt.Key{cfg.Key},
		Issuers:  []string{Issuer},
		Audience: []string{Audience},
		Type:     jwt.TypeAccess,
	})
	if err != nil {
		return nil, err
	}
	authGuard, err := authn.New(authn.Options{Authenticator: verifier, Realm: "items", Audit: sink})
	if err != nil {
		return nil, err
	}
	az, err := authz.New(authz.Options{Realm: "items", Audit: sink})
	if err != nil {
		return nil, err
	}
	listLimit, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.FixedWindow(cfg.ReadsPerMinute, time.Minute).Named("items-list").By(ratelimit.ByPrincipal())},
		Audit:  sink,
	})
	if err != nil {
		return nil, err
	}
	return &Guards{
		Site: bulwark.Policy{
			Identity:  identity.Handler,
			AccessLog: log.Handler,
			Metrics:   m.Handler,
			Recovery:  rec.Handler,
			Headers:   hdrs.Handler,
			CORS:      crs.Handler,
			BodyLimit: body.Handler,
		},
		Metrics: m,
		List:    bulwark.Policy{Authn: authGuard.Require, PostAuthLimits: listLimit.Handler, Authz: az.RequireScope("read")},
		Read:    bulwark.Policy{Authn: authGuard.Require, Authz: az.RequireScope("read")},
		Remove:  bulwark.Policy{Authn: authGuard.Require, Authz: az.RequireRole("admin")},
	}, nil
}
