package gateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

// TestSpoofedPrincipalVariantsStripped: servers behind the gateway that
// read headers through CGI-style variables (X_Auth_Subject and
// X-Auth-Subject both become HTTP_X_AUTH_SUBJECT) must not see a
// client's copy under any spelling.
func TestSpoofedPrincipalVariantsStripped(t *testing.T) {
	up, _ := startEcho(t, "app")
	g := startGateway(t, exampleConfig(t, "demo-policy.yaml", "http://127.0.0.1:8000", up.URL))
	bob := hsToken(t, "bob", []string{"user"}, []string{"read"})
	for _, path := range []string{"/api/public", "/api/protected"} {
		req, _ := http.NewRequest("GET", g.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+bob)
		// Set raw, so that no client canonicalisation hides the variants.
		req.Header["X_Auth_Subject"] = []string{"alice"}
		req.Header["X_AUTH_ROLES"] = []string{"admin"}
		req.Header["x-auth-scopes"] = []string{"write"}
		req.Header["X-AUTH_METHOD"] = []string{"mtls"}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		e := decodeEcho(t, b)
		for k, v := range e.Header {
			if !strings.HasPrefix(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "x-auth-") {
				continue
			}
			ok := path == "/api/protected" && len(v) == 1 &&
				(k == "X-Auth-Subject" && v[0] == "bob" || k == "X-Auth-Roles" && v[0] == "user" ||
					k == "X-Auth-Scopes" && v[0] == "read" || k == "X-Auth-Method" && v[0] == "jwt")
			if !ok {
				t.Errorf("%s: spoofed principal header reached the upstream: %s: %q", path, k, v)
			}
		}
	}
}

// TestChunkedBodyOverLimit: a body over the limit without a declared
// length is the client's fault: 413, no upstream marked down, no upstream
// error counted.
func TestChunkedBodyOverLimit(t *testing.T) {
	a, _ := startEcho(t, "a")
	b, _ := startEcho(t, "b")
	g := startGateway(t, `
listen: {addr: 127.0.0.1:0}
upstreams:
  app: {urls: ["`+a.URL+`", "`+b.URL+`"], unhealthy_for: 1h}
policies:
  small: {body_limit: {max_bytes: 1024}}
routes:
  - {match: "/up", upstream: app, policy: small}
`)
	answered := 0
	for i := range 6 {
		// An io.Reader of unknown length: sent chunked.
		body := io.MultiReader(strings.NewReader(strings.Repeat("x", 64<<10)))
		req, _ := http.NewRequest("POST", g.url+"/up", body)
		req.ContentLength = -1
		resp, err := client.Do(req)
		if err != nil {
			// The gateway may close the connection once it has answered.
			t.Logf("request %d: %v", i, err)
			continue
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered++
		if resp.StatusCode != 413 || !strings.Contains(string(rb), "body-too-large") {
			t.Errorf("request %d: %d %s, want a 413 problem", i, resp.StatusCode, rb)
		}
	}
	if answered == 0 {
		t.Fatal("no oversized request was answered")
	}
	for _, u := range []string{a.URL, b.URL} {
		if v := testutil.ToFloat64(g.srv.tel.health.WithLabelValues("app", u)); v != 1 {
			t.Errorf("%s marked down by a client's oversized body", u)
		}
	}
	if v := testutil.ToFloat64(g.srv.tel.upstreams.WithLabelValues("app", "unavailable")); v != 0 {
		t.Errorf("upstream errors counted: %v", v)
	}
	// Both still serve, in turn.
	served := map[string]int{}
	for range 4 {
		resp, rb := g.do("POST", "/up", nil, "small")
		if resp.StatusCode != 200 {
			t.Fatalf("small body: %d %s", resp.StatusCode, rb)
		}
		served[decodeEcho(t, rb).Server]++
	}
	if served["a"] != 2 || served["b"] != 2 {
		t.Errorf("round robin after oversized bodies: %v", served)
	}
}

// TestRetriedUpstreamErrorCounted: a dial failure resent to the next URL
// still counts as an upstream error.
func TestRetriedUpstreamErrorCounted(t *testing.T) {
	up, _ := startEcho(t, "a")
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	g := startGateway(t, basicConfig(`"`+up.URL+`", "`+deadURL+`"`, ""))
	for range 4 {
		if resp, _ := g.do("GET", "/open/", nil, ""); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if v := testutil.ToFloat64(g.srv.tel.upstreams.WithLabelValues("app", "unavailable")); v != 1 {
		t.Errorf("bulwark_upstream_errors_total{kind=unavailable} = %v, want 1 (the retried dial)", v)
	}
}

// strip_credentials keeps the client's credentials at the gateway; a
// route without it forwards them, and the lint notes that.
func TestStripCredentials(t *testing.T) {
	h, err := apikey.NewHasher([]byte("0123456789abcdef0123456789abcdef-APIKEY_SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	key, rec, _ := apikey.Generate(h, apikey.Spec{Owner: "svc", Scopes: []string{"read"}})
	recs := filepath.Join(t.TempDir(), "keys.json")
	writeFile(t, recs, string(mustJSON(t, []apikey.Record{rec})))
	up, _ := startEcho(t, "app")
	config := `
listen: {addr: 127.0.0.1:0}
upstreams: {app: {urls: ["` + up.URL + `"]}}
authenticators:
  jwt: {jwt: {algorithms: [HS256], keys: [{kid: demo, alg: HS256, secret: "${JWT_SECRET}"}]}}
  key: {apikey: {secrets: ["${APIKEY_SECRET}"], records_file: "` + recs + `", header: X-Service-Key, query: api_key}}
  either: {any_of: [jwt, key]}
policies: {p: {authn: [either]}}
routes:
  - {match: "/stripped/", upstream: app, policy: p, strip_credentials: true}
  - {match: "/kept/", upstream: app, policy: p}
`
	g := startGatewayResolve(t, config, guardsResolver)
	tok := hsToken(t, "bob", nil, nil)
	send := func(path string, hdr map[string]string) echoed {
		t.Helper()
		req, _ := http.NewRequest("GET", g.url+path, nil)
		for k, v := range hdr {
			req.Header[k] = []string{v} // raw: underscore spellings kept
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return decodeEcho(t, b)
	}
	e := send("/stripped/a", map[string]string{"Authorization": "Bearer " + tok, "X_API_KEY": "k", "X-Api-Key": "k", "X_Service_Key": "k"})
	if len(e.Header) == 0 || e.Header.Get("Authorization") != "" || e.Header.Get("X-Api-Key") != "" || e.Header.Get("X_api_key") != "" || e.Header.Get("X_service_key") != "" {
		t.Errorf("credentials reached the upstream: %v", e.Header)
	}
	e = send("/stripped/b?api_key="+key+"&page=2", nil)
	if e.Path != "/stripped/b" || e.Query != "page=2" {
		t.Errorf("API key in the query reached the upstream: %+v", e)
	}
	e = send("/stripped/c", map[string]string{"X-Service-Key": key})
	if e.Header.Get("X-Service-Key") != "" {
		t.Errorf("API key header reached the upstream: %v", e.Header)
	}
	if e := send("/kept/a", map[string]string{"Authorization": "Bearer " + tok}); e.Header.Get("Authorization") == "" {
		t.Errorf("without strip_credentials the token is forwarded: %v", e.Header)
	}
	cfg, err := Parse("t.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	var noted []string
	for _, f := range Lint(cfg, LintOptions{}) {
		if f.Code == CodeCredentialsForwarded {
			noted = append(noted, f.Path)
		}
	}
	if fmt.Sprint(noted) != "[routes[1].strip_credentials]" {
		t.Errorf("credentials-forwarded findings: %v", noted)
	}
}
