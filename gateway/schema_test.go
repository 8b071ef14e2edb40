package gateway

import (
	"bytes"
	"flag"
	"fmt"
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
			t.Errorf("%s: policy changed (-%s +got; go test -run TestGolden -update accepts it):\n%s", f, golden, lineDiff(string(want), got))
		}
	}
}

// lineDiff is a unified-style line diff of a and b: changed lines marked
// - and +, with two lines of context, hunks headed by @@ -line +line @@.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j]: the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		i, j int // line numbers (0-based) in a and b
	}
	var ops []op
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, op{' ', x[i], i, j})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', y[j], i, j})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(k-context, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*context || run == len(ops) {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		fmt.Fprintf(&out, "@@ -%d +%d @@\n", ops[start].i+1, ops[start].j+1)
		for _, o := range ops[start:end] {
			fmt.Fprintf(&out, "%c%s\n", o.kind, o.text)
		}
		k = end
	}
	return out.String()
}

func TestLineDiff(t *testing.T) {
	a := "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n"
	b := "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\nten\n"
	want := "@@ -2 +2 @@\n two\n three\n-four\n+FOUR\n five\n six\n@@ -8 +8 @@\n eight\n nine\n+ten\n \n"
	if got := lineDiff(a, b); got != want {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
	if lineDiff(a, a) != "" {
		t.Errorf("no difference, yet a diff: %q", lineDiff(a, a))
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
