package demo_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/demo"
)

func TestItemsByAPIKeyOrJWT(t *testing.T) {
	srv := newDemo(t, demo.Config{})
	read, write := []string{"X-API-Key", demo.ReadAPIKey}, []string{"X-API-Key", demo.WriteAPIKey}
	jsonBody := func(h ...string) []string { return append([]string{"Content-Type", "application/json"}, h...) }

	r := do(t, srv, "GET", "/api/items", "")
	wantProblem(t, r, 401)
	if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `Bearer realm="bulwark-demo"`) || !strings.Contains(ch, `ApiKey realm="bulwark-demo"`) {
		t.Fatalf("challenge %q: want Bearer and ApiKey", ch)
	}
	if r := do(t, srv, "GET", "/api/items", "", read...); r.status != 200 || len(r.body["items"].([]any)) == 0 {
		t.Fatalf("read key: %d %s", r.status, r.raw)
	}
	r = do(t, srv, "POST", "/api/items", `{"name":"sprocket"}`, jsonBody(read...)...)
	wantProblem(t, r, 403)
	if !strings.HasSuffix(r.body["type"].(string), "insufficient-scope") {
		t.Fatalf("read key POST: %s", r.raw)
	}
	r = do(t, srv, "POST", "/api/items", `{"name":"sprocket"}`, jsonBody(write...)...)
	if r.status != 201 || r.body["name"] != "sprocket" || r.header.Get("Location") == "" {
		t.Fatalf("write key POST: %d %s", r.status, r.raw)
	}
	if r := do(t, srv, "GET", "/api/items", "", "Authorization", "ApiKey "+demo.ReadAPIKey); r.status != 200 || !strings.Contains(r.raw, "sprocket") {
		t.Fatalf("Authorization: ApiKey: %d %s", r.status, r.raw)
	}
	// Strict JSON: unknown fields 400, a missing name 422.
	wantProblem(t, do(t, srv, "POST", "/api/items", `{"name":"x","admin":true}`, jsonBody(write...)...), 400)
	wantProblem(t, do(t, srv, "POST", "/api/items", `{}`, jsonBody(write...)...), 422)

	// JWT works too, with the account's scopes.
	bob := login(t, srv, demo.BobUser, demo.BobPassword).body["access_token"].(string)
	if r := do(t, srv, "GET", "/api/items", "", bearer(bob)...); r.status != 200 {
		t.Fatalf("bob's token: %d %s", r.status, r.raw)
	}
	wantProblem(t, do(t, srv, "POST", "/api/items", `{"name":"x"}`, jsonBody(bearer(bob)...)...), 403)
	alice := login(t, srv, demo.AliceUser, demo.AlicePassword).body["access_token"].(string)
	if r := do(t, srv, "POST", "/api/items", `{"name":"x"}`, jsonBody(bearer(alice)...)...); r.status != 201 {
		t.Fatalf("alice's token: %d %s", r.status, r.raw)
	}

	// Bad credentials: 401 with the challenge, never a 500; a bad token is
	// not rescued by a good key.
	for _, h := range [][]string{
		{"X-API-Key", "demo-read-key-0003"},
		{"X-API-Key", "bwk_live_0000000000000000_000000000000000000000000000000"},
		{"X-API-Key", strings.Repeat("k", 64<<10)},
		{"X-API-Key", "key\xff\xfe"}, // non-UTF-8 (Go's client refuses to send control bytes; the unit tests send them)
		{"Authorization", "ApiKey"},
		{"Authorization", "Bearer not.a.jwt", "X-API-Key", demo.WriteAPIKey},
	} {
		r := do(t, srv, "GET", "/api/items", "", h...)
		wantProblem(t, r, 401)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%.40q: no challenge", h)
		}
	}
}

func TestBannerSaysDemoKeysAreDemoOnly(t *testing.T) {
	b := demo.Banner("http://127.0.0.1:8000", false)
	if !strings.Contains(b, demo.ReadAPIKey) || !strings.Contains(b, "demo only") || !strings.Contains(b, "/api/items") {
		t.Fatalf("banner:\n%s", b)
	}
}

// Every credential presented must be good, in both directions: a valid
// bearer token does not rescue a bad API key, a valid key does not rescue
// a bad ApiKey authorization; and an Authorization header that no
// authenticator reads, or an empty X-API-Key, is refused with its own
// reason (one audit event), not taken for "no credential" — on the
// optional route too, which still lets a request without any through.
func TestItemsEveryCredentialCounts(t *testing.T) {
	sink := audit.NewMemory()
	srv := newDemo(t, demo.Config{Audit: sink})
	bob := login(t, srv, demo.BobUser, demo.BobPassword).body["access_token"].(string)
	for _, c := range []struct {
		path   string
		hdr    []string
		reason string
	}{
		{"/api/items", []string{"Authorization", "Bearer " + bob, "X-API-Key", "wrong-key"}, "apikey_unknown"},
		{"/api/items", []string{"X-API-Key", demo.ReadAPIKey, "Authorization", "ApiKey wrong"}, "apikey_ambiguous"},
		{"/api/items", []string{"Authorization", "Bearer not.a.jwt", "X-API-Key", demo.ReadAPIKey}, "token_malformed"},
		{"/api/items", []string{"Authorization", demo.ReadAPIKey}, "authorization_malformed"},
		{"/api/items", []string{"Authorization", "Foo bar"}, "authorization_scheme_unsupported"},
		{"/api/items", []string{"X-API-Key", ""}, "apikey_empty"},
		{"/api/posts", []string{"Authorization", "Foo bar"}, "authorization_scheme_unsupported"},
		{"/api/posts", []string{"Authorization", demo.ReadAPIKey}, "authorization_malformed"},
	} {
		n := len(sink.Events())
		r := do(t, srv, "GET", c.path, "", c.hdr...)
		ev := sink.Events()[n:]
		if r.status != 401 || len(ev) != 1 || ev[0].Reason != c.reason {
			t.Errorf("%s %.60q: %d %+v; want 401 and one %s event", c.path, c.hdr, r.status, ev, c.reason)
			continue
		}
		if c.path == "/api/items" && c.reason != "token_malformed" {
			if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, "Bearer") || !strings.Contains(ch, "ApiKey") {
				t.Errorf("%.60q: challenge %q; want Bearer and ApiKey", c.hdr, ch)
			}
		}
	}
	// Both good: accepted. Nothing at all on the optional route: anonymous.
	if r := do(t, srv, "GET", "/api/items", "", "Authorization", "Bearer "+bob, "X-API-Key", demo.ReadAPIKey); r.status != 200 {
		t.Errorf("good token and good key: %d %s", r.status, r.raw)
	}
	if r := do(t, srv, "GET", "/api/posts", ""); r.status != 200 {
		t.Errorf("anonymous /api/posts: %d %s", r.status, r.raw)
	}
}
