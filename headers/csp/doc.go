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
// application/csp-report and application/reports+json, bounds body size
// and request rate, and turns each report into an audit event, never
// reflecting report contents back.
package csp
