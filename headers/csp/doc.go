// Package csp builds Content-Security-Policy headers (CSP Level 3) from
// typed, validated directives, adds per-request nonces, sends a
// report-only policy beside the enforced one, and collects violation
// reports.
//
// # Building a policy
//
//	p, err := csp.New(csp.Options{
//		DefaultSrc: []string{csp.Self},
//		ScriptSrc:  []string{csp.StrictDynamic},
//		ObjectSrc:  []string{csp.None},
//		BaseURI:    []string{csp.None},
//		Nonce:      true,
//	})
//
// New refuses what browsers would silently misread: unquoted keywords
// ("self" is a host name to a browser: did you mean 'self'?), 'none'
// combined with other sources, keywords in directives where they have no
// effect, malformed schemes, hosts, ports, paths and hashes, fixed nonces,
// 'strict-dynamic' without a nonce or hash, and any character that could
// end a source, directive or header. ParseSource validates one source;
// Parse reads an existing header string into Options.
//
// New also refuses what lets an attacker's script run, so that a policy it
// builds is an XSS defence:
//
//   - javascript: anywhere (its URLs are inline script);
//   - in base-uri, form-action and frame-ancestors, any source that allows
//     every site: "*", the schemes http: and https:, "https://*";
//   - in the directives that decide which scripts run — script-src,
//     script-src-elem, script-src-attr, and default-src where script-src
//     is absent — "*", http:, https:, "https://*", data:, blob:,
//     filesystem: and 'unsafe-inline'. In a script directive holding
//     'strict-dynamic' and a nonce or hash, CSP Level 3 browsers ignore
//     the hosts, schemes and 'unsafe-inline', so Google's strict CSP,
//     "script-src 'nonce-…' 'strict-dynamic' 'unsafe-inline' https:", is
//     accepted with them as fallbacks for old browsers; 'unsafe-inline' is
//     also accepted beside a nonce or hash alone, which make CSP Level 2
//     browsers ignore it;
//   - in the directives that decide which plugins run — object-src, and
//     default-src where object-src is absent — the same sources but
//     'unsafe-inline' (plugins ignore it). The fallbacks are for scripts
//     only: these directives get no exemption for 'strict-dynamic', a
//     nonce or a hash. Set ObjectSrc to 'none'.
//
// Options.InsecureAllowScriptSources lifts the last two groups of
// refusals, for a legacy site that must ship such a policy while it moves
// to nonces; such a policy does not stop XSS.
//
// # Nonces
//
// With Options.Nonce, every response gets a fresh 128-bit nonce from
// crypto/rand in script-src (and script-src-elem, style-src,
// style-src-elem when set). Handlers read it with Nonce(r.Context()) for
// their <script nonce="…"> attributes. Pages with nonces must not be
// cached (the headers package sends Cache-Control: no-store).
//
// # Staged rollout and reports
//
// NewHeaders sends an enforced policy and a report-only policy side by
// side; both share one nonce. Reports go to report-to groups (defined by
// the Reporting-Endpoints header, see package headers) or report-uri
// URLs. Collector is the handler for those URLs: it accepts
// application/csp-report and application/reports+json, bounds body size,
// and turns each report into an audit event with the attributes
// directive, blocked_uri, document_host and disposition, never reflecting
// report contents back.
//
// Any page can post reports, so the collector is throttled by a rate
// limiter it is given (CollectorOptions.Limiter, required), asked before a
// body is read. Use a per-client limit, so that one client cannot crowd out
// everyone else's reports, and a global one, which bounds the audit log's
// volume, in one limiter:
//
//	limiter, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{
//		ratelimit.TokenBucket(5, 1).Named("csp-client").By(ratelimit.ByIP()),
//		ratelimit.TokenBucket(20, 10).Named("csp").By(ratelimit.Global()),
//	}})
//
// A limiter's limits are all-or-nothing, so a client over its own limit
// spends none of the global quota. ByIP keys by the client IP that the
// identity guard (package clientip) resolved, its /64 for IPv6, else the
// connection's peer address: behind a proxy, put the identity guard in
// front, or every client shares the proxy's quota. The limiter counts
// every request, before the method, media type or size is checked, so a
// flood of malformed requests is throttled like a flood of reports. A
// refused request gets the limiter's problem (429 with Retry-After), and
// the collector audits only the first refusal of a run by each limit,
// until the limiter admits a request again: a flood of reports is not a
// flood of audit events (each limit's refusal events never outnumber
// admitted requests by more than one), at the price of not naming every
// client refused while another was.
package csp
