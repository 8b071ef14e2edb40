package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Severity ranks a lint finding. Findings of SeverityError make `bulwark
// check` exit non-zero.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one lint result. Code is stable: scripts and suppressions key
// by it.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"` // where in the file, e.g. authenticators.api.jwt.keys[0].secret
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s: %s", f.Severity, f.Code, f.Path, f.Message)
}

// The lint codes.
const (
	CodeInlineSecret         = "inline-secret"
	CodeShortSecret          = "short-secret"
	CodeUnresolvedSecret     = "unresolved-secret"
	CodeCORSWildcardCreds    = "cors-wildcard-credentials"
	CodeJWTNoAlgAllowlist    = "jwt-no-alg-allowlist"
	CodeJWTNoExp             = "jwt-exp-not-required"
	CodeForwardedTrustAll    = "forwarded-trust-all"
	CodeMetricsOnPublic      = "metrics-on-public-listener"
	CodeAdminUnauthed        = "admin-unauthenticated"
	CodeLoginNoRateLimit     = "login-no-rate-limit"
	CodeUpstreamPlaintext    = "upstream-plaintext"
	CodeShadowMode           = "shadow-mode"
	CodePublicNoTLS          = "public-listener-plaintext"
	CodeRouteUnauthenticated = "route-unauthenticated"
	CodeInvalid              = "invalid"
	CodeSessionInsecure      = "session-insecure-cookie"
	CodeSessionSameSiteNone  = "session-samesite-none"
	CodeSessionCookieStore   = "session-cookie-store"
	CodeCookieAuthNoCSRF     = "cookie-auth-no-csrf"
	CodeCSRFOriginWildcard   = "csrf-trusted-origin-wildcard"
	CodeAPIKeyInQuery        = "apikey-in-query"
	CodeBasicPlaintext       = "basic-over-plaintext"
	CodeIntrospectCacheLong  = "introspect-cache-long"
	CodeAbuseSpoofableKey    = "abuse-spoofable-key"
	CodeExampleMaterial      = "example-material"
	CodeCredentialsForwarded = "credentials-forwarded"
)

// LintOptions tune Lint.
type LintOptions struct {
	// Resolve reads the secrets references name (checking they exist and
	// are long enough); nil checks references by form only.
	Resolve Resolver
}

// LintRule is one check over a decoded configuration; a guard joining the
// gateway adds its checks to LintRules.
type LintRule func(cfg *Config, o LintOptions) []Finding

// LintRules are the checks Lint runs, in order.
var LintRules = []LintRule{
	lintSecrets, lintCORS, lintJWT, lintForwarded, lintAdmin, lintListener, lintRoutes, lintUpstreams,
	lintGuardSecrets, lintSessions, lintCookieRoutes, lintCSRF, lintAuthenticators, lintAbuse,
	lintExampleMaterial,
}

// Lint runs LintRules over cfg and returns the findings, errors first.
func Lint(cfg *Config, o LintOptions) []Finding {
	var out []Finding
	for _, rule := range LintRules {
		out = append(out, rule(cfg, o)...)
	}
	rank := map[Severity]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	return out
}

// MinSecretLen is the shortest secret the lint accepts: 32 bytes.
const MinSecretLen = 32

func lintSecrets(cfg *Config, o LintOptions) []Finding {
	var out []Finding
	ref := func(path, v string, minLen int) {
		if v == "" {
			return
		}
		if !isRef(v) {
			out = append(out, Finding{CodeInlineSecret, SeverityError, path,
				`secrets are given by reference only: "${ENV_VAR}", or the matching *_file field`})
			return
		}
		if o.Resolve != nil {
			s, err := o.Resolve.expand(path, v)
			switch {
			case err != nil:
				out = append(out, secretFinding(path, err))
			case len(s) < minLen:
				out = append(out, Finding{CodeShortSecret, SeverityError, path,
					fmt.Sprintf("the secret is %d bytes; use at least %d random bytes", len(s), minLen)})
			}
		}
	}
	for _, name := range sortedKeys(cfg.Authenticators) {
		a := cfg.Authenticators[name]
		if a.JWT == nil {
			continue
		}
		for i, k := range a.JWT.Keys {
			p := fmt.Sprintf("authenticators.%s.jwt.keys[%d]", name, i)
			ref(p+".secret", k.Secret, MinSecretLen)
			if strings.Contains(k.PEM, "PRIVATE KEY") {
				out = append(out, Finding{CodeInlineSecret, SeverityError, p + ".pem", "a private key inline; verification needs the public key only (or use pem_file)"})
			}
			if jwkHasPrivate(k.JWK) {
				out = append(out, Finding{CodeInlineSecret, SeverityError, p + ".jwk", "a private or symmetric JWK inline; use jwk_file or the public key"})
			}
			if o.Resolve != nil && k.SecretFile != "" {
				if s, err := readSecretFile(p+".secret_file", k.SecretFile); err != nil {
					out = append(out, secretFinding(p+".secret_file", err))
				} else if k.SecretEncoding == "" && len(s) < MinSecretLen {
					out = append(out, Finding{CodeShortSecret, SeverityError, p + ".secret_file",
						fmt.Sprintf("the secret is %d bytes; use at least %d random bytes", len(s), MinSecretLen)})
				}
			}
		}
	}
	if cfg.Redis != nil {
		if u, err := url.Parse(cfg.Redis.URL); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" && !isRef(pw) {
				out = append(out, Finding{CodeInlineSecret, SeverityError, "redis.url", `the password is inline; write it as "${REDIS_PASSWORD}"`})
			}
		} else if err != nil && !strings.Contains(cfg.Redis.URL, "${") {
			out = append(out, Finding{CodeInvalid, SeverityError, "redis.url", err.Error()})
		}
	}
	ref("admin.token", cfg.Admin.Token, 16)
	return out
}

func jwkHasPrivate(s string) bool {
	return regexp.MustCompile(`"(d|k|p|q|dp|dq|qi)"\s*:`).MatchString(s)
}

func lintCORS(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.CORS) {
		c := cfg.CORS[name]
		if c.AllowCredentials && (slices.Contains(c.AllowedOrigins, "*") || c.AllowNullOrigin ||
			slices.Contains(c.AllowedHeaders, "*") || slices.Contains(c.AllowedMethods, "*")) {
			out = append(out, Finding{CodeCORSWildcardCreds, SeverityError, "cors." + name,
				"a wildcard (or null origin) with allow_credentials lets any site read credentialed responses; list the origins"})
		}
	}
	return out
}

func lintJWT(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.Authenticators) {
		j := cfg.Authenticators[name].JWT
		if j == nil {
			continue
		}
		p := "authenticators." + name + ".jwt"
		if len(j.Algorithms) == 0 {
			sev := SeverityWarning
			if j.JWKS != nil {
				sev = SeverityError
			}
			out = append(out, Finding{CodeJWTNoAlgAllowlist, sev, p + ".algorithms",
				"no algorithm allowlist: list the algorithms your issuer signs with (e.g. [RS256])"})
		}
		if j.RequiredClaims != nil && !slices.Contains(j.RequiredClaims, "exp") {
			out = append(out, Finding{CodeJWTNoExp, SeverityError, p + ".required_claims",
				`tokens without "exp" never expire; keep "exp" in required_claims`})
		}
	}
	return out
}

func lintForwarded(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	if cfg.ClientIP.TrustedHops > 0 {
		out = append(out, Finding{CodeForwardedTrustAll, SeverityWarning, "client_ip.trusted_hops",
			"trusted_hops believes forwarding headers from any peer; list trusted_proxies unless every path to the gateway crosses those proxies"})
	}
	all := false
	var prefixes []netip.Prefix
	for i, p := range cfg.ClientIP.TrustedProxies {
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				continue
			}
			pr = netip.PrefixFrom(a, a.BitLen())
		}
		if pr.Bits() == 0 {
			all = true
			out = append(out, Finding{CodeForwardedTrustAll, SeverityError, fmt.Sprintf("client_ip.trusted_proxies[%d]", i),
				"trusting every address lets any client choose its IP"})
		}
		prefixes = append(prefixes, pr.Masked())
	}
	if !all {
		v4, v6 := publicCoverage(prefixes)
		if v4 > MaxTrustedPublicIPv4 {
			out = append(out, Finding{CodeForwardedTrustAll, SeverityError, "client_ip.trusted_proxies",
				fmt.Sprintf("the trusted proxies cover %d public IPv4 addresses, more than a /8 (%d): clients there choose their IP; list your proxies' own ranges", v4, MaxTrustedPublicIPv4)})
		}
		if v6 {
			out = append(out, Finding{CodeForwardedTrustAll, SeverityError, "client_ip.trusted_proxies",
				fmt.Sprintf("the trusted proxies cover more public IPv6 space than a /%d: clients there choose their IP; list your proxies' own ranges", 128-MaxTrustedPublicIPv6Bits)})
		}
	}
	return out
}

// The most public address space trusted_proxies may cover before the
// forwarded-trust-all lint refuses it: a /8 of IPv4 (16.7 million
// addresses; no proxy fleet needs more) and a /32 of IPv6 (a whole
// provider allocation), in host bits. Private, loopback, link-local,
// shared (100.64/10), multicast and reserved IPv4 ranges do not count: a
// list of RFC 1918 ranges is the common, safe configuration behind a
// load balancer. For IPv6 only global unicast (2000::/3) counts.
const (
	MaxTrustedPublicIPv4     = 1 << 24
	MaxTrustedPublicIPv6Bits = 96
)

// nonPublicV4 are the disjoint IPv4 ranges that are not public.
var nonPublicV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("224.0.0.0/3"),
}

var globalV6 = netip.MustParsePrefix("2000::/3")

// publicCoverage returns how many public IPv4 addresses the prefixes
// cover, and whether the global unicast IPv6 addresses they cover are
// more than 2^MaxTrustedPublicIPv6Bits. IPv4-mapped IPv6 prefixes count
// as IPv4.
func publicCoverage(prefixes []netip.Prefix) (v4 int64, v6Over bool) {
	var p4, p6 []netip.Prefix
	for _, p := range prefixes {
		switch {
		case p.Addr().Is4():
			p4 = append(p4, p)
		case p.Addr().Is4In6() && p.Bits() >= 96:
			p4 = append(p4, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked())
		default:
			if p.Contains(netip.MustParseAddr("::ffff:0.0.0.0")) && p.Bits() <= 96 {
				p4 = append(p4, netip.MustParsePrefix("0.0.0.0/0"))
			}
			p6 = append(p6, p)
		}
	}
	for _, p := range outermost(p4) {
		n := int64(1) << (32 - p.Bits())
		for _, x := range nonPublicV4 {
			if o, ok := overlap(p, x); ok {
				n -= int64(1) << (32 - o.Bits())
			}
		}
		v4 += n
	}
	// IPv6: the sum of 2^hostbits of the disjoint parts inside 2000::/3,
	// in units of 2^(MaxTrustedPublicIPv6Bits-8) addresses so that it
	// fits an int64 (smaller parts are negligible against the bound).
	var units int64
	const unitBits = MaxTrustedPublicIPv6Bits - 8
	for _, p := range outermost(p6) {
		if o, ok := overlap(p, globalV6); ok {
			if hb := 128 - o.Bits(); hb >= unitBits {
				units += int64(1) << min(hb-unitBits, 40)
			}
		}
	}
	return v4, units > 1<<8
}

// overlap returns the intersection of two prefixes (CIDR ranges nest or
// are disjoint).
func overlap(a, b netip.Prefix) (netip.Prefix, bool) {
	switch {
	case a.Bits() >= b.Bits() && b.Contains(a.Addr()):
		return a, true
	case b.Bits() > a.Bits() && a.Contains(b.Addr()):
		return b, true
	}
	return netip.Prefix{}, false
}

// outermost drops the prefixes another one in the list contains (and
// duplicates), leaving disjoint ranges.
func outermost(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for i, p := range ps {
		inside := false
		for j, q := range ps {
			if i != j && q.Bits() <= p.Bits() && q.Contains(p.Addr()) && (q.Bits() < p.Bits() || j < i) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	return out
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func lintAdmin(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	a := cfg.Admin
	if a.Addr == "off" {
		return nil
	}
	addr := a.Addr
	if addr == "" {
		addr = DefaultAdminAddr
	}
	if samePort(addr, cfg.Listen.Addr) {
		out = append(out, Finding{CodeMetricsOnPublic, SeverityError, "admin.addr",
			"the admin listener (metrics, health) shares the public listener's address; give it its own, on loopback"})
	}
	if !isLoopback(addr) && a.Token == "" && a.TokenFile == "" && (a.TLS == nil || a.TLS.ClientCAFile == "") {
		out = append(out, Finding{CodeAdminUnauthed, SeverityError, "admin",
			"the admin listener is bound beyond loopback without a bearer token or mTLS"})
	}
	return out
}

func samePort(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb || pa == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wild(ha) || wild(hb)
}

// ExampleMarker marks key material published with an example; a listener
// key holding it draws a CodeExampleMaterial warning (files are read only
// when secrets are resolved).
const ExampleMarker = "EXAMPLE ONLY"

func lintExampleMaterial(cfg *Config, o LintOptions) []Finding {
	if o.Resolve == nil {
		return nil
	}
	var out []Finding
	for _, l := range []struct {
		path string
		tls  *ServerTLS
	}{{"listen.tls.key_file", cfg.Listen.TLS}, {"admin.tls.key_file", cfg.Admin.TLS}} {
		if l.tls == nil || l.tls.KeyFile == "" {
			continue
		}
		if b, err := os.ReadFile(l.tls.KeyFile); err == nil && strings.Contains(string(b), ExampleMarker) {
			out = append(out, Finding{CodeExampleMaterial, SeverityWarning, l.path,
				"this key is published with an example (marked " + ExampleMarker + "): anyone can impersonate this listener; make your own"})
		}
	}
	return out
}

func lintListener(cfg *Config, _ LintOptions) []Finding {
	if cfg.Listen.TLS == nil && cfg.Listen.Addr != "" && !isLoopback(cfg.Listen.Addr) &&
		len(cfg.ClientIP.TrustedProxies) == 0 && cfg.ClientIP.TrustedHops == 0 {
		return []Finding{{CodePublicNoTLS, SeverityWarning, "listen.tls",
			"the public listener serves plain HTTP and trusts no TLS-terminating proxy"}}
	}
	return nil
}

var loginLike = regexp.MustCompile(`(?i)(log-?in|sign-?in|/token|/oauth|/auth\b|/auth/|password|/session)`)

func lintRoutes(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for i, r := range cfg.Routes {
		p, ok := cfg.Policies[r.Policy]
		path := fmt.Sprintf("routes[%d]", i)
		if !ok {
			continue
		}
		if loginLike.MatchString(r.Match) && unsafeMethods(r.Match) && len(p.RateLimits) == 0 {
			out = append(out, Finding{CodeLoginNoRateLimit, SeverityWarning, path,
				fmt.Sprintf("%q looks like a login route and its policy %q has no rate limit before authentication", r.Match, r.Policy)})
		}
		if len(p.Authn) == 0 {
			out = append(out, Finding{CodeRouteUnauthenticated, SeverityInfo, path,
				fmt.Sprintf("%q is served without authentication", r.Match)})
		}
		if r.Upstream != "" && r.Session == nil && !r.StripCredentials && consumesCredential(cfg, p.Authn) {
			out = append(out, Finding{CodeCredentialsForwarded, SeverityInfo, path + ".strip_credentials",
				fmt.Sprintf("%q passes the credential the gateway checked (token, API key) on to the upstream; strip_credentials: true keeps it at the gateway when the upstream trusts the principal headers instead", r.Match)})
		}
	}
	for _, name := range sortedKeys(cfg.Policies) {
		if s := cfg.Policies[name].Shadow; len(s) > 0 {
			out = append(out, Finding{CodeShadowMode, SeverityWarning, "policies." + name + ".shadow",
				"these guards only report, they do not enforce: " + strings.Join(s, ", ")})
		}
	}
	return out
}

// consumesCredential reports whether the authenticators names reach read
// a credential a request carries in a header or query (JWT, API key,
// Basic, introspection) — the session and CSRF cookies are removed
// anyway, and mTLS sends nothing upstream.
func consumesCredential(cfg *Config, names []string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		a := cfg.Authenticators[n]
		if a.JWT != nil || a.APIKey != nil || a.Basic != nil || a.Introspect != nil {
			return true
		}
		for _, m := range append(append([]string(nil), a.AnyOf...), a.AllOf...) {
			if walk(m) {
				return true
			}
		}
		return false
	}
	for _, n := range names {
		if walk(n) {
			return true
		}
	}
	return false
}

func lintUpstreams(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.Upstreams) {
		for i, s := range cfg.Upstreams[name].URLs {
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "http" {
				continue
			}
			if h := u.Hostname(); h != "localhost" {
				if a, err := netip.ParseAddr(h); err == nil && a.IsLoopback() {
					continue
				}
				out = append(out, Finding{CodeUpstreamPlaintext, SeverityInfo, fmt.Sprintf("upstreams.%s.urls[%d]", name, i),
					"plain HTTP to a non-loopback upstream: principal headers travel unencrypted"})
			}
		}
	}
	return out
}

// checkRef is lintSecrets' reference check, for the guards' secrets.
func checkRef(out *[]Finding, o LintOptions, path, v string, minLen int) {
	if v == "" {
		return
	}
	if !isRef(v) {
		*out = append(*out, Finding{CodeInlineSecret, SeverityError, path,
			`secrets are given by reference only: "${ENV_VAR}", or the matching *_file field`})
		return
	}
	if o.Resolve != nil {
		s, err := o.Resolve.expand(path, v)
		switch {
		case err != nil:
			*out = append(*out, secretFinding(path, err))
		case len(s) < minLen:
			*out = append(*out, Finding{CodeShortSecret, SeverityError, path,
				fmt.Sprintf("the secret is %d bytes; use at least %d random bytes", len(s), minLen)})
		}
	}
}

func checkFiles(out *[]Finding, o LintOptions, path string, files []string, minLen int) {
	if o.Resolve == nil {
		return
	}
	for i, f := range files {
		p := fmt.Sprintf("%s[%d]", path, i)
		if s, err := readSecretFile(p, f); err != nil {
			*out = append(*out, secretFinding(p, err))
		} else if len(s) < minLen {
			*out = append(*out, Finding{CodeShortSecret, SeverityError, p,
				fmt.Sprintf("the secret is %d bytes; use at least %d random bytes", len(s), minLen)})
		}
	}
}

// lintGuardSecrets checks the secrets of API keys, introspection, session
// cookies, CSRF and abuse detectors: by reference only, long enough.
func lintGuardSecrets(cfg *Config, o LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.Authenticators) {
		a := cfg.Authenticators[name]
		p := "authenticators." + name
		if a.APIKey != nil {
			for i, s := range a.APIKey.Secrets {
				checkRef(&out, o, fmt.Sprintf("%s.apikey.secrets[%d]", p, i), s, MinSecretLen)
			}
			checkFiles(&out, o, p+".apikey.secret_files", a.APIKey.SecretFiles, MinSecretLen)
		}
		if a.Introspect != nil {
			checkRef(&out, o, p+".introspect.client_secret", a.Introspect.ClientSecret, 16)
			if a.Introspect.PrivateKey != "" && !isRef(a.Introspect.PrivateKey) {
				out = append(out, Finding{CodeInlineSecret, SeverityError, p + ".introspect.private_key", "a private key inline; use private_key_file"})
			}
		}
		if a.Session != nil {
			for i, s := range a.Session.CookieKeys {
				checkRef(&out, o, fmt.Sprintf("%s.session.cookie_keys[%d]", p, i), s, MinSecretLen)
			}
			checkFiles(&out, o, p+".session.cookie_key_files", a.Session.CookieKeyFiles, MinSecretLen)
		}
	}
	for _, name := range sortedKeys(cfg.CSRF) {
		c := cfg.CSRF[name]
		for i, s := range c.Keys {
			checkRef(&out, o, fmt.Sprintf("csrf.%s.keys[%d]", name, i), s, MinSecretLen)
		}
		checkFiles(&out, o, "csrf."+name+".key_files", c.KeyFiles, MinSecretLen)
	}
	for _, name := range sortedKeys(cfg.Abuse) {
		d := cfg.Abuse[name]
		checkRef(&out, o, "abuse."+name+".secret", d.Secret, MinSecretLen)
		if d.SecretFile != "" {
			checkFiles(&out, o, "abuse."+name+".secret_file", []string{d.SecretFile}, MinSecretLen)
		}
	}
	return out
}

// plaintextPublic reports whether the public listener serves plain HTTP
// beyond loopback, with no TLS-terminating proxy in front.
func plaintextPublic(cfg *Config) bool {
	return cfg.Listen.TLS == nil && cfg.Listen.Addr != "" && !isLoopback(cfg.Listen.Addr) &&
		len(cfg.ClientIP.TrustedProxies) == 0 && cfg.ClientIP.TrustedHops == 0
}

func lintSessions(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.Authenticators) {
		s := cfg.Authenticators[name].Session
		if s == nil {
			continue
		}
		p := "authenticators." + name + ".session"
		if !s.SecureAlways {
			sev, msg := SeverityWarning, "the session cookie is Secure only on requests that arrived over HTTPS; set secure_always: true in production"
			if plaintextPublic(cfg) {
				sev, msg = SeverityError, "the public listener serves plain HTTP: session cookies travel in clear; terminate TLS (listen.tls or a trusted proxy) and set secure_always: true"
			}
			out = append(out, Finding{CodeSessionInsecure, sev, p + ".secure_always", msg})
		}
		if strings.EqualFold(s.SameSite, "none") {
			out = append(out, Finding{CodeSessionSameSiteNone, SeverityWarning, p + ".same_site",
				"SameSite=None sends the session cookie on every cross-site request; use lax or strict unless the site is embedded elsewhere"})
		}
		if s.Store == "cookie" {
			out = append(out, Finding{CodeSessionCookieStore, SeverityInfo, p + ".store",
				"encrypted-cookie sessions cannot be ended server-side: a copied cookie works until it times out"})
		}
	}
	return out
}

// unsafeMethods reports whether a route pattern admits unsafe methods:
// one without a method admits every method.
func unsafeMethods(match string) bool {
	m, _, ok := strings.Cut(strings.TrimSpace(match), " ")
	if !ok || strings.HasPrefix(m, "/") {
		return true
	}
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	return true
}

// lintCookieRoutes finds routes authenticated by a credential the browser
// sends on its own (a session, a JWT or API key from a cookie) whose
// unsafe requests no CSRF guard checks.
func lintCookieRoutes(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for i, r := range cfg.Routes {
		p, ok := cfg.Policies[r.Policy]
		if !ok || p.CSRF != "" || !unsafeMethods(r.Match) {
			continue
		}
		var cookie []string
		for _, m := range cfg.policyMembers(p) {
			if cfg.Authenticators[m].cookieAuthenticated() {
				cookie = append(cookie, m)
			}
		}
		if r.Session != nil && r.Session.Action == "logout" {
			cookie = append(cookie, r.Session.Session)
		}
		if len(cookie) > 0 {
			out = append(out, Finding{CodeCookieAuthNoCSRF, SeverityError, fmt.Sprintf("routes[%d]", i),
				fmt.Sprintf("%q admits unsafe methods authenticated by a cookie (%s) and its policy %q names no csrf guard", r.Match, strings.Join(cookie, ", "), r.Policy)})
		}
	}
	return out
}

func lintCSRF(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.CSRF) {
		for i, o := range cfg.CSRF[name].TrustedOrigins {
			if strings.Contains(o, "*") {
				out = append(out, Finding{CodeCSRFOriginWildcard, SeverityWarning, fmt.Sprintf("csrf.%s.trusted_origins[%d]", name, i),
					"a wildcard trusts every subdomain, including any that serves user content or can be taken over; list the origins"})
			}
		}
	}
	return out
}

func lintAuthenticators(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	used := map[string]bool{}
	for _, r := range cfg.Routes {
		if p, ok := cfg.Policies[r.Policy]; ok {
			for _, m := range cfg.policyMembers(p) {
				used[m] = true
			}
		}
	}
	for _, name := range sortedKeys(cfg.Authenticators) {
		a := cfg.Authenticators[name]
		p := "authenticators." + name
		if a.APIKey != nil && a.APIKey.Query != "" {
			out = append(out, Finding{CodeAPIKeyInQuery, SeverityWarning, p + ".apikey.query",
				"keys in URLs leak into access logs, proxies, browser history and Referer headers; send them in the X-API-Key header"})
		}
		if a.JWT != nil {
			for i, s := range a.JWT.Sources {
				if s.From == "query" {
					out = append(out, Finding{CodeAPIKeyInQuery, SeverityWarning, fmt.Sprintf("%s.jwt.sources[%d]", p, i),
						"tokens in URLs leak into access logs, proxies, browser history and Referer headers"})
				}
			}
		}
		if a.Basic != nil && used[name] && plaintextPublic(cfg) {
			out = append(out, Finding{CodeBasicPlaintext, SeverityError, p + ".basic",
				"Basic sends the password on every request, and the public listener serves plain HTTP; terminate TLS"})
		}
		if a.Introspect != nil && a.Introspect.CacheTTL > 5*time.Minute {
			out = append(out, Finding{CodeIntrospectCacheLong, SeverityInfo, p + ".introspect.cache_ttl",
				fmt.Sprintf("a token revoked at the authorization server keeps working here for up to %v", a.Introspect.CacheTTL)})
		}
	}
	return out
}

func lintAbuse(cfg *Config, _ LintOptions) []Finding {
	var out []Finding
	for _, name := range sortedKeys(cfg.Abuse) {
		d := cfg.Abuse[name]
		if (d.Action == "" || d.Action == "block") && strings.HasPrefix(strings.TrimSpace(d.Key), "header:") {
			out = append(out, Finding{CodeAbuseSpoofableKey, SeverityWarning, "abuse." + name + ".key",
				"a blocking detector keyed by a header the client chooses: a client evades it by changing the header, or locks out another by naming theirs; key by client or principal, or use action: flag"})
		}
	}
	return out
}
