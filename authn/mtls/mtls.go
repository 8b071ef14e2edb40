package mtls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
)

// DefaultMaxChainLen is the default Options.MaxChainLen.
const DefaultMaxChainLen = 4

// Grant is what a certificate's principal may do.
type Grant struct {
	Roles  []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
}

// Options configure an Authenticator. One of ClientCAs or CAFile is
// required.
type Options struct {
	// ClientCAs are the certificate authorities a client chain must lead
	// to. Default none.
	ClientCAs *x509.CertPool `json:"-" yaml:"-"`
	// CAFile names a PEM file of CA certificates, added to ClientCAs.
	// Default none.
	CAFile string `json:"ca_file,omitempty" yaml:"ca_file,omitempty"`
	// TrustedProxies are the TLS-terminating proxies whose RFC 9440
	// Client-Cert and Client-Cert-Chain headers are believed, in the syntax
	// of clientip.Options.TrustedProxies ("10.0.0.0/8", "loopback", …).
	// From any other peer those headers are refused (401,
	// client_cert_header_untrusted). Default none: only certificates of
	// the request's own TLS connection count.
	TrustedProxies []string `json:"trusted_proxies,omitempty" yaml:"trusted_proxies,omitempty"`
	// Proxies, instead of TrustedProxies, is the application's identity
	// guard, whose trusted proxies are then these ones too. It must not
	// use TrustedHops: with it every peer is trusted, and any client could
	// name its certificate in a header. Default nil.
	Proxies *clientip.Identity `json:"-" yaml:"-"`
	// AllowedSPIFFEIDs, when set, admit only certificates whose SPIFFE ID
	// is listed: exactly, or under an entry ending in "/*"
	// ("spiffe://example.org/ns/prod/*"). Default: any.
	AllowedSPIFFEIDs []string `json:"allowed_spiffe_ids,omitempty" yaml:"allowed_spiffe_ids,omitempty"`
	// AllowedSubjects, when set, admit only certificates whose principal
	// Subject (see the package documentation) or subject DN (RFC 2253,
	// "CN=svc,O=Example") is listed. A certificate is admitted when either
	// list admits it. Default: any.
	AllowedSubjects []string `json:"allowed_subjects,omitempty" yaml:"allowed_subjects,omitempty"`
	// Grants gives roles and scopes by principal Subject. Default none.
	Grants map[string]Grant `json:"grants,omitempty" yaml:"grants,omitempty"`
	// MaxChainLen bounds the certificates a client may present (leaf and
	// intermediates). Default DefaultMaxChainLen.
	MaxChainLen int `json:"max_chain_len,omitempty" yaml:"max_chain_len,omitempty"`
	// Now is the clock validity is checked at. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Authenticator authenticates TLS client certificates. It is an
// authn.Authenticator; immutable after New and safe for concurrent use.
type Authenticator struct {
	roots    *x509.CertPool
	proxies  *clientip.Identity
	spiffe   []string
	subjects map[string]bool
	grants   map[string]Grant
	maxChain int
	now      func() time.Time
}

// New validates opts and returns an Authenticator.
func New(opts Options) (*Authenticator, error) {
	roots := opts.ClientCAs
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mtls: reading CAFile: %w", err)
		}
		if roots == nil {
			roots = x509.NewCertPool()
		} else {
			roots = roots.Clone()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mtls: CAFile %s holds no PEM certificate", opts.CAFile)
		}
	}
	if roots == nil {
		return nil, errors.New("mtls: set ClientCAs or CAFile: the authorities client certificates must lead to")
	}
	a := &Authenticator{roots: roots, proxies: opts.Proxies, grants: opts.Grants, maxChain: opts.MaxChainLen, now: opts.Now}
	switch {
	case len(opts.TrustedProxies) > 0 && opts.Proxies != nil:
		return nil, errors.New("mtls: set TrustedProxies or Proxies, not both")
	case len(opts.TrustedProxies) > 0:
		id, err := clientip.New(clientip.Options{TrustedProxies: opts.TrustedProxies})
		if err != nil {
			return nil, fmt.Errorf("mtls: %w", err)
		}
		a.proxies = id
	}
	if a.proxies != nil && trustsEveryPeer(a.proxies) {
		return nil, errors.New("mtls: Proxies trusts every peer (TrustedHops?): any client could then name its certificate in Client-Cert; list the proxies' addresses in TrustedProxies")
	}
	if a.maxChain == 0 {
		a.maxChain = DefaultMaxChainLen
	}
	if a.maxChain < 1 || a.maxChain > 16 {
		return nil, fmt.Errorf("mtls: MaxChainLen %d; it must be between 1 and 16", a.maxChain)
	}
	if a.now == nil {
		a.now = time.Now
	}
	for _, id := range opts.AllowedSPIFFEIDs {
		if !strings.HasPrefix(id, "spiffe://") || len(id) <= len("spiffe://") {
			return nil, fmt.Errorf("mtls: AllowedSPIFFEIDs entry %q is not a SPIFFE ID (spiffe://trust-domain/path)", id)
		}
		a.spiffe = append(a.spiffe, id)
	}
	if len(opts.AllowedSubjects) > 0 {
		a.subjects = make(map[string]bool, len(opts.AllowedSubjects))
		for _, s := range opts.AllowedSubjects {
			if s == "" {
				return nil, errors.New("mtls: AllowedSubjects has an empty entry")
			}
			a.subjects[s] = true
		}
	}
	return a, nil
}

// Certificate is what a principal authenticated by a client certificate
// carries in its CredentialInfo; read it with CertificateOf.
type Certificate struct {
	// Leaf is the client's certificate, verified.
	Leaf *x509.Certificate
	// Chain is the verified chain, leaf first, root last.
	Chain []*x509.Certificate
	// Thumbprint is the RFC 8705 x5t#S256 of Leaf: the base64url SHA-256
	// of its DER encoding.
	Thumbprint string
	// ViaProxy is true when a trusted proxy forwarded the certificate in
	// the Client-Cert header.
	ViaProxy bool
}

// CertificateOf returns the certificate p was authenticated with, when an
// Authenticator of this package made p.
func CertificateOf(p *authn.Principal) (*Certificate, bool) {
	if p == nil {
		return nil, false
	}
	c, ok := p.CredentialInfo.(*Certificate)
	return c, ok
}

// Thumbprint returns the RFC 8705 §3.1 x5t#S256 of a DER certificate:
// base64url (unpadded) of its SHA-256.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Challenge returns "": TLS client authentication has no HTTP challenge,
// so a composition (authn.AnyOf) lists the other members' schemes only.
func (a *Authenticator) Challenge(string) string { return "" }

// Authenticate returns the principal of the request's verified client
// certificate (Method "mtls"); ErrNoCredentials when there is none; a 401
// problem for a certificate that does not verify, a malformed RFC 9440
// header, or such a header from a peer that is not a trusted proxy; a 403
// for a certificate the allow-lists do not admit.
func (a *Authenticator) Authenticate(r *http.Request) (*authn.Principal, error) {
	c, err := a.Verify(r)
	if err != nil {
		return nil, err
	}
	p := a.principal(c)
	if !a.allowed(p, c.Leaf) {
		return nil, problem.Forbidden(problem.TypeForbidden, "this client certificate is not allowed here").
			WithReason("client_cert_not_allowed")
	}
	return p, nil
}

// Verify finds and verifies the request's client certificate: from a
// trusted proxy's Client-Cert (and Client-Cert-Chain) header, else from
// the TLS connection. It returns ErrNoCredentials when there is none, and
// the problem Authenticate would answer for a bad one. The allow-lists are
// not applied.
func (a *Authenticator) Verify(r *http.Request) (*Certificate, error) {
	leaf, inter, viaProxy, err := a.presented(r)
	if err != nil {
		return nil, err
	}
	opts := x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   a.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range inter {
		opts.Intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return nil, verifyError(err)
	}
	return &Certificate{Leaf: leaf, Chain: chains[0], Thumbprint: Thumbprint(leaf.Raw), ViaProxy: viaProxy}, nil
}

// presented returns the certificates the request presents, unverified.
func (a *Authenticator) presented(r *http.Request) (leaf *x509.Certificate, inter []*x509.Certificate, viaProxy bool, err error) {
	hdr, chainHdr := r.Header["Client-Cert"], r.Header["Client-Cert-Chain"]
	if a.proxies != nil && a.proxies.PeerTrusted(r) {
		// The proxy's own certificate (r.TLS) is never the client's.
		if len(hdr) == 0 {
			if len(chainHdr) > 0 {
				return nil, nil, false, refuse("client_cert_malformed", "Client-Cert-Chain came without Client-Cert", nil)
			}
			return nil, nil, false, authn.ErrNoCredentials
		}
		if len(hdr) > 1 {
			return nil, nil, false, refuse("client_cert_malformed", "the request carries several Client-Cert headers", nil)
		}
		der, err := ParseClientCert(hdr[0])
		if err != nil {
			return nil, nil, false, refuse("client_cert_malformed", "the Client-Cert header is malformed", err)
		}
		if leaf, err = x509.ParseCertificate(der); err != nil {
			return nil, nil, false, refuse("client_cert_malformed", "the Client-Cert header is not a certificate", err)
		}
		ders, err := ParseClientCertChain(chainHdr, a.maxChain-1)
		if err != nil {
			return nil, nil, false, refuse("client_cert_malformed", "the Client-Cert-Chain header is malformed", err)
		}
		for _, d := range ders {
			c, err := x509.ParseCertificate(d)
			if err != nil {
				return nil, nil, false, refuse("client_cert_malformed", "the Client-Cert-Chain header holds something that is not a certificate", err)
			}
			inter = append(inter, c)
		}
		return leaf, inter, true, nil
	}
	if len(hdr) > 0 || len(chainHdr) > 0 {
		return nil, nil, false, refuse("client_cert_header_untrusted", "client certificate headers are accepted only from trusted proxies", nil)
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil, false, authn.ErrNoCredentials
	}
	pc := r.TLS.PeerCertificates
	if len(pc) > a.maxChain {
		return nil, nil, false, refuse("client_cert_malformed", "the client presented too many certificates", nil)
	}
	return pc[0], pc[1:], false, nil
}

// trustsEveryPeer reports whether id trusts peers at documentation
// addresses (RFC 5737, RFC 3849), which no real proxy has: an identity
// guard under TrustedHops trusts every peer.
func trustsEveryPeer(id *clientip.Identity) bool {
	for _, addr := range []string{"192.0.2.1:1", "198.51.100.1:1", "[2001:db8::1]:1"} {
		if !id.PeerTrusted(&http.Request{RemoteAddr: addr}) {
			return false
		}
	}
	return true
}

func verifyError(err error) error {
	var inv x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return refuse("client_cert_expired", "the client certificate has expired or is not valid yet", err)
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return refuse("client_cert_usage", "the client certificate is not for client authentication", err)
	case errors.As(err, &unknown):
		return refuse("client_cert_untrusted", "the client certificate is not issued by an authority this service trusts", err)
	}
	return refuse("client_cert_invalid", "the client certificate does not verify", err)
}

// principal maps a verified certificate to a principal (see the package
// documentation).
func (a *Authenticator) principal(c *Certificate) *authn.Principal {
	leaf := c.Leaf
	var uris, spiffe []string
	for _, u := range leaf.URIs {
		s := u.String()
		uris = append(uris, s)
		if u.Scheme == "spiffe" {
			spiffe = append(spiffe, s)
		}
	}
	subject := ""
	switch {
	case len(spiffe) > 0:
		subject = spiffe[0]
	case len(leaf.EmailAddresses) > 0:
		subject = leaf.EmailAddresses[0]
	case len(leaf.DNSNames) > 0:
		subject = leaf.DNSNames[0]
	case len(uris) > 0:
		subject = uris[0]
	case leaf.Subject.CommonName != "":
		subject = leaf.Subject.CommonName
	default:
		subject = leaf.Subject.String()
	}
	claims := map[string]any{
		"cert_subject": leaf.Subject.String(),
		"cert_issuer":  leaf.Issuer.String(),
		"cert_serial":  leaf.SerialNumber.String(),
		"x5t#S256":     c.Thumbprint,
	}
	if len(spiffe) > 0 {
		claims["spiffe_id"] = spiffe[0]
	}
	if len(leaf.DNSNames) > 0 {
		claims["dns"] = leaf.DNSNames
	}
	if len(uris) > 0 {
		claims["uris"] = uris
	}
	if len(leaf.EmailAddresses) > 0 {
		claims["emails"] = leaf.EmailAddresses
	}
	g := a.grants[subject]
	return &authn.Principal{
		Subject:        subject,
		Method:         "mtls",
		Roles:          g.Roles,
		Scopes:         g.Scopes,
		ExpiresAt:      leaf.NotAfter,
		Claims:         claims,
		ID:             "mtls:" + subject,
		Source:         authn.SourceTLS,
		CredentialInfo: c,
	}
}

// allowed applies the allow-lists.
func (a *Authenticator) allowed(p *authn.Principal, leaf *x509.Certificate) bool {
	if len(a.spiffe) == 0 && a.subjects == nil {
		return true
	}
	if a.subjects[p.Subject] || a.subjects[leaf.Subject.String()] {
		return true
	}
	id, _ := p.Claims["spiffe_id"].(string)
	if id == "" {
		return false
	}
	for _, e := range a.spiffe {
		if e == id || strings.HasSuffix(e, "/*") && strings.HasPrefix(id, e[:len(e)-1]) {
			return true
		}
	}
	return false
}

func refuse(reason, detail string, err error) *problem.Problem {
	p := problem.Unauthorized(problem.TypeInvalidCredentials, "", detail).WithReason(reason)
	if err != nil {
		p = p.WithErr(err)
	}
	return p
}
