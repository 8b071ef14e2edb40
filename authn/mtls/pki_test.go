package mtls_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"
)

// cert is a certificate and its key.
type cert struct {
	x509 *x509.Certificate
	key  crypto.Signer
}

func (c cert) tls(chain ...cert) tls.Certificate {
	t := tls.Certificate{Certificate: [][]byte{c.x509.Raw}, PrivateKey: c.key, Leaf: c.x509}
	for _, i := range chain {
		t.Certificate = append(t.Certificate, i.x509.Raw)
	}
	return t
}

var serial int64 = 100

// issue makes a certificate from tmpl, signed by parent (self-signed when
// parent is nil).
func issue(t testing.TB, tmpl *x509.Certificate, parent *cert) cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	signer, signerCert := crypto.Signer(key), tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.x509
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert{c, key}
}

func ca(t testing.TB, name string, parent *cert) cert {
	return issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: name, Organization: []string{"Bulwark Test"}},
		IsCA:    true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, parent)
}

func client(t testing.TB, parent cert, cn string, mod func(*x509.Certificate)) cert {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"Bulwark Test"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if mod != nil {
		mod(tmpl)
	}
	return issue(t, tmpl, &parent)
}

func spiffe(id string) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		u, _ := url.Parse(id)
		c.URIs = []*url.URL{u}
	}
}

// pki is a test PKI: a root, an intermediate under it, client certificates
// and a server certificate for 127.0.0.1.
type pki struct {
	root, inter, other                     cert
	svc, alice, expired, serverOnly, rogue cert
	server                                 cert
}

func newPKI(t testing.TB) *pki {
	p := &pki{}
	p.root = ca(t, "Test Root", nil)
	p.inter = ca(t, "Test Intermediate", &p.root)
	p.other = ca(t, "Other Root", nil)
	p.svc = client(t, p.inter, "orders", spiffe("spiffe://example.org/ns/prod/sa/orders"))
	p.alice = client(t, p.root, "Alice", func(c *x509.Certificate) { c.EmailAddresses = []string{"alice@example.org"} })
	p.expired = client(t, p.root, "old", func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	p.serverOnly = client(t, p.root, "server-eku", func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	p.rogue = client(t, p.other, "orders", spiffe("spiffe://example.org/ns/prod/sa/orders"))
	p.server = issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &p.root)
	return p
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.x509)
	return pool
}

// exampleCA returns a CA pool and a client chain (leaf, intermediate) for
// the examples.
func exampleCA() (*x509.CertPool, []*x509.Certificate) {
	p := newPKI(panicTB{})
	return p.pool(), []*x509.Certificate{p.svc.x509, p.inter.x509}
}

// panicTB is a testing.TB outside a test: Fatal panics.
type panicTB struct{ testing.TB }

func (panicTB) Helper()           {}
func (panicTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
