package gateway

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/problem"
)

// Listener and admin defaults.
const (
	DefaultAdminAddr         = "127.0.0.1:9090"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 30 * time.Second
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// ConfigPath is the configuration file; it is re-read on Reload, on
	// SIGHUP and (with WatchInterval) when it changes. Required.
	ConfigPath string
	// Logger receives operational messages and, unless AuditSink is set,
	// the audit log's destination is decided by the config. Default
	// slog.Default().
	Logger *slog.Logger
	// AuditSink, when set, replaces the config's audit file (tests).
	AuditSink audit.Sink
	// Resolve reads secret references. Default EnvResolver.
	Resolve Resolver
	// WatchInterval polls the configuration file for changes; 0: 2s,
	// negative: no polling (SIGHUP and Reload only).
	WatchInterval time.Duration
	// Listener and AdminListener, when set, are used instead of listening
	// on the configured addresses (tests; socket activation).
	Listener, AdminListener net.Listener
}

// Server runs the gateway: the public listener, the admin listener and hot
// reloads. Build one with NewServer, then call Run.
type Server struct {
	o       ServerOptions
	tel     *Telemetry
	current atomic.Pointer[Gateway]
	mu      sync.Mutex // serialises reloads
	modTime time.Time
	public  *http.Server
	admin   *http.Server
	auditF  *os.File
	reloads atomic.Uint64
}

// NewServer loads and builds the configuration; an invalid one is an error.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Resolve == nil {
		o.Resolve = EnvResolver
	}
	cfg, err := LoadFile(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o}
	sink := o.AuditSink
	if sink == nil {
		w := os.Stderr
		if f := cfg.Log.AuditFile; f != "" && f != "-" {
			af, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return nil, fmt.Errorf("log.audit_file: %w", err)
			}
			s.auditF, w = af, af
		}
		sink = audit.NewJSONLines(w)
	}
	if s.tel, err = NewTelemetry(o.Logger, sink); err != nil {
		return nil, err
	}
	if err := s.lint(cfg); err != nil {
		return nil, err
	}
	g, err := Build(cfg, BuildOptions{Telemetry: s.tel, Resolve: o.Resolve})
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(o.ConfigPath); err == nil {
		s.modTime = fi.ModTime()
	}
	s.current.Store(g)
	s.tel.serving.Store(g)
	return s, nil
}

// A LintError is a configuration refused for its error-level lint
// findings (the ones `bulwark check` reports).
type LintError struct {
	File     string
	Findings []Finding // severity error only
}

func (e *LintError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d lint error(s); `bulwark check --config %s` explains them", e.File, len(e.Findings), e.File)
	for _, f := range e.Findings {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	return b.String()
}

// lint runs the security lint serve shares with `bulwark check`, secrets
// resolved: error findings refuse the configuration, warnings are logged
// (once per load).
func (s *Server) lint(cfg *Config) error {
	var errs []Finding
	for _, f := range Lint(cfg, LintOptions{Resolve: s.o.Resolve}) {
		switch f.Severity {
		case SeverityError:
			errs = append(errs, f)
		case SeverityWarning:
			s.o.Logger.Warn("gateway: lint", "code", f.Code, "path", f.Path, "message", f.Message)
		}
	}
	if len(errs) > 0 {
		return &LintError{File: s.o.ConfigPath, Findings: errs}
	}
	return nil
}

// Gateway returns the configuration being served.
func (s *Server) Gateway() *Gateway { return s.current.Load() }

// Telemetry returns the server's metrics and audit chain.
func (s *Server) Telemetry() *Telemetry { return s.tel }

// Reloads counts successful reloads.
func (s *Server) Reloads() uint64 { return s.reloads.Load() }

// Reload re-reads the configuration file. A valid one replaces the
// current configuration: requests already in flight finish on the old one,
// new ones meet the new one, and stateful guards whose definition did not
// change are carried over with their state. An invalid one is refused with
// the reason returned (and logged); the current configuration keeps
// serving. Listener, admin and log sections take effect on restart only.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fi, err := os.Stat(s.o.ConfigPath); err == nil {
		s.modTime = fi.ModTime()
	}
	old := s.current.Load()
	cfg, err := LoadFile(s.o.ConfigPath)
	if err == nil {
		err = s.lint(cfg)
	}
	if err == nil {
		var g *Gateway
		if g, err = Build(cfg, BuildOptions{Telemetry: s.tel, Resolve: s.o.Resolve, Previous: old}); err == nil {
			if cfg.Listen != old.cfg.Listen || fmt.Sprint(cfg.Admin) != fmt.Sprint(old.cfg.Admin) || cfg.Log != old.cfg.Log {
				s.o.Logger.Warn("gateway: listen, admin and log changes take effect on restart")
			}
			s.current.Store(g)
			s.tel.serving.Store(g)
			s.reloads.Add(1)
			s.o.Logger.Info("gateway: configuration reloaded", "file", s.o.ConfigPath)
			go old.Close(time.Minute)
			return nil
		}
	}
	s.o.Logger.Error("gateway: reload refused; the previous configuration keeps serving", "file", s.o.ConfigPath, "error", err)
	return err
}

// ServeHTTP serves a request with the current configuration. A request
// that meets a configuration being closed (replaced by a reload an instant
// ago) takes the new one.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		g := s.current.Load()
		if g.acquire() {
			defer g.release()
			g.handler.ServeHTTP(w, r)
			return
		}
		if s.current.Load() == g { // shutting down: nothing newer to take
			g.ServeHTTP(w, r)
			return
		}
	}
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to the shutdown timeout)
// and releases every guard.
func (s *Server) Run(ctx context.Context) error {
	cfg := s.current.Load().cfg
	// Everything is checked before anything is bound: a configuration
	// the admin listener would refuse never serves a public request.
	plan, err := planListeners(cfg, s.o.Resolve, true, s.o.AdminListener != nil)
	if err != nil {
		return err
	}
	l := cfg.Listen
	s.public = &http.Server{
		Handler:                      s,
		ReadHeaderTimeout:            orDefault(l.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:                  l.ReadTimeout,
		IdleTimeout:                  orDefault(l.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:               l.MaxHeaderBytes,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelDebug),
	}
	if s.public.MaxHeaderBytes == 0 {
		s.public.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	ln := s.o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", l.Addr); err != nil {
			return err
		}
	}
	var aln net.Listener
	if !plan.adminOff {
		if aln = s.o.AdminListener; aln == nil {
			if aln, err = net.Listen("tcp", plan.adminAddr); err != nil {
				ln.Close()
				return fmt.Errorf("admin: %w", err)
			}
		}
	}
	if plan.publicTLS != nil {
		ln = tls.NewListener(ln, plan.publicTLS)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.public.Serve(ln) }()
	s.o.Logger.Info("gateway: serving", "addr", ln.Addr().String(), "tls", l.TLS != nil)
	if aln != nil {
		s.startAdmin(plan, aln, errc)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if s.o.WatchInterval >= 0 {
		t := time.NewTicker(orDefault(s.o.WatchInterval, 2*time.Second))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return s.shutdown(cfg)
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				continue
			}
			s.shutdown(cfg)
			return err
		case <-hup:
			s.Reload()
		case <-tick:
			if fi, err := os.Stat(s.o.ConfigPath); err == nil && !fi.ModTime().Equal(s.modTime) {
				s.Reload()
			}
		}
	}
}

func (s *Server) shutdown(cfg *Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(cfg.Listen.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	err := s.public.Shutdown(ctx)
	if s.admin != nil {
		s.admin.Shutdown(ctx)
	}
	s.current.Load().Close(time.Second)
	if s.auditF != nil {
		s.auditF.Close()
	}
	return err
}

// listenPlan is the listeners' settings, checked and loaded before any
// is bound.
type listenPlan struct {
	publicTLS  *tls.Config
	adminOff   bool
	adminAddr  string
	adminToken string
	adminTLS   *tls.Config
}

// CheckListeners checks the listener and admin sections as serve does
// before it binds anything: the admin address, its authentication beyond
// loopback, its token resolved through res, and every TLS certificate,
// key and client CA loaded. `bulwark check --resolve` runs it.
func CheckListeners(cfg *Config, res Resolver) error {
	_, err := planListeners(cfg, res, true, false)
	return err
}

// planListeners checks cfg's listener and admin sections; with load, it
// resolves the admin token and loads the TLS material. adminGiven: the
// admin listener is provided (tests), so its address is not checked.
func planListeners(cfg *Config, res Resolver, load, adminGiven bool) (*listenPlan, error) {
	plan := &listenPlan{}
	if cfg.Listen.TLS != nil && load {
		tc, err := serverTLS(cfg.Listen.TLS)
		if err != nil {
			return nil, fmt.Errorf("listen.tls: %w", err)
		}
		plan.publicTLS = tc
	}
	a := cfg.Admin
	if a.Addr == "off" && !adminGiven {
		plan.adminOff = true
		return plan, nil
	}
	plan.adminAddr = a.Addr
	if plan.adminAddr == "" {
		plan.adminAddr = DefaultAdminAddr
	}
	if !adminGiven && samePort(plan.adminAddr, cfg.Listen.Addr) {
		return nil, errors.New("admin.addr: the admin listener must not share the public listener's address")
	}
	if load {
		if a.Token != "" {
			t, err := res.expand("admin.token", a.Token)
			if err != nil {
				return nil, err
			}
			plan.adminToken = t
		} else if a.TokenFile != "" {
			t, err := readSecretFile("admin.token_file", a.TokenFile)
			if err != nil {
				return nil, err
			}
			plan.adminToken = t
		}
	}
	authed := a.Token != "" || a.TokenFile != "" || (a.TLS != nil && a.TLS.ClientCAFile != "")
	if !adminGiven && !isLoopback(plan.adminAddr) && !authed {
		return nil, errors.New("admin: bound beyond loopback, it needs a token (admin.token) or mTLS (admin.tls.client_ca_file)")
	}
	if a.TLS != nil && load {
		tc, err := serverTLS(a.TLS)
		if err != nil {
			return nil, fmt.Errorf("admin.tls: %w", err)
		}
		plan.adminTLS = tc
	}
	return plan, nil
}

// startAdmin serves /healthz, /readyz and /metrics on the admin listener.
func (s *Server) startAdmin(plan *listenPlan, ln net.Listener, errc chan<- error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.current.Load().Ready(r.Context()); err != nil {
			problem.Write(w, r, problem.Unavailable(time.Second, "not ready: a required store does not answer").WithErr(err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", s.tel.Metrics.Exposition())
	mux.Handle("GET /security", s.tel.Panel) // the admin listener's own authentication (below) guards it
	var h http.Handler = mux
	if plan.adminToken != "" {
		h = adminTokenRequired(mux, plan.adminToken)
	}
	s.admin = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	if plan.adminTLS != nil {
		ln = tls.NewListener(ln, plan.adminTLS)
	}
	go func() { errc <- s.admin.Serve(ln) }()
	s.o.Logger.Info("gateway: admin listener", "addr", ln.Addr().String())
}

// serverTLS is a listener's TLS configuration: the certificate reloaded
// when its files change (checked at most once a second, on handshakes),
// and a client CA for mTLS.
func serverTLS(c *ServerTLS) (*tls.Config, error) {
	cr := &certReloader{cert: c.CertFile, key: c.KeyFile}
	if err := cr.load(); err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get, NextProtos: []string{"h2", "http/1.1"}}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client_ca_file %s: no PEM certificate in it", c.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

type certReloader struct {
	cert, key string
	mu        sync.Mutex
	current   *tls.Certificate
	mtime     time.Time
	checked   time.Time
}

func (c *certReloader) stamp() time.Time {
	var t time.Time
	for _, f := range []string{c.cert, c.key} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t
}

func (c *certReloader) load() error {
	mt := c.stamp()
	cert, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return err
	}
	c.current, c.mtime = &cert, mt
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= time.Second {
		c.checked = now
		if mt := c.stamp(); !mt.Equal(c.mtime) {
			// A half-written pair fails to load: keep the old one
			// and retry on a later handshake.
			if err := c.load(); err != nil {
				slog.Warn("gateway: certificate reload failed; keeping the previous certificate", "error", err)
			}
		}
	}
	return c.current, nil
}

// adminTokenRequired lets through requests that present the admin token:
// as a bearer token (scripts, Prometheus), or as the password of HTTP
// Basic credentials with any user name, so that a browser, which cannot
// send a bearer token by itself, can open /security after its own prompt.
// Both comparisons take constant time.
func adminTokenRequired(next http.Handler, token string) http.Handler {
	want := []byte(token)
	challenge := problem.Challenge("Bearer", "bulwark-admin") + ", " + problem.Challenge("Basic", "bulwark-admin", "charset", "UTF-8")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got []byte
		if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
			got = []byte(auth[7:])
		} else if _, pw, ok := r.BasicAuth(); ok {
			got = []byte(pw)
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			problem.Write(w, r, problem.Unauthorized(problem.TypeUnauthorized, challenge, "a valid admin token is required"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
