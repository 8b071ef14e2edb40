package mtls_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/mtls"
	"github.com/bulwark-go/bulwark/clientip"
)

// who is what a test server answers: the principal, or the refusal.
type who struct {
	Status  int
	Subject string
	Method  string
	Source  string
	Roles   []string
	Scopes  []string
	Via     bool
	Reason  string
	Chall   string
}

// server runs a on a real loopback listener: TLS asking for (not
// verifying) client certificates when tlsOn, plain HTTP otherwise.
func server(t *testing.T, p *pki, a authn.Authenticator, tlsOn bool) (*httptest.Server, *audit.Memory) {
	t.Helper()
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: a, Realm: "api", Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, _ := authn.FromContext(r.Context())
		c, _ := mtls.CertificateOf(pr)
		if all, ok := authn.Claim[[]*authn.Principal](pr, "authn.all"); ok {
			for _, m := range all {
				if cc, ok := mtls.CertificateOf(m); ok {
					c = cc
				}
			}
		}
		_ = json.NewEncoder(w).Encode(who{Status: 200, Subject: pr.Subject, Method: pr.Method, Source: pr.Source.String(),
			Roles: pr.Roles, Scopes: pr.Scopes, Via: c != nil && c.ViaProxy})
	}))
	srv := httptest.NewUnstartedServer(h)
	if tlsOn {
		srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, Certificates: []tls.Certificate{p.server.tls()}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, mem
}

// get sends GET / with the client certificate c (and chain) when given,
// and the headers hdr.
func get(t *testing.T, p *pki, srv *httptest.Server, mem *audit.Memory, c *tls.Certificate, hdr ...string) who {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool()}}
	if c != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*c}
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	n := len(mem.Events())
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out who
	if res.StatusCode == 200 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return out
	}
	out.Status, out.Chall = res.StatusCode, res.Header.Get("WWW-Authenticate")
	if ev := mem.Events(); len(ev) == n+1 {
		out.Reason = ev[n].Reason
	} else {
		t.Errorf("%d audit events for one refusal", len(ev)-n)
	}
	return out
}

func tc(c cert, chain ...cert) *tls.Certificate { x := c.tls(chain...); return &x }

func newMTLS(t *testing.T, o mtls.Options) *mtls.Authenticator {
	t.Helper()
	m, err := mtls.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Client certificates on a real TLS connection: verified against the
// configured pool (not the server's: it only asks for them), with the
// chain the client sends, for client authentication, in validity.
func TestTLSDirect(t *testing.T) {
	p := newPKI(t)
	m := newMTLS(t, mtls.Options{ClientCAs: p.pool(), Grants: map[string]mtls.Grant{
		"spiffe://example.org/ns/prod/sa/orders": {Roles: []string{"service"}, Scopes: []string{"orders:read"}},
	}})
	srv, mem := server(t, p, m, true)

	got := get(t, p, srv, mem, tc(p.svc, p.inter))
	if got.Status != 200 || got.Subject != "spiffe://example.org/ns/prod/sa/orders" || got.Method != "mtls" || got.Source != "tls" ||
		len(got.Roles) != 1 || got.Roles[0] != "service" || got.Scopes[0] != "orders:read" || got.Via {
		t.Fatalf("svc: %+v", got)
	}
	if got := get(t, p, srv, mem, tc(p.alice)); got.Status != 200 || got.Subject != "alice@example.org" {
		t.Fatalf("alice: %+v", got)
	}
	for name, c := range map[string]struct {
		cert   *tls.Certificate
		reason string
	}{
		"no intermediate": {tc(p.svc), "client_cert_untrusted"},
		"other CA":        {tc(p.rogue), "client_cert_untrusted"},
		"expired":         {tc(p.expired), "client_cert_expired"},
		"server EKU":      {tc(p.serverOnly), "client_cert_usage"},
		"none":            {nil, "token_missing"},
	} {
		if got := get(t, p, srv, mem, c.cert); got.Status != 401 || got.Reason != c.reason || got.Chall == "" {
			t.Errorf("%s: %+v; want 401 %s with a challenge", name, got, c.reason)
		}
	}
	// A client sending Client-Cert itself, to a server that trusts no proxy.
	if got := get(t, p, srv, mem, nil, "Client-Cert", sfBinary(p.svc.x509.Raw)); got.Status != 401 || got.Reason != "client_cert_header_untrusted" {
		t.Fatalf("spoofed header: %+v", got)
	}
}

func sfBinary(der []byte) string { return ":" + base64.StdEncoding.EncodeToString(der) + ":" }

// Behind a TLS-terminating proxy: RFC 9440 headers are believed from a
// trusted peer only; the proxy's own TLS certificate never stands for the
// client.
func TestProxyHeaders(t *testing.T) {
	p := newPKI(t)
	trusting := newMTLS(t, mtls.Options{ClientCAs: p.pool(), TrustedProxies: []string{"loopback"}})
	srv, mem := server(t, p, trusting, false)
	got := get(t, p, srv, mem, nil, "Client-Cert", sfBinary(p.svc.x509.Raw), "Client-Cert-Chain", sfBinary(p.inter.x509.Raw))
	if got.Status != 200 || got.Subject != "spiffe://example.org/ns/prod/sa/orders" || !got.Via {
		t.Fatalf("trusted proxy: %+v", got)
	}
	// The chain on two header lines, with parameters, unpadded base64.
	raw := base64.RawStdEncoding.EncodeToString(p.alice.x509.Raw)
	if got := get(t, p, srv, mem, nil, "Client-Cert", " :"+raw+":;ext=1 ", "Client-Cert-Chain", sfBinary(p.inter.x509.Raw)+`;a="b"`, "Client-Cert-Chain", sfBinary(p.root.x509.Raw)); got.Status != 200 || got.Subject != "alice@example.org" {
		t.Fatalf("alice via proxy: %+v", got)
	}
	for name, c := range map[string]struct {
		hdr    []string
		reason string
	}{
		"missing intermediate": {[]string{"Client-Cert", sfBinary(p.svc.x509.Raw)}, "client_cert_untrusted"},
		"other CA":             {[]string{"Client-Cert", sfBinary(p.rogue.x509.Raw)}, "client_cert_untrusted"},
		"not sf":               {[]string{"Client-Cert", base64.StdEncoding.EncodeToString(p.svc.x509.Raw)}, "client_cert_malformed"},
		"not a certificate":    {[]string{"Client-Cert", sfBinary([]byte("hello"))}, "client_cert_malformed"},
		"two headers":          {[]string{"Client-Cert", sfBinary(p.svc.x509.Raw), "Client-Cert", sfBinary(p.svc.x509.Raw)}, "client_cert_malformed"},
		"chain alone":          {[]string{"Client-Cert-Chain", sfBinary(p.inter.x509.Raw)}, "client_cert_malformed"},
		"64 KB":                {[]string{"Client-Cert", ":" + strings.Repeat("QUFB", 16<<10) + ":"}, "client_cert_malformed"},
		"bad chain":            {[]string{"Client-Cert", sfBinary(p.svc.x509.Raw), "Client-Cert-Chain", "x"}, "client_cert_malformed"},
	} {
		if got := get(t, p, srv, mem, nil, c.hdr...); got.Status != 401 || got.Reason != c.reason {
			t.Errorf("%s: %+v; want 401 %s", name, got, c.reason)
		}
	}

	// The same request from a peer that is not a trusted proxy.
	untrusting := newMTLS(t, mtls.Options{ClientCAs: p.pool(), TrustedProxies: []string{"10.0.0.0/8"}})
	srv2, mem2 := server(t, p, untrusting, false)
	if got := get(t, p, srv2, mem2, nil, "Client-Cert", sfBinary(p.svc.x509.Raw), "Client-Cert-Chain", sfBinary(p.inter.x509.Raw)); got.Status != 401 || got.Reason != "client_cert_header_untrusted" {
		t.Fatalf("untrusted peer: %+v", got)
	}

	// A trusted proxy that connects over TLS with a certificate of its own,
	// without Client-Cert: its certificate is not the client's.
	srv3, mem3 := server(t, p, trusting, true)
	if got := get(t, p, srv3, mem3, tc(p.alice)); got.Status != 401 || got.Reason != "token_missing" {
		t.Fatalf("proxy's own certificate: %+v", got)
	}
	if got := get(t, p, srv3, mem3, tc(p.alice), "Client-Cert", sfBinary(p.svc.x509.Raw), "Client-Cert-Chain", sfBinary(p.inter.x509.Raw)); got.Status != 200 || got.Subject != "spiffe://example.org/ns/prod/sa/orders" {
		t.Fatalf("proxy over TLS forwarding: %+v", got)
	}
}

func TestAllowLists(t *testing.T) {
	p := newPKI(t)
	m := newMTLS(t, mtls.Options{ClientCAs: p.pool(), AllowedSPIFFEIDs: []string{"spiffe://example.org/ns/prod/*"}})
	srv, mem := server(t, p, m, true)
	if got := get(t, p, srv, mem, tc(p.svc, p.inter)); got.Status != 200 {
		t.Fatalf("svc: %+v", got)
	}
	if got := get(t, p, srv, mem, tc(p.alice)); got.Status != 403 || got.Reason != "client_cert_not_allowed" {
		t.Fatalf("alice: %+v", got)
	}
	m = newMTLS(t, mtls.Options{ClientCAs: p.pool(), AllowedSubjects: []string{"alice@example.org"},
		AllowedSPIFFEIDs: []string{"spiffe://example.org/ns/prod/sa/billing"}})
	srv, mem = server(t, p, m, true)
	if got := get(t, p, srv, mem, tc(p.alice)); got.Status != 200 {
		t.Fatalf("alice by subject: %+v", got)
	}
	if got := get(t, p, srv, mem, tc(p.svc, p.inter)); got.Status != 403 {
		t.Fatalf("svc not listed: %+v", got)
	}
	hops, err := clientip.New(clientip.Options{TrustedHops: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]mtls.Options{
		"no CAs":        {},
		"bad SPIFFE ID": {ClientCAs: p.pool(), AllowedSPIFFEIDs: []string{"https://example.org"}},
		"bad proxy":     {ClientCAs: p.pool(), TrustedProxies: []string{"0.0.0.0/0"}},
		"chain":         {ClientCAs: p.pool(), MaxChainLen: 100},
		"missing file":  {CAFile: "/nonexistent/ca.pem"},
		"hops":          {ClientCAs: p.pool(), Proxies: hops},
	} {
		if _, err := mtls.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// RFC 8705 §3: a token carrying cnf.x5t#S256 is accepted only with the
// client certificate of that thumbprint, on a real TLS connection.
func TestCertificateBoundTokens(t *testing.T) {
	p := newPKI(t)
	m := newMTLS(t, mtls.Options{ClientCAs: p.pool()})
	key, err := jwt.NewKey("k1", jwt.HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	token := func(cnf map[string]any) string {
		c := jwt.Claims{Subject: "orders-client", Scopes: []string{"orders:read"}}
		if cnf != nil {
			c.Extra = map[string]any{"cnf": cnf}
		}
		s, err := iss.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	boundTok := token(map[string]any{"x5t#S256": mtls.Thumbprint(p.svc.x509.Raw)})
	plainTok := token(nil)
	dpopTok := token(map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})

	srv, mem := server(t, p, authn.AnyOf(mtls.CertificateBound(v, m, mtls.BoundOptions{}), m), true)
	if got := get(t, p, srv, mem, tc(p.svc, p.inter), "Authorization", boundTok); got.Status != 200 || got.Method != "jwt" || got.Subject != "orders-client" {
		t.Fatalf("right certificate: %+v", got)
	}
	for name, c := range map[string]struct {
		cert   *tls.Certificate
		tok    string
		reason string
	}{
		"no certificate":      {nil, boundTok, "token_cert_missing"},
		"another certificate": {tc(p.alice), boundTok, "token_cert_mismatch"},
		"untrusted cert":      {tc(p.rogue), boundTok, "client_cert_untrusted"},
		"DPoP-bound":          {tc(p.svc, p.inter), dpopTok, "token_binding_unsupported"},
	} {
		got := get(t, p, srv, mem, c.cert, "Authorization", c.tok)
		if got.Status != 401 || got.Reason != c.reason {
			t.Errorf("%s: %+v; want 401 %s", name, got, c.reason)
		}
		if c.reason != "client_cert_untrusted" && !strings.Contains(got.Chall, `error="invalid_token"`) {
			t.Errorf("%s: challenge %q; want error=\"invalid_token\" (RFC 8705 §3)", name, got.Chall)
		}
	}
	// The same token through a cert-bound proxy header.
	if got := get(t, p, srv, mem, nil, "Authorization", plainTok); got.Status != 200 {
		t.Fatalf("unbound token: %+v", got)
	}
	strict, mem2 := server(t, p, mtls.CertificateBound(v, m, mtls.BoundOptions{RequireBinding: true}), true)
	if got := get(t, p, strict, mem2, tc(p.svc, p.inter), "Authorization", plainTok); got.Status != 401 || got.Reason != "token_not_bound" {
		t.Fatalf("RequireBinding, unbound token: %+v", got)
	}

	// Both credentials required: AllOf(bound token, certificate).
	both, mem3 := server(t, p, authn.AllOf(mtls.CertificateBound(v, m, mtls.BoundOptions{}), m), true)
	if got := get(t, p, both, mem3, tc(p.svc, p.inter), "Authorization", boundTok); got.Status != 200 || got.Method != "jwt+mtls" || got.Source != "tls" || got.Scopes[0] != "orders:read" {
		t.Fatalf("AllOf: %+v", got)
	}
	if got := get(t, p, both, mem3, nil, "Authorization", plainTok); got.Status != 401 || got.Reason != "credentials_incomplete" {
		t.Fatalf("AllOf without certificate: %+v", got)
	}
	if got := get(t, p, both, mem3, tc(p.alice), "Authorization", boundTok); got.Status != 401 || got.Reason != "token_cert_mismatch" {
		t.Fatalf("AllOf, other certificate: %+v", got)
	}

	// Without CertificateBound nothing checks the binding, so the
	// verifier refuses a bound token whatever the certificate: AllOf in
	// either order, or the verifier alone.
	for name, a := range map[string]authn.Authenticator{
		"AllOf(mtls, jwt)": authn.AllOf(m, v),
		"AllOf(jwt, mtls)": authn.AllOf(v, m),
		"jwt alone":        v,
	} {
		srv, mem := server(t, p, a, true)
		for _, cert := range []*tls.Certificate{nil, tc(p.alice), tc(p.svc, p.inter)} {
			got := get(t, p, srv, mem, cert, "Authorization", boundTok)
			if got.Status != 401 || got.Reason != "token_binding_unchecked" || !strings.Contains(got.Chall, `error="invalid_token"`) {
				t.Errorf("%s, bound token, certificate %v: %+v; want 401 token_binding_unchecked", name, cert != nil, got)
			}
		}
		if name != "jwt alone" {
			if got := get(t, p, srv, mem, tc(p.svc, p.inter), "Authorization", plainTok); got.Status != 200 {
				t.Errorf("%s, unbound token: %+v", name, got)
			}
		}
	}
}

// Optional authentication: no certificate passes anonymously, a bad one is
// refused.
func TestOptional(t *testing.T) {
	p := newPKI(t)
	m := newMTLS(t, mtls.Options{ClientCAs: p.pool()})
	g, _ := authn.New(authn.Options{Authenticator: m})
	h := g.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := authn.FromContext(r.Context()); ok {
			w.WriteHeader(299)
		}
	}))
	for _, c := range []struct {
		chain []*x509.Certificate
		want  int
	}{{nil, 200}, {[]*x509.Certificate{p.alice.x509}, 299}, {[]*x509.Certificate{p.rogue.x509}, 401}} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.chain != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: c.chain}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%v: %d; want %d", c.chain != nil, w.Code, c.want)
		}
	}
}
