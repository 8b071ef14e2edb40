package gateway

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite schema.json and the golden files in testdata/")

// TestSchema fails when schema.json no longer matches the Go types; run
// `go generate ./gateway` (or go test -run TestSchema -update) after
// changing a config or Options type.
func TestSchema(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("schema.json is out of date: run go generate ./gateway")
	}
}

// TestGolden builds each testdata/*.yaml and compares the policy it
// describes with testdata/*.golden (go test -run TestGolden -update).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	examples, _ := filepath.Glob("../examples/gateway/*.yaml")
	jsons, _ := filepath.Glob("../examples/gateway/*.json")
	files = append(append(files, examples...), jsons...)
	tel, err := NewTelemetry(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		cfg, err := LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(cfg, BuildOptions{Telemetry: tel, Resolve: guardsResolver})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got := g.Describe()
		g.Close(0)
		golden := filepath.Join("testdata", strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))+".golden")
		if *update {
			os.WriteFile(golden, []byte(got), 0o644)
		}
		want, _ := os.ReadFile(golden)
		if got != string(want) {
			t.Errorf("%s: policy changed; diff against %s:\n%s", f, golden, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	// Small seeds, one per section: the example files (multi-kilobyte)
	// made every new input cost the fuzzer many seconds of minimising;
	// TestGolden covers them whole.
	for _, s := range []string{
		"listen: {addr: ':1'}\nlimits: {a: {limits: [{key: ip+route, window: 1s}]}}",
		`{"routes": [{"match": "GET /x"}], "listen": {"read_header_timeout": "1s"}}`,
		"authenticators:\n  j: {jwt: {algorithms: [HS256], keys: [{kid: a, alg: HS256, secret: \"${S}\"}]}}\n  k: {apikey: {secrets: [\"${K}\"], records_file: k.json, query: q}}\n  e: {any_of: [j, k]}",
		"authenticators:\n  w: {session: {store: cookie, cookie_keys: [x], same_site: none}}\n  b: {basic: {file: u.txt}}\n  m: {mtls: {ca_file: ca.pem}}\n  i: {introspect: {issuer: 'https://a', client_id: c, cache_ttl: 1h}}",
		"csrf: {c: {keys: [k], trusted_origins: ['https://*.x.com']}}\nabuse: {a: {key: 'header:X', fingerprint: 'card:n,m,y', threshold: 3, views: [{name: v, key: 'json:e', value: client/24/64, threshold: 2}]}}",
		"policies: {p: {authn: [w], csrf: c, abuse: [a], shadow: [csrf]}}\nroutes: [{match: 'POST /login', policy: p, session: {action: login, session: w, users: b}}]",
		"headers: {h: {referrer_policy: same-origin, csp: {default_src: [\"'self'\"]}}}\ncors: {c: {allowed_origins: ['*'], allow_credentials: true}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg *Config
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			if cfg, err = Parse("fuzz.yaml", data); err == nil {
				Lint(cfg, LintOptions{})
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse and Lint did not return within 5s")
		}
		if err != nil {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
