package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/gateway"
)

const serveUsage = `Usage: bulwark serve --config FILE

Runs the gateway the configuration file (YAML or JSON; see
gateway/schema.json) describes: every route's guards in front of its
upstream, /healthz, /readyz and /metrics on the separate admin listener.
SIGHUP, or a change of the file, reloads it: a valid configuration
replaces the running one without dropping a request, an invalid one is
refused (the reason is logged) and the running one keeps serving.
SIGINT/SIGTERM shut down gracefully.

`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = printUsage(fs, serveUsage)
	config := fs.String("config", "", "the gateway configuration file (required)")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *config == "" {
		return usageError("serve", "--config is required")
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	srv, err := gateway.NewServer(gateway.ServerOptions{ConfigPath: *config, Logger: logger})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

const checkUsage = `Usage: bulwark check --config FILE [--resolve] [--json] [--explain "METHOD URL" [--explain-header "Name: value" ...]]

Validates a gateway configuration — strict decoding (unknown keys are
errors with file:line:column), then every guard built as serve builds it —
and lints it for security: each finding has a severity and a stable code.
Exits 1 when the configuration is invalid or a finding is an error.
Secret references (${ENV}, *_file) are checked by form only, unless
--resolve is given: then they are read, and the listeners' TLS
certificates, keys and client CAs are loaded as serve loads them.
--explain prints the guards a request would meet, in order, and its
upstream, then the findings; --explain-header adds a request header (a
CORS preflight is "OPTIONS URL" with --explain-header
"Access-Control-Request-Method: POST").

`

// headerFlags collects repeated "Name: value" flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error {
	name, _, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	*h = append(*h, v)
	return nil
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.Usage = printUsage(fs, checkUsage)
	config := fs.String("config", "", "the gateway configuration file (required)")
	resolve := fs.Bool("resolve", false, "read the secrets references name, load the TLS material, and check them")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	explain := fs.String("explain", "", `explain a request: "METHOD URL", e.g. "GET https://api.example.com/v1/items"`)
	var hdrs headerFlags
	fs.Var(&hdrs, "explain-header", `a header of the request --explain describes, "Name: value" (repeatable)`)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *config == "" {
		return usageError("check", "--config is required")
	}
	if len(hdrs) > 0 && *explain == "" {
		return usageError("check", "--explain-header goes with --explain")
	}
	h := http.Header{}
	for _, v := range hdrs {
		name, val, _ := strings.Cut(v, ":")
		h.Add(strings.TrimSpace(name), strings.TrimSpace(val))
	}
	return checkConfig(*config, *resolve, *asJSON, *explain, h, gateway.EnvResolver, stdout)
}

// errFindings reports a configuration with error findings (already printed).
var errFindings = errors.New("the configuration has errors")

func checkConfig(path string, resolve, asJSON bool, explain string, explainHeader http.Header, res gateway.Resolver, stdout io.Writer) error {
	cfg, err := gateway.LoadFile(path)
	if err != nil {
		return err
	}
	lo := gateway.LintOptions{}
	if resolve {
		lo.Resolve = res
	}
	findings := gateway.Lint(cfg, lo)
	// invalid adds a finding for err, unless the lint already reported
	// the same unreadable secret.
	invalid := func(err error) {
		if se, ok := errors.AsType[*gateway.SecretError](err); ok {
			for _, f := range findings {
				if f.Code == gateway.CodeUnresolvedSecret && f.Message == se.Msg && (f.Path == se.Field || strings.HasSuffix(f.Path, "."+se.Field)) {
					return
				}
			}
		}
		findings = append([]gateway.Finding{{Code: gateway.CodeInvalid, Severity: gateway.SeverityError, Path: path, Message: err.Error()}}, findings...)
	}
	// Build every guard as serve would; without --resolve, references
	// are given stand-in values of a valid length, so that only their
	// form is checked.
	buildRes := res
	if !resolve {
		buildRes = func(string) (string, bool) { return strings.Repeat("x", 64), true }
	}
	tel, err := gateway.NewTelemetry(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		return err
	}
	g, err := gateway.Build(cfg, gateway.BuildOptions{Telemetry: tel, Resolve: buildRes})
	if err != nil {
		invalid(err)
	}
	if g != nil {
		defer g.Close(0)
	}
	if resolve {
		if err := gateway.CheckListeners(cfg, res); err != nil {
			invalid(err)
		}
	}
	failed := false
	for _, f := range findings {
		failed = failed || f.Severity == gateway.SeverityError
	}
	if explain != "" && g != nil {
		method, u, ok := strings.Cut(strings.TrimSpace(explain), " ")
		if !ok {
			return usageError("check", `--explain wants "METHOD URL"`)
		}
		out, err := g.Explain(strings.ToUpper(method), strings.TrimSpace(u), explainHeader)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, out)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []gateway.Finding{}
		}
		enc.Encode(findings)
	} else {
		for _, f := range findings {
			fmt.Fprintln(stdout, f)
		}
		if !failed {
			fmt.Fprintf(stdout, "%s: ok (%d routes)\n", path, len(cfg.Routes))
		}
	}
	if failed {
		return errFindings
	}
	return nil
}
