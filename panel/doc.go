// Package panel is a live security panel: a small admin page showing what
// Bulwark's guards are deciding right now, fed by the audit stream every
// guard already writes to.
//
//	p, err := panel.New(panel.Options{Gatherer: m.Registry()})
//	if err != nil { … }
//	sink := m.Sink(p.Sink(audit.NewSlog(logger))) // give the guards this sink
//	mux.Handle("GET /admin/security", adminOnly(p)) // never without authorization
//
// The page shows, for the last hour:
//
//   - denials per guard and reason, and per minute as a bar chart;
//   - the most refused clients: the principal ("jwt:alice") of a denial
//     that came after authentication, else the client IP;
//   - rate-limit saturation: 429s per policy (the binding limit that
//     package ratelimit names in each denial's cause), and, with
//     Options.Gatherer, requests and 429s per route from package metrics;
//   - store health and outage-policy decisions: the events a Redis store's
//     circuit breaker, a rate limiter's outage policy or a remote key set
//     records when it degrades and recovers, and, with Options.Status, the
//     application's own view of its stores now;
//   - the most recent audit events.
//
// The page is server-rendered HTML (html/template) under the HTML header
// profile of package headers, with a nonce-based CSP: its one style sheet
// and one script are inline, carry the response's nonce, and load nothing
// else. The script asks for the same URL with ?format=json every
// Options.Refresh and redraws the tables with textContent, never as HTML.
// The JSON is the Snapshot type, for scripts and tests as much as for the
// page.
//
// # Authorization is the application's job
//
// ServeHTTP checks no credentials. The page names client addresses,
// principals and request IDs, and shows which guards refuse what — an
// attacker's map. Mount it only behind authentication and an admin-only
// authorization check (authn's Require and authz's RequireRole), as the
// demo mounts it at GET /admin/security, or on a listener only operators
// reach, as the gateway's admin listener does.
//
// # Bounded memory
//
// However many requests, clients and reasons arrive, the panel keeps:
// 60 minute buckets of counts, each at most 256 distinct guard/reason/policy
// combinations (more count under "(other)"); Options.MaxClients counters of
// refused clients (the space-saving algorithm: a client refused more than
// 1/MaxClients of the time is always among them, and each count is at most
// its "over" column too high), in two epochs of an hour each; the last
// Options.RecentEvents events, every field cut and escaped as package audit
// cuts a log line; and at most 64 store-health rows. With the defaults that
// is well under a megabyte.
//
// # Secrets
//
// Audit events carry no secrets by contract. The panel redacts anyway: an
// event attribute whose name suggests a credential (token, password,
// secret, cookie, authorization, key, …) is shown as [redacted],
// and so is anything in a value that looks like a JWT or follows "Bearer ".
// Every client-supplied value (method, path, principal) passes through the
// same sanitising as the audit log: control and invisible characters are
// escaped, long values cut.
package panel
