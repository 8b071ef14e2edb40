package discovery

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn/internal/outbound"
)

// Kinds of metadata document.
const (
	// KindOAuth is RFC 8414 Authorization Server Metadata.
	KindOAuth = "oauth"
	// KindOIDC is OpenID Connect Discovery 1.0.
	KindOIDC = "oidc"
)

// Well-known path suffixes.
const (
	OAuthWellKnown = "/.well-known/oauth-authorization-server"
	OIDCWellKnown  = "/.well-known/openid-configuration"
)

// Defaults of the Options fields.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxBytes = 256 << 10
)

// ErrIssuerMismatch is returned (wrapped) by Discover when the document's
// issuer is not the configured one; test with errors.Is.
var ErrIssuerMismatch = errors.New("discovery: the document's issuer does not match the configured issuer")

// ErrNotFound is returned (wrapped) by Discover when the server publishes
// no document of the kinds asked for.
var ErrNotFound = errors.New("discovery: no metadata document found")

// Options configure Discover. The zero value of every field but Issuer is a
// sensible default.
type Options struct {
	// Issuer is the authorization server's issuer identifier, exactly as
	// its tokens and metadata name it (e.g. "https://as.example" or
	// "https://login.example/realms/acme"). Required; https unless the host
	// is a loopback address; no query or fragment.
	Issuer string `json:"issuer" yaml:"issuer"`
	// Kind is the document to read: KindOAuth (RFC 8414), KindOIDC
	// (OpenID Connect Discovery), or "" to try RFC 8414 and then, when the
	// server answers 404, OpenID Connect. Default "".
	Kind string `json:"kind" yaml:"kind"`
	// Timeout bounds each fetch. Default 5 seconds.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// MaxBytes bounds the document. Default 256 KiB.
	MaxBytes int64 `json:"max_bytes" yaml:"max_bytes"`
	// Client makes the requests. Default: a client with Timeout. Redirects
	// are never followed, whatever the client.
	Client *http.Client `json:"-" yaml:"-"`
}

// Metadata is what a discovery document says that Bulwark uses. Every URL
// in it has been checked to be https (or loopback http).
type Metadata struct {
	// Issuer is the verified issuer: identical to Options.Issuer.
	Issuer string `json:"issuer"`
	// Source is the URL the document was read from.
	Source string `json:"source"`
	// Kind is KindOAuth or KindOIDC: which document it was.
	Kind string `json:"kind"`

	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	JWKSURI               string `json:"jwks_uri,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint      string `json:"userinfo_endpoint,omitempty"`

	ScopesSupported                                    []string `json:"scopes_supported,omitempty"`
	TokenEndpointAuthMethodsSupported                  []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	IDTokenSigningAlgValuesSupported                   []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// WellKnownURL returns the URL of issuer's metadata document of kind:
// for KindOAuth the well-known path is inserted before the issuer's path
// (RFC 8414 §3.1), for KindOIDC appended to it (OIDC Discovery §4.1); a
// trailing "/" of the path is removed first.
func WellKnownURL(issuer, kind string) (string, error) {
	u, err := checkIssuer(issuer)
	if err != nil {
		return "", err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	w := *u
	w.RawPath = ""
	switch kind {
	case KindOAuth:
		w.Path = ""
		return w.String() + OAuthWellKnown + path, nil
	case KindOIDC:
		w.Path = ""
		return w.String() + path + OIDCWellKnown, nil
	}
	return "", fmt.Errorf("discovery: Kind must be %q or %q, not %q", KindOAuth, KindOIDC, kind)
}

func checkIssuer(issuer string) (*url.URL, error) {
	if issuer == "" {
		return nil, errors.New("discovery: Options.Issuer is required (the authorization server's issuer identifier, e.g. https://as.example)")
	}
	u, err := outbound.CheckURL("discovery: issuer", issuer)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("discovery: issuer %q must not have a query (RFC 8414 §2)", issuer)
	}
	return u, nil
}

// Discover fetches and checks the issuer's metadata. It fails when the
// server cannot be reached, publishes no document (ErrNotFound), serves
// one that is malformed, too large, names an endpoint that is not https,
// or names another issuer (ErrIssuerMismatch).
func Discover(ctx context.Context, opts Options) (*Metadata, error) {
	if _, err := checkIssuer(opts.Issuer); err != nil {
		return nil, err
	}
	kinds := []string{KindOAuth, KindOIDC}
	switch opts.Kind {
	case "":
	case KindOAuth, KindOIDC:
		kinds = []string{opts.Kind}
	default:
		return nil, fmt.Errorf("discovery: Options.Kind must be %q, %q or empty (both), not %q", KindOAuth, KindOIDC, opts.Kind)
	}
	if opts.Timeout < 0 || opts.MaxBytes < 0 {
		return nil, errors.New("discovery: Options.Timeout and MaxBytes must not be negative")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	client := &http.Client{Timeout: opts.Timeout}
	if opts.Client != nil {
		c := *opts.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var notFound []string
	for _, kind := range kinds {
		src, _ := WellKnownURL(opts.Issuer, kind)
		md, err := fetch(ctx, client, src, opts)
		if errors.Is(err, errNotFound) {
			notFound = append(notFound, src)
			continue
		}
		if err != nil {
			return nil, err
		}
		md.Kind = kind
		return md, nil
	}
	return nil, fmt.Errorf("%w for issuer %q (tried %s)", ErrNotFound, opts.Issuer, strings.Join(notFound, ", "))
}

var errNotFound = errors.New("404")

func fetch(ctx context.Context, client *http.Client, src string, opts Options) (*Metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: fetching %s: %w", src, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("discovery: %s answered %d %s (redirects are not followed)", src, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fmt.Errorf("discovery: %s is not application/json (Content-Type %q)", src, resp.Header.Get("Content-Type"))
	}
	body, err := outbound.ReadLimited(resp.Body, opts.MaxBytes)
	if err != nil {
		if errors.Is(err, outbound.ErrTooLarge) {
			return nil, fmt.Errorf("discovery: %s is larger than MaxBytes (%d bytes)", src, opts.MaxBytes)
		}
		return nil, fmt.Errorf("discovery: reading %s: %w", src, err)
	}
	md, err := Parse(body, opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, src)
	}
	md.Source = src
	return md, nil
}

// Parse decodes a metadata document and checks it against issuer: the
// issuer member must be identical to it, and every endpoint read must be
// an https URL (http for a loopback host). Discover calls it; it is
// exported for documents obtained otherwise (a file, a test).
func Parse(doc []byte, issuer string) (*Metadata, error) {
	m, err := outbound.Members(doc)
	if err != nil {
		return nil, fmt.Errorf("discovery: malformed metadata: %v", err)
	}
	md := &Metadata{}
	raw, ok := m["issuer"]
	if !ok {
		return nil, errors.New("discovery: the metadata has no issuer member")
	}
	if md.Issuer, ok = outbound.String(raw); !ok {
		return nil, errors.New(`discovery: the metadata's "issuer" is not a string`)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: configured %q, document says %q", ErrIssuerMismatch, issuer, md.Issuer)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"authorization_endpoint", &md.AuthorizationEndpoint},
		{"token_endpoint", &md.TokenEndpoint},
		{"jwks_uri", &md.JWKSURI},
		{"introspection_endpoint", &md.IntrospectionEndpoint},
		{"revocation_endpoint", &md.RevocationEndpoint},
		{"userinfo_endpoint", &md.UserinfoEndpoint},
	} {
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		s, ok := outbound.String(raw)
		if !ok {
			return nil, fmt.Errorf("discovery: the metadata's %q is not a string", f.name)
		}
		if _, err := outbound.CheckURL("discovery: "+f.name, s); err != nil {
			return nil, err
		}
		*f.dst = s
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{
		{"scopes_supported", &md.ScopesSupported},
		{"token_endpoint_auth_methods_supported", &md.TokenEndpointAuthMethodsSupported},
		{"token_endpoint_auth_signing_alg_values_supported", &md.TokenEndpointAuthSigningAlgValuesSupported},
		{"introspection_endpoint_auth_methods_supported", &md.IntrospectionEndpointAuthMethodsSupported},
		{"introspection_endpoint_auth_signing_alg_values_supported", &md.IntrospectionEndpointAuthSigningAlgValuesSupported},
		{"id_token_signing_alg_values_supported", &md.IDTokenSigningAlgValuesSupported},
	} {
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		ss, ok := outbound.Strings(raw)
		if !ok {
			return nil, fmt.Errorf("discovery: the metadata's %q is not an array of strings", f.name)
		}
		*f.dst = ss
	}
	return md, nil
}
