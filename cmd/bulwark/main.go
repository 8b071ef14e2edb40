// Command bulwark is Bulwark's command line: the demo API, and the
// operator's tools.
//
//	bulwark demo [--addr 127.0.0.1:8000] [--redis URL] [--cors-origin ORIGIN ...]
//	             [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR ...]
//	bulwark serve --config FILE
//	bulwark check --config FILE [--resolve] [--json] [--explain "METHOD URL"]
//	bulwark token issue --key FILE --subject SUB [--role R] [--scope S] [--ttl D] [--aud A] [--iss I]
//	bulwark apikey new --scopes S[,S...] [--owner O] [--ttl D] [--prefix P]
//	bulwark apikey migrate --id LABEL --scopes S[,S...]   (the existing key on stdin)
//	bulwark hash-password            (asks on a terminal; reads one line from a pipe)
//	bulwark version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// version overrides the version the build records when set at build time
// with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks a command line that cannot be run as written
// (errors.Is): run prints the error's message on one line and exits 2.
var errUsage = errors.New("usage")

// cmdUsageError is a usage error of one command; its message names the
// command and where its flags are listed.
type cmdUsageError struct{ msg string }

func (e *cmdUsageError) Error() string        { return e.msg }
func (e *cmdUsageError) Is(target error) bool { return target == errUsage }

// usageError is a usage error of command cmd ("demo", "token issue").
func usageError(cmd, format string, a ...any) error {
	return &cmdUsageError{msg: fmt.Sprintf("bulwark %s: %s (see bulwark %s -h)", cmd, fmt.Sprintf(format, a...), cmd)}
}

// parseFlags parses args into fs. -h, -help and --help print fs.Usage on
// stdout and report help (exit 0); a bad flag or a stray argument is a
// one-line usage error.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard) // flag would print the whole usage after each error
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return true, nil
		}
		return false, usageError(fs.Name(), "%v", err)
	}
	if fs.NArg() != 0 {
		return false, usageError(fs.Name(), "unexpected argument %q", fs.Arg(0))
	}
	return false, nil
}

// printUsage returns a flag.FlagSet Usage function: head, then the flags.
func printUsage(fs *flag.FlagSet, head string) func() {
	return func() {
		fmt.Fprint(fs.Output(), head)
		fs.PrintDefaults()
	}
}

// versionLine describes the build: the version set with -ldflags, else the
// module version Go recorded (a tag with go install …@version, a
// pseudo-version when built in a clone, "(devel)" when Go knew none), then
// the commit, its time and whether the tree had local changes, when the
// build recorded them, and the Go version.
func versionLine(info *debug.BuildInfo) string {
	v := version
	if v == "" && info != nil {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "commit "+rev[:min(len(rev), 12)])
	}
	if when != "" {
		extra = append(extra, when)
	}
	if modified {
		extra = append(extra, "modified")
	}
	goVersion := runtime.Version()
	if info != nil && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	extra = append(extra, goVersion)
	return "bulwark " + v + " (" + strings.Join(extra, ", ") + ")"
}

func runVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = printUsage(fs, "Usage: bulwark version\n\nPrints the version, the commit and the Go version of this build.\n")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return nil
}

const usage = `bulwark — a security toolkit for Go HTTP APIs, and a gateway built from it

Usage:
  bulwark serve --config FILE    run the gateway: every guard in front of any upstream
  bulwark check --config FILE    validate and lint a gateway configuration
  bulwark demo [flags]           serve the reference API with every protection on
  bulwark apikey new [flags]     make an API key: prints the key once, and the record to store (its hash)
  bulwark hash-password          print the argon2id hash of a password (asked for, or one line of stdin)
  bulwark token issue [flags]    sign an access token (JWT) with a key file
  bulwark version                print the version

Run "bulwark COMMAND -h" for a command's flags.
`

// run executes one command and returns the process exit code: 0 success,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "check":
		err = runCheck(args[1:], stdout, stderr)
	case "token":
		err = runToken(args[1:], stdout)
	case "apikey":
		err = runAPIKey(args[1:], stdin, stdout, stderr)
	case "hash-password":
		err = runHashPassword(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		err = runVersion(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "bulwark: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, err)
		return 2
	default:
		fmt.Fprintln(stderr, "bulwark:", err)
		return 1
	}
}
