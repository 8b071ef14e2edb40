package basic_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/password"
	"golang.org/x/crypto/bcrypt"
)

// fast keeps the tests quick; the verifier's stand-in hash uses the same
// parameters, so unknown users cost what known ones do here too.
var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var hashes = sync.OnceValue(func() map[string]string {
	a, _ := password.HashWith("wonderland-2026", fast)
	b, _ := password.HashWith("builder-2026", fast)
	c, _ := bcrypt.GenerateFromPassword([]byte("carol-pw"), bcrypt.MinCost)
	return map[string]string{"alice": a, "bob": b, "carol": string(c)}
})

func newVerifier(t testing.TB, max int) *password.Verifier {
	t.Helper()
	v, err := password.NewVerifier(password.Options{Params: fast, MaxConcurrent: max})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newAuth(t testing.TB, v *password.Verifier) *basic.Authenticator {
	t.Helper()
	h := hashes()
	a, err := basic.New(basic.Options{
		Users: map[string]basic.User{
			"alice": {Hash: h["alice"], Roles: []string{"admin"}, Scopes: []string{"read", "write"}},
			"bob":   {Hash: h["bob"], Scopes: []string{"read"}},
			"carol": {Hash: h["carol"]},
		},
		Verifier: v,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

type result struct {
	status    int
	challenge string
	reason    string
	body      map[string]any
	subject   string
}

func serve(t *testing.T, a authn.Authenticator, set func(r *http.Request)) result {
	t.Helper()
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: a, Realm: "bulwark-demo", Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	var subject string
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		subject = p.Method + ":" + p.Subject + ":" + p.Source.String()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	set(r)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := result{status: w.Code, challenge: w.Header().Get("WWW-Authenticate"), subject: subject}
	if ev := mem.Events(); len(ev) == 1 {
		res.reason = ev[0].Reason
	} else if w.Code != 200 {
		t.Errorf("%d audit events; want 1", len(ev))
	}
	if w.Code != 200 {
		_ = json.Unmarshal(w.Body.Bytes(), &res.body)
	}
	return res
}

const challenge = `Basic realm="bulwark-demo", charset="UTF-8"`

func TestGoodCredentials(t *testing.T) {
	a := newAuth(t, newVerifier(t, 1))
	for _, c := range []struct{ user, pw string }{{"alice", "wonderland-2026"}, {"carol", "carol-pw"}} {
		res := serve(t, a, func(r *http.Request) { r.Header.Set("Authorization", basicHeader(c.user, c.pw)) })
		if res.status != 200 || res.subject != "basic:"+c.user+":header" {
			t.Errorf("%s: %d %q; want 200 basic:%s:header", c.user, res.status, res.subject, c.user)
		}
	}
	// lower-case scheme, unpadded base64: accepted (RFC 9110: schemes are case-insensitive)
	raw := base64.RawStdEncoding.EncodeToString([]byte("alice:wonderland-2026"))
	if res := serve(t, a, func(r *http.Request) { r.Header.Set("Authorization", "basic "+raw) }); res.status != 200 {
		t.Errorf("lower-case scheme, unpadded: %d", res.status)
	}
	p, err := a.Verify(context.Background(), "alice", "wonderland-2026")
	if err != nil || !p.HasRole("admin") || !p.HasScope("write") || p.Method != "basic" || p.Source != authn.SourceHeader {
		t.Fatalf("principal %+v, %v", p, err)
	}
}

// Every malformed header is a 401 with the Basic challenge and its own
// reason, never a 500; a header of another scheme is not Basic's.
func TestMalformed(t *testing.T) {
	a := newAuth(t, newVerifier(t, 1))
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, value, reason string
	}{
		{"no scheme", ":YWxpY2U6eA==", "authorization_malformed"},
		{"leading space", " Basic YWxpY2U6eA==", "authorization_malformed"},
		{"empty", "", "authorization_malformed"},
		{"scheme only", "Basic", "basic_malformed"},
		{"scheme and spaces", "Basic    ", "basic_malformed"},
		{"bad base64", "Basic !!!notbase64", "basic_malformed"},
		{"bad padding", "Basic YWxpY2U6eA=", "basic_malformed"},
		{"no colon", b64("alicewonderland"), "basic_no_colon"},
		{"64 KB", "Basic " + strings.Repeat("A", 64<<10), "basic_too_long"},
		{"not UTF-8 user", b64("al\xffice:pw"), "basic_not_utf8"},
		{"not UTF-8 password", b64("alice:p\xc3w"), "basic_not_utf8"},
		{"control user", b64("ali\x00ce:pw"), "basic_control_chars"},
		{"control password", b64("alice:pw\n"), "basic_control_chars"},
		{"C1 control", b64("alice:pw\u0085"), "basic_control_chars"},
		{"long user", b64(strings.Repeat("u", basic.MaxUserLen+1) + ":pw"), "basic_user_too_long"},
		{"wrong password", basicHeader("alice", "wonderland-2025"), "bad_credentials"},
		{"unknown user", basicHeader("mallory", "wonderland-2026"), "bad_credentials"},
		{"empty password", basicHeader("alice", ""), "bad_credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := serve(t, a, func(r *http.Request) { r.Header["Authorization"] = []string{c.value} })
			if res.status != 401 || res.challenge != challenge || res.reason != c.reason {
				t.Fatalf("%d %q reason %q; want 401 %q reason %q", res.status, res.challenge, res.reason, challenge, c.reason)
			}
			if res.body["type"] != "https://bulwark.dev/problems/invalid-credentials" {
				t.Fatalf("body %v", res.body)
			}
		})
	}
	t.Run("two headers", func(t *testing.T) {
		res := serve(t, a, func(r *http.Request) {
			r.Header["Authorization"] = []string{basicHeader("alice", "wonderland-2026"), basicHeader("bob", "x")}
		})
		if res.status != 401 || res.reason != "authorization_malformed" {
			t.Fatalf("%d %q", res.status, res.reason)
		}
	})
	for _, v := range []string{"Bearer abc.def.ghi", "ApiKey bwk_live_x", "Basically x", "Digest username=\"a\""} {
		if _, err := a.Authenticate(reqWith(v)); err != authn.ErrNoCredentials {
			t.Errorf("%q: %v; want ErrNoCredentials (another scheme)", v, err)
		}
	}
	res := serve(t, a, func(r *http.Request) {})
	if res.status != 401 || res.challenge != challenge || res.reason != "token_missing" {
		t.Fatalf("no header: %d %q %q", res.status, res.challenge, res.reason)
	}
}

func reqWith(v string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", v)
	return r
}

// An unknown user goes through the same argon2id work, and the same share
// of the budget, as a known one with a wrong password: one verification
// each, answered alike.
func TestUnknownUserSameWork(t *testing.T) {
	v := newVerifier(t, 1)
	a := newAuth(t, v)
	before := v.Stats().Verified
	_, errKnown := a.Authenticate(reqWith(basicHeader("alice", "nope")))
	afterKnown := v.Stats().Verified
	_, errUnknown := a.Authenticate(reqWith(basicHeader("mallory", "nope")))
	afterUnknown := v.Stats().Verified
	if afterKnown-before != 1 || afterUnknown-afterKnown != 1 {
		t.Fatalf("verifications: known %d, unknown %d; want 1 each", afterKnown-before, afterUnknown-afterKnown)
	}
	if errKnown.Error() != errUnknown.Error() {
		t.Fatalf("answers differ: %q vs %q", errKnown, errUnknown)
	}
	// a malformed header costs no verification at all
	_, _ = a.Authenticate(reqWith("Basic !!!"))
	if v.Stats().Verified != afterUnknown {
		t.Fatal("a malformed header was verified")
	}
}

// A full budget is a 503 with Retry-After (password_busy), never a 401:
// nothing was checked.
func TestBudgetFull(t *testing.T) {
	v, err := password.NewVerifier(password.Options{Params: password.Params{Memory: 64 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, MaxConcurrent: 1, MaxWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.HashWith("pw", password.Params{Memory: 64 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32})
	a, err := basic.New(basic.Options{Users: map[string]basic.User{"u": {Hash: h}}, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := authn.New(authn.Options{Authenticator: a})
	srv := g.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const n = 6
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, reqWith(basicHeader("u", "pw")))
			if w.Code == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			codes <- w.Code
		})
	}
	wg.Wait()
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	if seen[200] == 0 || seen[200]+seen[503] != n {
		t.Fatalf("statuses %v; want 200s and 503s only", seen)
	}
	if v.Stats().PeakRunning > 1 {
		t.Fatalf("peak running %d; want 1", v.Stats().PeakRunning)
	}
}

func TestUserFile(t *testing.T) {
	h := hashes()
	dir := t.TempDir()
	file := filepath.Join(dir, "users")
	content := "# demo users\n\nalice:" + h["alice"] + ":admin:read, write\nbob:" + h["bob"] + "::read\ncarol:" + h["carol"] + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := basic.New(basic.Options{File: file, Verifier: newVerifier(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Verify(context.Background(), "alice", "wonderland-2026")
	if err != nil || !p.HasRole("admin") || !p.HasScope("write") || !p.HasScope("read") {
		t.Fatalf("alice: %+v %v", p, err)
	}
	p, err = a.Verify(context.Background(), "bob", "builder-2026")
	if err != nil || len(p.Roles) != 0 || !p.HasScope("read") {
		t.Fatalf("bob: %+v %v", p, err)
	}
	bad := map[string]string{
		"no hash":         "alice\n",
		"bad hash":        "alice:plaintext\n",
		"too many":        "alice:" + h["alice"] + ":a:b:c\n",
		"duplicate":       "alice:" + h["alice"] + "\nalice:" + h["alice"] + "\n",
		"empty name":      ":" + h["alice"] + "\n",
		"control in name": "al\x01ice:" + h["alice"] + "\n",
	}
	for name, content := range bad {
		if _, err := basic.ParseUsers(strings.NewReader(content)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := basic.New(basic.Options{}); err == nil {
		t.Error("no users: accepted")
	}
	if _, err := basic.New(basic.Options{File: filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing file: accepted")
	}
	if _, err := basic.New(basic.Options{File: file, Users: map[string]basic.User{"alice": {Hash: h["alice"]}}}); err == nil {
		t.Error("user in both: accepted")
	}
	if _, err := basic.New(basic.Options{Users: map[string]basic.User{"a:b": {Hash: h["alice"]}}}); err == nil {
		t.Error("colon in name: accepted")
	}
}

// Optional authentication: no credentials pass anonymously; a bad Basic
// credential is still refused, never downgraded to anonymous.
func TestOptional(t *testing.T) {
	a := newAuth(t, newVerifier(t, 1))
	g, _ := authn.New(authn.Options{Authenticator: a, Realm: "r"})
	h := g.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := authn.FromContext(r.Context()); ok {
			w.WriteHeader(299)
		}
	}))
	for _, c := range []struct {
		v    string
		want int
	}{{"", 200}, {basicHeader("alice", "wonderland-2026"), 299}, {basicHeader("alice", "x"), 401}, {"Basic !", 401}} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.v != "" {
			r.Header.Set("Authorization", c.v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%q: %d; want %d", c.v, w.Code, c.want)
		}
	}
}
