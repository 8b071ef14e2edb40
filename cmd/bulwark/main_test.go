package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/password"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.HasPrefix(out, "bulwark ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, ""); code != 2 {
		t.Fatalf("no command: %d", code)
	}
}

// TestVersionLine: the version comes from the build (go install …@v1.2.3,
// or a pseudo-version in a clone), with the commit when Go recorded it.
func TestVersionLine(t *testing.T) {
	for _, tc := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.2.3"}}, "bulwark v1.2.3 (go1.26.1)"},
		{&debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.0.0-20261207204642-99bd7a8be9f0+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "99bd7a8be9f0c0ffee0000000000000000000000"},
			{Key: "vcs.time", Value: "2026-12-07T20:46:42Z"}, {Key: "vcs.modified", Value: "true"},
		}}, "bulwark v0.0.0-20261207204642-99bd7a8be9f0+dirty (commit 99bd7a8be9f0, 2026-12-07T20:46:42Z, modified, go1.26.1)"},
		{&debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"},
		}}, "bulwark (devel) (commit abc, go1.26.1)"},
	} {
		if got := versionLine(tc.info); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	if got := versionLine(nil); !strings.HasPrefix(got, "bulwark (devel) (go") {
		t.Errorf("no build info: %q", got)
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	if got := versionLine(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}); !strings.HasPrefix(got, "bulwark v9.9.9 ") {
		t.Errorf("-ldflags version: %q", got)
	}
}

// TestHelpAndBadFlags: -h and --help print the command's usage and flags
// on stdout and exit 0; a bad flag is one line on stderr and exit 2.
func TestHelpAndBadFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd   []string
		flags []string // flags the help must list
	}{
		{[]string{"demo"}, []string{"-addr", "-redis", "-cors-origin", "-tls-cert", "-tls-key", "-trusted-proxy", "-quiet"}},
		{[]string{"token"}, []string{"-key", "-subject", "-role", "-scope", "-ttl", "-aud", "-iss", "-kid", "-alg"}},
		{[]string{"token", "issue"}, []string{"-key", "-subject", "-role", "-scope", "-ttl", "-aud", "-iss", "-kid", "-alg"}},
		{[]string{"hash-password"}, nil},
		{[]string{"version"}, nil},
	} {
		name := strings.Join(tc.cmd, " ")
		for _, h := range []string{"-h", "--help", "-help"} {
			code, out, errs := runCLI(t, "", append(tc.cmd, h)...)
			if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: bulwark "+name) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", name, h, code, out, errs)
			}
			for _, f := range tc.flags {
				if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
					t.Errorf("%s %s does not list %s:\n%s", name, h, f, out)
				}
			}
		}
		cmd := name
		if name == "token" {
			cmd = "token issue"
		}
		code, out, errs := runCLI(t, "", append(strings.Fields(cmd), "--bogus")...)
		want := "bulwark " + cmd + ": flag provided but not defined: -bogus (see bulwark " + cmd + " -h)\n"
		if code != 2 || out != "" || errs != want {
			t.Errorf("%s --bogus: exit %d, stdout %q, stderr %q, want %q", cmd, code, out, errs, want)
		}
	}
	for _, args := range [][]string{{"token"}, {"token", "frob"}, {"demo", "extra"}, {"token", "issue", "--subject", "a"}} {
		code, _, errs := runCLI(t, "", args...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "bulwark ") || !strings.Contains(errs, " -h)") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
}

// TestHashPasswordTerminal: on a terminal the password is asked for twice,
// the prompts go to stderr, and nothing echoes it.
func TestHashPasswordTerminal(t *testing.T) {
	defer func(fd func(io.Reader) (int, bool), rs func(int) ([]byte, error)) { terminalFD, readSecret = fd, rs }(terminalFD, readSecret)
	terminalFD = func(io.Reader) (int, bool) { return 7, true }
	answer := func(lines ...string) {
		readSecret = func(fd int) ([]byte, error) {
			if fd != 7 {
				t.Fatalf("read from fd %d", fd)
			}
			if len(lines) == 0 {
				return nil, io.EOF
			}
			l := lines[0]
			lines = lines[1:]
			return []byte(l), nil
		}
	}
	const pw = "correct horse battery staple"
	answer(pw, pw)
	code, out, errs := runCLI(t, "", "hash-password")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	if _, err := password.Verify(pw, strings.TrimSpace(out)); err != nil {
		t.Fatalf("hash does not verify: %v", err)
	}
	if errs != "Password: \nRepeat the password: \n" || strings.Contains(out, pw) {
		t.Fatalf("stderr %q, stdout %q", errs, out)
	}
	answer(pw, pw+"x")
	if code, out, errs := runCLI(t, "", "hash-password"); code != 1 || out != "" || !strings.Contains(errs, "do not match") {
		t.Fatalf("mismatch: %d %q %q", code, out, errs)
	}
	answer("")
	if code, _, errs := runCLI(t, "", "hash-password"); code != 1 || !strings.Contains(errs, "empty password") {
		t.Fatalf("empty: %d %q", code, errs)
	}
	answer(pw)
	if code, _, _ := runCLI(t, "", "hash-password"); code != 1 {
		t.Fatalf("end of input at the confirmation: %d", code)
	}
}

func TestHashPassword(t *testing.T) {
	code, out, errs := runCLI(t, "correct horse battery staple\n", "hash-password")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	if _, err := password.Verify("correct horse battery staple", strings.TrimSpace(out)); err != nil {
		t.Fatalf("hash does not verify: %v", err)
	}
	if code, _, _ := runCLI(t, "", "hash-password"); code != 1 {
		t.Fatalf("empty password accepted: %d", code)
	}
}

func TestTokenIssue(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(dir, "ed.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "token", "issue", "--key", keyFile, "--kid", "k1", "--subject", "alice",
		"--role", "admin", "--scope", "read", "--scope", "write", "--aud", "api", "--iss", "ops", "--ttl", "10m")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	pub, _ := jwt.NewKey("k1", jwt.EdDSA, priv.Public())
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{pub}, Issuers: []string{"ops"}, Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("issued token does not verify: %v", err)
	}
	if p.Subject != "alice" || !p.HasRole("admin") || !p.HasScope("write") {
		t.Fatalf("principal %+v", p)
	}

	weak := filepath.Join(dir, "weak")
	_ = os.WriteFile(weak, []byte("short"), 0o600)
	if code, _, errs := runCLI(t, "", "token", "issue", "--key", weak, "--subject", "a"); code != 1 || !strings.Contains(errs, "32") {
		t.Fatalf("weak secret: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "", "token", "issue", "--subject", "a"); code != 2 {
		t.Fatalf("missing --key: %d", code)
	}
}

// `bulwark demo` prints its URL, credentials and curl commands, serves the
// API, and shuts down cleanly when its context ends (SIGINT/SIGTERM).
func TestDemoCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errs bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--quiet",
			"--trusted-proxy", "127.0.0.1/32", "--cors-origin", "https://app.test"}, nil, pw, &errs)
		pw.Close()
		done <- code
	}()
	// Read the banner up to its last line; the server is serving by then.
	var banner strings.Builder
	sc := bufio.NewScanner(pr)
	var base string
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
		if strings.Contains(sc.Text(), "curl") && strings.Contains(sc.Text(), "/config/security") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" {
		t.Fatalf("no URL printed: %q", banner.String())
	}
	for _, want := range []string{"alice / wonderland-2026", "bob / builder-2026", "curl", "DEMO MODE"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	res, err := http.Get(base + "/api/public")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Request-ID") == "" || !strings.Contains(string(body), "public") {
		t.Fatalf("GET /api/public: %d %v %s", res.StatusCode, res.Header, body)
	}

	// The flags reach the guards, through the real server's limits.
	get := func(method, path string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	// 10,000 X-Forwarded-For entries (about 90 KB) from the trusted proxy:
	// resolved from the right, not a plain-text 431.
	if res := get("GET", "/api/public", "X-Forwarded-For", strings.Repeat("1.2.3.4, ", 10000)+"203.0.113.9"); res.StatusCode != 200 {
		t.Fatalf("10,000-entry XFF: %d", res.StatusCode)
	}
	// Garbage where the trusted proxy's entry should be: a 400 problem.
	if res := get("GET", "/api/public", "X-Forwarded-For", "203.0.113.9, not-an-ip"); res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("garbage XFF: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// HSTS only when the trusted proxy reports HTTPS.
	if res := get("GET", "/api/public", "X-Forwarded-Proto", "https"); res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind a trusted HTTPS proxy")
	}
	if res := get("GET", "/api/public"); res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS on plain HTTP")
	}
	// --cors-origin replaces the default origin.
	pre := []string{"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-custom-header"}
	if res := get("OPTIONS", "/api/items", append([]string{"Origin", "https://app.test"}, pre...)...); res.Header.Get("Access-Control-Allow-Origin") != "https://app.test" {
		t.Fatalf("preflight from --cors-origin: %d %v", res.StatusCode, res.Header)
	}
	if res := get("OPTIONS", "/api/items", append([]string{"Origin", "https://example.com"}, pre...)...); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("the default origin is still allowed: %v", res.Header)
	}
	if res := get("GET", "/no-such-path"); res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown path: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exited %d: %s", code, errs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not shut down")
	}
	_ = errs
}

// TestReadmeFlags: every flag the README shows for a command is one the
// command has.
func TestReadmeFlags(t *testing.T) {
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for cmd, from := range map[string]string{"demo": "## The demo", "token": "`bulwark token issue --key"} {
		i := strings.Index(text, from)
		if i < 0 {
			t.Fatalf("README: no %q", from)
		}
		args := []string{cmd, "-h"}
		if cmd == "token" {
			args = []string{"token", "issue", "-h"}
		}
		_, stdout, stderr := runCLI(t, "", args...)
		help := stdout + stderr
		section := text[i:]
		if j := strings.Index(section[1:], "\n## "); j >= 0 {
			section = section[:j]
		}
		if cmd == "token" {
			section = section[:strings.Index(section, "bulwark version")]
		} else {
			section = strings.Join(regexp.MustCompile("(?m)^\\| `--.*$").FindAllString(section, -1), "\n") // the flag table
		}
		for _, m := range regexp.MustCompile(`--([a-z][a-z-]+)`).FindAllStringSubmatch(section, -1) {
			if !strings.Contains(help, "-"+m[1]+" ") && !strings.Contains(help, "-"+m[1]+"\n") {
				t.Errorf("README shows bulwark %s --%s, which %v does not list:\n%s", cmd, m[1], args, help)
			}
		}
	}
}
