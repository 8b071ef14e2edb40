package gateway

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

// The JSON API example: JWT from a remote JWKS (ES256), per-IP and
// per-user limits, CORS, scopes, two upstream URLs in rotation.
func TestJWTAPIExample(t *testing.T) {
	key, err := jwt.GenerateKey("k1", jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jh, err := jwt.JWKSHandler(key)
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(jh)
	defer idp.Close()
	a, hitsA := startEcho(t, "a")
	b, hitsB := startEcho(t, "b")
	g := startGateway(t, exampleConfig(t, "jwt-api.json",
		"https://idp.example.com/.well-known/jwks.json", idp.URL,
		"http://127.0.0.1:9001", a.URL, "http://127.0.0.1:9002", b.URL))
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://idp.example.com/", Audience: []string{"orders-api"}})
	if err != nil {
		t.Fatal(err)
	}
	reader, _ := iss.Issue(jwt.Claims{Subject: "u1", Scopes: []string{"orders:read"}})
	resp, body := g.do("GET", "/v1/orders/42", map[string]string{"Authorization": "Bearer " + reader, "X-User-ID": "admin"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("reader: %d %s", resp.StatusCode, body)
	}
	e := decodeEcho(t, body)
	if e.Path != "/orders/42" || e.Header.Get("X-User-ID") != "u1" || e.Header.Get("X-User-Scopes") != "orders:read" {
		t.Errorf("upstream saw %s %v", e.Path, e.Header)
	}
	if resp, _ := g.do("POST", "/v1/orders", map[string]string{"Authorization": "Bearer " + reader}, "{}"); resp.StatusCode != 403 {
		t.Errorf("reader posts: %d", resp.StatusCode)
	}
	other, _ := jwt.GenerateKey("k1", jwt.ES256)
	forger, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: other, Issuer: "https://idp.example.com/", Audience: []string{"orders-api"}})
	forged, _ := forger.Issue(jwt.Claims{Subject: "u1", Scopes: []string{"orders:read"}})
	if resp, _ := g.do("GET", "/v1/orders/1", map[string]string{"Authorization": "Bearer " + forged}, ""); resp.StatusCode != 401 {
		t.Errorf("forged: %d", resp.StatusCode)
	}
	// Per-user burst of 20 per 2s: 40 at once cannot all pass, however
	// slow the machine (sent concurrently, so refills cannot keep up).
	var n429 atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", g.url+"/v1/orders/1", nil)
			req.Header.Set("Authorization", "Bearer "+reader)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 429 {
					n429.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n429.Load() == 0 {
		t.Errorf("per-user limit never refused")
	}
	if hitsA.Load() == 0 || hitsB.Load() == 0 {
		t.Errorf("round robin: a %d, b %d", hitsA.Load(), hitsB.Load())
	}
}
