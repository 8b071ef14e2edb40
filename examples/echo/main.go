// Command echo serves a small JSON API on a labstack/echo server with
// Bulwark's guards: the site policy (client identity, access log, metrics,
// panic recovery, security headers, CORS, a body cap) around the router, and
// per route a JWT, a rate limit and a scope or role.
//
//	go run .
//
// serves on 127.0.0.1:8080 and prints tokens to call it with (shared.Main).
// The policy is shared.NewGuards, the same for every example; app.go is
// what this router needs to carry it.
package main

import "github.com/bulwark-go/bulwark/examples/shared"

func main() { shared.Main(New) }
