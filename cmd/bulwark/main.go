// Command bulwark is Bulwark's command line: the demo API, and the
// operator's tools.
//
//	bulwark demo [--addr 127.0.0.1:8000] [--redis URL] [--cors-origin ORIGIN ...]
//	             [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR ...]
//	bulwark token issue --key FILE --subject SUB [--role R] [--scope S] [--ttl D] [--aud A] [--iss I]
//	bulwark hash-password            (reads the password from stdin)
//	bulwark version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks errors whose message is a usage text.
var errUsage = errors.New("usage")

const usage = `bulwark — a security toolkit for Go HTTP APIs (the gateway built from it is planned)

Usage:
  bulwark demo [flags]           serve the reference API with every protection on
  bulwark hash-password          print an argon2id hash of a password read from stdin
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
	case "token":
		err = runToken(args[1:], stdout, stderr)
	case "hash-password":
		err = runHashPassword(args[1:], stdin, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "bulwark", version)
	case "help", "-h", "--help":
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
