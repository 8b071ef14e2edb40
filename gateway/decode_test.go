package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestParseStrict(t *testing.T) {
	_, err := Parse("gw.yaml", []byte("listen:\n  addr: 127.0.0.1:8080\n  bogus: 1\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "gw.yaml:3:3:") || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v", err)
	}
	_, err = Parse("gw.json", []byte(`{"listen": {"addr": "x"},
 "limits": {"a": {"limits": [{"algorithm": "token_bucket", "limit": 1, "window": "1s", "key": "ip", "nope": 2}]}}}`))
	if err == nil || !strings.Contains(err.Error(), "gw.json:2:") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
	cfg, err := Parse("gw.yaml", []byte("listen: {addr: ':1'}\nlimits:\n  a:\n    store: redis\n    outage: fail_closed\n    limits: [{algorithm: gcra, limit: 5, window: 1m, key: ip}]\nheaders:\n  h: {referrer_policy: same-origin, csp: {default_src: [\"'self'\"]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Limits["a"]
	if l.Store != "redis" || l.Outage.String() != "fail_closed" || l.Limits[0].Window.String() != "1m0s" || l.Limits[0].Key.String() != "ip" {
		t.Fatalf("decoded %+v", l)
	}
	if cfg.Headers["h"].ReferrerPolicy != "same-origin" || cfg.Headers["h"].CSP == nil {
		t.Fatalf("headers %+v", cfg.Headers["h"])
	}
}

func TestTraceparent(t *testing.T) {
	for range 100 {
		if tp := newTraceparent(); !validTraceparent(tp) {
			t.Fatalf("invalid new traceparent %q", tp)
		}
	}
	for tp, ok := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": true,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01": false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01": false,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01": false,
		"": false,
	} {
		if validTraceparent(tp) != ok {
			t.Errorf("validTraceparent(%q) != %v", tp, ok)
		}
	}
	if got := quoteForwarded(`a"b:1`); got != `"a\"b:1"` {
		t.Errorf("quoteForwarded = %s", got)
	}
}

// Deeply nested flow collections are refused before the YAML library,
// whose time grows faster than linearly with them (found by FuzzParse:
// inputs like these stalled it for minutes).
func TestParseDepth(t *testing.T) {
	for _, in := range []string{
		"listen: " + strings.Repeat("[", 100000),
		"listen: " + strings.Repeat("{a: ", 20000),
		"x: 'a' " + strings.Repeat("[", 200),
	} {
		start := time.Now()
		_, err := Parse("deep.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), "nested more than 100 levels") || !strings.HasPrefix(err.Error(), "deep.yaml:1:") {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	}
	// Brackets in quoted scalars and comments count for nothing; an
	// apostrophe inside a word opens no quote.
	ok := "listen: {addr: \"" + strings.Repeat("[", 300) + "\"} # " + strings.Repeat("{", 300) + "\nlog: {audit_file: don't}\nadmin: {addr: '" + strings.Repeat("[", 300) + "'}\n"
	if _, err := Parse("ok.yaml", []byte(ok)); err != nil && strings.Contains(err.Error(), "nested") {
		t.Errorf("quoted brackets counted: %v", err)
	}
	if _, _, deep := tooDeep([]byte("a: don't "+strings.Repeat("[", 101)), 100); !deep {
		t.Error("an apostrophe in a word hid the nesting")
	}
}

// Errors from values parsed by their own text parsers (durations, enums)
// carry the offending value's position, in YAML and JSON.
func TestParseTypeErrorPositions(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"gw.yaml", "listen: {addr: ':1'}\nupstreams:\n  banana: {urls: [\"http://x\"], connect_timeout: banana}\n", `gw.yaml:3:49: time: invalid duration "banana"`},
		{"gw.yaml", "listen: {addr: ':1'}\nlimits:\n  l:\n    limits:\n      - {algorithm: tokenbucket, limit: 1, window: 1s}\n", `gw.yaml:5:21: ratelimit: unknown algorithm "tokenbucket"`},
		{"gw.json", "{\"listen\": {\"addr\": \":1\"},\n \"upstreams\": {\"app\": {\"urls\": [\"http://x\"],\n  \"connect_timeout\": \"banana\"}}}", `gw.json:3:22: time: invalid duration "banana"`},
		{"gw.json", "{\"listen\": {\"addr\": \":1\"},\n \"limits\": {\"l\": {\"limits\": [{\"algorithm\": \"tokenbucket\"}]}}}", `gw.json:2:44: ratelimit: unknown algorithm "tokenbucket"`},
		{"gw.yaml", "listen: {addr: ':1'}\nupstreams:\n  app: {urls: [http://127.0.0.1:8000]}\n", `quote it`},
	} {
		_, err := Parse(tc.name, []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.data, err, tc.want)
		}
	}
}
