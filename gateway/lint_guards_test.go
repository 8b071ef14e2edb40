package gateway

import (
	"fmt"
	"strings"
	"testing"
)

func TestLintGuards(t *testing.T) {
	cfg, err := Parse("lint.yaml", []byte(`
listen: {addr: "0.0.0.0:8080"}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
authenticators:
  users: {basic: {file: users.txt}}
  web: {session: {same_site: none}}
  sealed: {session: {store: cookie, cookie_keys: ["inline-cookie-key-0123456789abcdef0123"]}}
  keys: {apikey: {secrets: ["${K}"], records_file: k.json, query: api_key}}
  cookiekeys: {apikey: {secrets: ["${K}"], records_file: k.json, cookie: key}}
  idp: {introspect: {issuer: "https://as.example", client_id: c, client_secret: "${S}", cache_ttl: 10m}}
  either: {any_of: [keys, web]}
csrf:
  web: {keys: ["not-a-reference-0123456789abcdef0123"], trusted_origins: ["https://*.example.com"]}
abuse:
  cards: {key: "header:X-Device", fingerprint: "card:n,m,y", threshold: 3, secret: "inline-abuse-secret-0123456789abcdef"}
policies:
  basic: {authn: [users]}
  composed: {authn: [either]}
  cookie: {authn: [cookiekeys]}
  protected: {authn: [either], csrf: web}
routes:
  - {match: "GET /b", upstream: app, policy: basic}
  - {match: "/c", upstream: app, policy: composed}
  - {match: "GET /read", upstream: app, policy: composed}
  - {match: "DELETE /k", upstream: app, policy: cookie}
  - {match: "POST /ok", upstream: app, policy: protected}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Lint(cfg, LintOptions{}) {
		got = append(got, fmt.Sprintf("%s %s %s", f.Severity, f.Code, f.Path))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"error session-insecure-cookie authenticators.web.session.secure_always",
		"warning session-samesite-none authenticators.web.session.same_site",
		"info session-cookie-store authenticators.sealed.session.store",
		"error inline-secret authenticators.sealed.session.cookie_keys[0]",
		"error inline-secret csrf.web.keys[0]",
		"error inline-secret abuse.cards.secret",
		"error cookie-auth-no-csrf routes[1]",
		"error cookie-auth-no-csrf routes[3]",
		"warning csrf-trusted-origin-wildcard csrf.web.trusted_origins[0]",
		"warning apikey-in-query authenticators.keys.apikey.query",
		"error basic-over-plaintext authenticators.users.basic",
		"info introspect-cache-long authenticators.idp.introspect.cache_ttl",
		"warning abuse-spoofable-key abuse.cards.key",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q", want)
		}
	}
	for _, not := range []string{"cookie-auth-no-csrf routes[2]", "cookie-auth-no-csrf routes[4]", "cookie-auth-no-csrf routes[0]", "inline-secret authenticators.keys"} {
		if strings.Contains(all, not) {
			t.Errorf("unexpected %q in\n%s", not, all)
		}
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []string{"client", "client/24/64", "principal", "global", "basic-user", "header:X-Device",
		"apikey:X-Api-Key", "json:email", "json:a,b", "card:card_number,exp_month,exp_year"} {
		src, err := ParseSource(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if src.String() != s {
			t.Errorf("%q reads back as %q", s, src.String())
		}
	}
	if src, err := ParseSource("json:username | basic-user"); err != nil || src.String() != "first-of:json:username:basic-user" {
		t.Errorf("first of: %v %v", src, err)
	}
	for _, bad := range []string{"", "ip", "client:x", "header:", "card:a,b", "json:", "json:a,,b", "client/33/64", "client/24", "principal:x"} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Definitions refused by Build, with a message naming the fault.
func TestBuildGuardErrors(t *testing.T) {
	base := `
listen: {addr: "127.0.0.1:0"}
upstreams: {app: {urls: ["http://127.0.0.1:1"]}}
`
	for name, tc := range map[string]struct{ cfg, want string }{
		"two kinds": {`authenticators: {a: {basic: {file: x}, mtls: {ca_file: y}}}
policies: {p: {}}
routes: [{match: /, upstream: app, policy: p}]`, "set exactly one kind"},
		"cycle": {`authenticators: {a: {any_of: [b]}, b: {all_of: [a]}}
policies: {p: {}}
routes: [{match: /, upstream: app, policy: p}]`, "cycle"},
		"login without csrf": {`authenticators: {web: {session: {}}}
policies: {p: {}}
routes: [{match: "POST /login", policy: p, session: {action: login, session: web, users: web}}]`, "needs a csrf guard"},
		"principal abuse pre-auth": {`abuse: {a: {key: principal, fingerprint: "json:x", threshold: 2, secret: "${ABUSE_SECRET}"}}
policies: {p: {abuse: [a]}}
routes: [{match: /, upstream: app, policy: p}]`, "principal_abuse"},
		"bad source": {`abuse: {a: {key: ip, fingerprint: "json:x", threshold: 2, secret: "${ABUSE_SECRET}"}}
policies: {p: {}}
routes: [{match: /, upstream: app, policy: p}]`, `unknown source "ip"`},
		"session redis without redis": {`authenticators: {web: {session: {store: redis}}}
policies: {p: {}}
routes: [{match: /, upstream: app, policy: p}]`, "top-level redis"},
		"open redirect": {`authenticators: {web: {session: {}}}
csrf: {c: {keys: ["${SESSION_CSRF_KEY}"]}}
policies: {p: {authn: [web], csrf: c}}
routes: [{match: "POST /logout", policy: p, session: {action: logout, session: web, redirect: "//evil.example"}}]`, "local path"},
	} {
		cfg, err := Parse("x.yaml", []byte(base+tc.cfg))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tel, _ := NewTelemetry(nil, nil)
		_, err = Build(cfg, BuildOptions{Telemetry: tel, Resolve: guardsResolver})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// forwarded-trust-all weighs the public space the trusted proxies cover,
// not only /0.
func TestLintTrustedProxyCoverage(t *testing.T) {
	for _, tc := range []struct {
		proxies string
		flagged bool
	}{
		{`["0.0.0.0/1", "128.0.0.0/1"]`, true},
		{`["0.0.0.0/0"]`, true},
		{`["11.0.0.0/8", "12.0.0.0/8"]`, true},
		{`["11.0.0.0/8"]`, false},                                                 // a /8: at the bound
		{`["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.1"]`, false}, // private: safe
		{`["0.0.0.0/4"]`, true},                                                   // 0/8 excluded, the rest public
		{`["::ffff:0.0.0.0/97"]`, true},                                           // IPv4-mapped: half of IPv4
		{`["2000::/3"]`, true},
		{`["2001:db8::/32"]`, false},
		{`["2001:db8::/31"]`, true},
		{`["fc00::/7", "fe80::/10"]`, false},
		{`["203.0.113.0/24", "2001:db8:1::/48"]`, false},
	} {
		cfg, err := Parse("t.yaml", []byte(`
listen: {addr: "127.0.0.1:8080"}
client_ip: {trusted_proxies: `+tc.proxies+`}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
policies: {p: {}}
routes: [{match: "/", upstream: app, policy: p}]
`))
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, f := range Lint(cfg, LintOptions{}) {
			got = got || (f.Code == CodeForwardedTrustAll && f.Severity == SeverityError)
		}
		if got != tc.flagged {
			t.Errorf("%s: flagged %v, want %v", tc.proxies, got, tc.flagged)
		}
	}
}
