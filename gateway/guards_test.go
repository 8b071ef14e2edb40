package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

// jar keeps cookies by name and sends them back, Secure ones included
// (the tests speak plain HTTP to a gateway that marks cookies Secure).
type jar map[string]string

func (j jar) take(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j, c.Name)
			continue
		}
		j[c.Name] = c.Value
	}
}

func (j jar) header() string {
	var parts []string
	for k, v := range j {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

func (g *gw) browse(j jar, method, path string, hdr map[string]string, body string) (*http.Response, []byte) {
	g.t.Helper()
	h := map[string]string{"Cookie": j.header()}
	for k, v := range hdr {
		h[k] = v
	}
	if h["Cookie"] == "" {
		delete(h, "Cookie")
	}
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rb)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	j.take(resp)
	return resp, b
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func guardsResolver(name string) (string, bool) {
	switch name {
	case "SESSION_CSRF_KEY", "ABUSE_SECRET", "APIKEY_SECRET":
		return "0123456789abcdef0123456789abcdef-" + name, true
	}
	return testResolver(name)
}

// The browser example: the gateway's own form login creates the session
// (CSRF-checked, login CSRF included), pages get a CSRF token upstream,
// unsafe requests need it, the session and CSRF cookies never reach the
// upstream, the card-testing detector blocks the 4th card, and logout
// ends the session server-side.
func TestBrowserAppExample(t *testing.T) {
	up, _ := startEcho(t, "app")
	dir := t.TempDir()
	cfg := exampleConfig(t, "browser-app.yaml", "http://127.0.0.1:8000", up.URL,
		"browser-app/users.txt", filepath.Join(absExamples(t), "browser-app", "users.txt"))
	_ = dir
	g := startGatewayResolve(t, cfg, guardsResolver)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": g.url}
	login := func(j jar, user, pw, token string, extra map[string]string) *http.Response {
		h := map[string]string{}
		for k, v := range form {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		v := url.Values{"username": {user}, "password": {pw}}
		if token != "" {
			v.Set("csrf_token", token)
		}
		resp, b := g.browse(j, "POST", "/login", h, v.Encode())
		_ = b
		return resp
	}

	j := jar{"theme": "dark"}
	resp, b := g.browse(j, "GET", "/login", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("login page: %d %s", resp.StatusCode, b)
	}
	token := decodeEcho(t, b).Header.Get("X-Csrf-Token")
	if token == "" || j["csrf"] == "" {
		t.Fatalf("no CSRF token upstream (%q) or pre-session cookie (%v)", token, j)
	}
	// Login CSRF: no token, or a cross-site post, is refused before any
	// password is checked.
	if r := login(jar{}, "alice", "wonderland-2026", "", nil); r.StatusCode != 403 {
		t.Errorf("login without cookie or token: %d", r.StatusCode)
	}
	if r := login(j.clone(), "alice", "wonderland-2026", token, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); r.StatusCode != 403 {
		t.Errorf("cross-site login: %d", r.StatusCode)
	}
	if r := login(j.clone(), "alice", "wrong-password", token, nil); r.StatusCode != 401 {
		t.Errorf("wrong password: %d", r.StatusCode)
	}
	r := login(j, "alice", "wonderland-2026", token, nil)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/app/" || j["__Host-session"] == "" {
		t.Fatalf("login: %d %v %v", r.StatusCode, r.Header, j)
	}
	if sc := strings.Join(r.Header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("session cookie attributes: %s", sc)
	}

	// Logged in: the principal upstream, spoofed copies stripped; the
	// gateway's cookies removed, the application's kept.
	resp, b = g.browse(j, "GET", "/app/", map[string]string{"X-Auth-Subject": "mallory"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("app: %d %s", resp.StatusCode, b)
	}
	e := decodeEcho(t, b)
	if got := e.Header.Values("X-Auth-Subject"); len(got) != 1 || got[0] != "alice" || e.Header.Get("X-Auth-Roles") != "admin" {
		t.Errorf("principal upstream: %v", e.Header)
	}
	if c := e.Header.Get("Cookie"); c != "theme=dark" {
		t.Errorf("cookies upstream: %q", c)
	}
	token = e.Header.Get("X-Csrf-Token")
	// Unsafe requests: a token bound to this session is required.
	if resp, _ := g.browse(j, "POST", "/app/notes", map[string]string{"Content-Type": "application/json"}, `{"text":"hi"}`); resp.StatusCode != 403 {
		t.Errorf("note without token: %d", resp.StatusCode)
	}
	if resp, b := g.browse(j, "POST", "/app/notes", map[string]string{"Content-Type": "application/json", "X-CSRF-Token": token}, `{"text":"hi"}`); resp.StatusCode != 200 {
		t.Errorf("note with token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.do("GET", "/app/", nil, ""); resp.StatusCode != 401 {
		t.Errorf("app without a session: %d", resp.StatusCode)
	}
	// Card testing: the 4th distinct card from one client is refused.
	var codes []int
	for _, card := range []string{"4111111111111111", "4000000000000002", "5555555555554444", "378282246310005"} {
		resp, _ := g.browse(j, "POST", "/checkout", map[string]string{"Content-Type": "application/json", "X-CSRF-Token": token},
			`{"card_number":"`+card+`","exp_month":12,"exp_year":2030,"amount":5}`)
		codes = append(codes, resp.StatusCode)
	}
	if codes[2] != 200 || codes[3] != 403 {
		t.Errorf("checkout codes %v, want the 4th card refused", codes)
	}
	// Logout ends the session server-side: the old cookie is dead.
	old := j["__Host-session"]
	if resp, _ := g.browse(j, "POST", "/logout", map[string]string{"X-CSRF-Token": token}, ""); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := g.do("GET", "/app/", map[string]string{"Cookie": "__Host-session=" + old}, ""); resp.StatusCode != 401 {
		t.Errorf("old session after logout: %d", resp.StatusCode)
	}
}

func (j jar) clone() jar {
	c := jar{}
	for k, v := range j {
		c[k] = v
	}
	return c
}

func absExamples(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "examples", "gateway"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The internal-service example: TLS with client certificates, and every
// request needs both the certificate and an API key (all_of); the key's
// record decides the scopes.
func TestInternalServiceExample(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := newCA(t)
	srvCert, srvKey, _ := ca.issue(t, "gateway", 2)
	_, _, billing := ca.issue(t, "billing", 3)
	_, _, stranger := ca.issue(t, "stranger", 4)
	h, err := apikey.NewHasher([]byte("0123456789abcdef0123456789abcdef-APIKEY_SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	writeKey, wrec, _ := apikey.Generate(h, apikey.Spec{Owner: "billing", Scopes: []string{"read", "write"}})
	readKey, rrec, _ := apikey.Generate(h, apikey.Spec{Owner: "reports", Scopes: []string{"read"}})
	recs := write("keys.json", mustJSON(t, []apikey.Record{wrec, rrec}))
	up, hits := startEcho(t, "ledger")
	cfg := exampleConfig(t, "internal-service.yaml",
		"0.0.0.0:8443", "127.0.0.1:0", "https://ledger.internal:9443", up.URL,
		"internal-service/server.pem", write("srv.pem", srvCert), "internal-service/server.key", write("srv.key", srvKey),
		"internal-service/clients-ca.pem", write("ca.pem", ca.pem), "internal-service/apikeys.jsonl", recs)
	g := startGatewayResolve(t, cfg, guardsResolver)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	call := func(cert *tls.Certificate, method, key string) int {
		tc := &tls.Config{RootCAs: roots}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		req, _ := http.NewRequest(method, strings.Replace(g.url, "http://", "https://", 1)+"/v1/entries", nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := c.Do(req)
		if err != nil {
			return -1 // the TLS handshake refused the connection
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		method string
		key    string
		want   int
	}{
		{"no certificate", nil, "GET", readKey, -1},
		{"certificate, no key", &billing, "GET", "", 401},
		{"certificate and a bad key", &billing, "GET", "bwk_live_7Qh2mZk3c9LxYa_Vt4rJ0pWb8nE1sKq6uFz2Hd3G0k9Ay", 401},
		{"certificate not allowed", &stranger, "GET", readKey, 403},
		{"read key reads", &billing, "GET", readKey, 200},
		{"read key cannot write", &billing, "POST", readKey, 403},
		{"write key writes", &billing, "POST", writeKey, 200},
	} {
		if got := call(tc.cert, tc.method, tc.key); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("upstream saw %d requests, want 2", hits.Load())
	}
}
