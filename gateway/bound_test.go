package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/mtls"
)

// An all_of of mtls and jwt checks certificate-bound tokens (RFC 8705
// §3): the jwt member is wrapped in mtls.CertificateBound, so a bound
// token is accepted with its certificate only — not with another one —
// and an unbound token with any trusted certificate.
func TestAllOfBindsTokensToCertificates(t *testing.T) {
	ca := newCA(t)
	_, _, svc := ca.issue(t, "svc", 2)
	_, _, other := ca.issue(t, "other", 3)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, order := range []string{"[cert, tok]", "[tok, cert]"} {
		up, _ := startEcho(t, "app")
		cfg, err := Parse("bound.yaml", []byte(`
listen: {addr: 127.0.0.1:0}
upstreams:
  app: {urls: [`+quoteURLs(up.URL)+`]}
policies:
  svc: {authn: [both]}
routes:
  - {match: "/", upstream: app, policy: svc}
authenticators:
  cert: {mtls: {ca_file: `+caFile+`}}
  tok: {jwt: {algorithms: [HS256], keys: [{kid: k1, alg: HS256, secret: "0123456789abcdef0123456789abcdef"}]}}
  both: {all_of: `+order+`}
`))
		if err != nil {
			t.Fatal(err)
		}
		mem := audit.NewMemory()
		tel, err := NewTelemetry(nil, mem)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(cfg, BuildOptions{Telemetry: tel, Resolve: testResolver})
		if err != nil {
			t.Fatal(err)
		}
		key, _ := jwt.NewKey("k1", jwt.HS256, []byte("0123456789abcdef0123456789abcdef"))
		iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key})
		svcLeaf, _ := x509.ParseCertificate(svc.Certificate[0])
		bound, _ := iss.Issue(jwt.Claims{Subject: "svc", Extra: map[string]any{"cnf": map[string]any{"x5t#S256": mtls.Thumbprint(svcLeaf.Raw)}}})
		plain, _ := iss.Issue(jwt.Claims{Subject: "svc"})
		for _, c := range []struct {
			name   string
			cert   tls.Certificate
			tok    string
			reason string
		}{
			{"bound token, its certificate", svc, bound, ""},
			{"bound token, another certificate", other, bound, "token_cert_mismatch"},
			{"unbound token", other, plain, ""},
		} {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+c.tok)
			leaf, _ := x509.ParseCertificate(c.cert.Certificate[0])
			r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{leaf}}
			n := len(mem.Events())
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			ev := mem.Events()[n:]
			if c.reason == "" {
				if w.Code != 200 {
					t.Errorf("%s, %s: %d %+v; want 200", order, c.name, w.Code, ev)
				}
				continue
			}
			if w.Code != 401 || len(ev) != 1 || ev[0].Reason != c.reason {
				t.Errorf("%s, %s: %d %+v; want 401 %s", order, c.name, w.Code, ev, c.reason)
			}
		}
		g.Close(time.Second)
	}
}
