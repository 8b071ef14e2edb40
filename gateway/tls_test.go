package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for 127.0.0.1 (server and client use).
func (ca *testCA) issue(t *testing.T, cn string, serial int64) (certPEM, keyPEM []byte, pair tls.Certificate) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, _ = tls.X509KeyPair(certPEM, keyPEM)
	return
}

// TLS termination with certificate reload and a client CA; TLS to the
// upstream with a custom CA and a client certificate; the admin listener
// with a bearer token.
func TestTLSBothWays(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := newCA(t)
	caFile := write("ca.pem", ca.pem)
	// Upstream over mTLS: it requires the gateway's client certificate.
	upCert, upKey, upPair := ca.issue(t, "upstream", 2)
	_ = upCert
	_ = upKey
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "client="+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{upPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	up.StartTLS()
	defer up.Close()
	gwCert, gwKey, _ := ca.issue(t, "gateway-client", 3)
	srvCert, srvKey, _ := ca.issue(t, "gateway-v1", 4)
	certFile, keyFile := write("srv.pem", srvCert), write("srv.key", srvKey)
	config := `
listen: {addr: "127.0.0.1:0", tls: {cert_file: "` + certFile + `", key_file: "` + keyFile + `", client_ca_file: "` + caFile + `"}}
admin: {addr: "127.0.0.1:0", token: "${ADMIN_TOKEN}"}
upstreams:
  app:
    urls: ["` + up.URL + `"]
    tls: {ca_file: "` + caFile + `", cert_file: "` + write("gw.pem", gwCert) + `", key_file: "` + write("gw.key", gwKey) + `"}
policies: {open: {}}
routes: [{match: "/", upstream: app, policy: open}]
`
	path := write("gw.yaml", []byte(config))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	aln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, err := NewServer(ServerOptions{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Resolve: testResolver, WatchInterval: -1, Listener: ln, AdminListener: aln, AuditSink: nil})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	_, _, clientPair := ca.issue(t, "client", 5)
	get := func(withCert bool) (string, string, error) {
		tc := &tls.Config{RootCAs: pool}
		if withCert {
			tc.Certificates = []tls.Certificate{clientPair}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := c.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	var body, cn string
	for range 50 {
		if body, cn, err = get(true); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || body != "client=gateway-client" || cn != "gateway-v1" {
		t.Fatalf("mTLS both ways: %q %q %v", body, cn, err)
	}
	if _, _, err := get(false); err == nil {
		t.Errorf("a client without a certificate was served")
	}
	// Certificate rotation: new files are served without a restart.
	srvCert2, srvKey2, _ := ca.issue(t, "gateway-v2", 6)
	os.WriteFile(keyFile, srvKey2, 0o600)
	os.WriteFile(certFile, srvCert2, 0o600)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, future, future)
	os.Chtimes(keyFile, future, future)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, cn, err = get(true); err == nil && cn == "gateway-v2" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if cn != "gateway-v2" {
		t.Errorf("certificate not reloaded: %q %v", cn, err)
	}
	// Admin: the token is required.
	resp, err := http.Get("http://" + aln.Addr().String() + "/metrics")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("admin without token: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+aln.Addr().String()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer admin-token-0123456789abcdef")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin with token: %v %v", err, resp)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "bulwark_upstream_healthy") {
		t.Errorf("metrics lack the upstream gauge")
	}
	// A browser opens the panel with the token as a Basic password (it
	// cannot send a bearer token by itself): the 401 offers Basic, and any
	// user name with the token passes; a wrong password does not.
	resp, err = http.Get("http://" + aln.Addr().String() + "/security")
	if err != nil || resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `Basic realm="bulwark-admin"`) {
		t.Fatalf("admin /security without token: %v %v", err, resp)
	}
	resp.Body.Close()
	for pw, want := range map[string]int{"admin-token-0123456789abcdef": 200, "admin-token-0123456789abcdeX": 401} {
		req, _ = http.NewRequest("GET", "http://"+aln.Addr().String()+"/security", nil)
		req.SetBasicAuth("operator", pw)
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("admin /security with Basic password %q: %v %v, want %d", pw, err, resp, want)
		}
		resp.Body.Close()
	}
}
