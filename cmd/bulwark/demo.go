package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const demoUsage = `Usage: bulwark demo [flags]

Serves the reference API with every protection on. Its accounts are public:
never expose it to a network you do not control.

Environment (each optional; base64 of 32 random bytes, or the same name
with _FILE naming a file that holds it): BULWARK_DEMO_SIGNING_SEED,
BULWARK_DEMO_FINGERPRINT_KEY, BULWARK_DEMO_CSRF_KEY. Unset, each is drawn
at random, and with --redis shared through Redis: a demo-only fallback.

Flags:
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.Usage = printUsage(fs, demoUsage)
	addr := fs.String("addr", "127.0.0.1:8000", "address to listen on")
	redisURL := fs.String("redis", "", "Redis URL (redis:// or rediss://) for shared state; default: in memory")
	certFile := fs.String("tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	keyFile := fs.String("tls-key", "", "TLS private key file (PEM)")
	quiet := fs.Bool("quiet", false, "do not write the access log and audit events to stderr")
	var origins, proxies stringList
	fs.Var(&origins, "cors-origin", "an origin allowed to call the API from a browser (repeatable; default https://example.com)")
	fs.Var(&proxies, "trusted-proxy", "a proxy CIDR whose Forwarded/X-Forwarded-For headers are trusted (repeatable)")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageError("demo", "--tls-cert and --tls-key go together")
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	if *quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	app, err := demo.New(demo.Config{
		CORSOrigins:    origins,
		TrustedProxies: proxies,
		RedisURL:       *redisURL,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	defer app.Close()

	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20, // net/http's default; beyond it net/http answers a plain-text 431 itself
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),

		// OPTIONS * goes through the guards (security headers, request
		// ID, access log) to the demo's answer, not to net/http's bare 200.
		DisableGeneralOptionsHandler: true,
	}
	scheme := "http"
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("loading TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := scheme + "://" + ln.Addr().String()
	fmt.Fprint(stdout, demo.Banner(base, *redisURL != ""))

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "shutting down…")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
