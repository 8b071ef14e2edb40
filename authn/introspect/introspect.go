package introspect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/discovery"
	"github.com/bulwark-go/bulwark/authn/internal/credential"
	"github.com/bulwark-go/bulwark/authn/internal/outbound"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Defaults of the Options fields.
const (
	DefaultCacheTTL         = 5 * time.Minute
	DefaultNegativeCacheTTL = 10 * time.Second
	DefaultCacheSize        = 10000
	DefaultTimeout          = 3 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultMaxTokenSize     = 8 << 10
	DefaultLeeway           = 60 * time.Second
	DefaultSharedPrefix     = "introspect:"
	// MaxCacheTTL bounds CacheTTL: an hour of revoked tokens still
	// working is the most this package lets one configure.
	MaxCacheTTL = time.Hour
)

// Options configure an Authenticator; a configuration file (the gateway's)
// decodes into them from YAML or JSON. Every zero value is the default
// noted beside it; ClientID, a client credential, and Endpoint or Issuer
// are required.
type Options struct {
	// Endpoint is the introspection endpoint's URL; https unless the host
	// is a loopback address. Default: discovered from Issuer (package
	// authn/discovery) when New runs.
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	// Issuer is the authorization server's issuer identifier. It is used
	// to discover Endpoint when that is empty, and is the default
	// AssertionAudience. It does not by itself require the responses' iss:
	// set Issuers for that.
	Issuer string `json:"issuer" yaml:"issuer"`

	// ClientID identifies this service to the authorization server.
	// Required.
	ClientID string `json:"client_id" yaml:"client_id"`
	// ClientAuth is ClientSecretBasic or PrivateKeyJWT. Default: the one
	// whose credential is set.
	ClientAuth string `json:"client_auth" yaml:"client_auth"`
	// ClientSecret (or ClientSecretFile, one trailing newline ignored) is
	// the secret of client_secret_basic; at least 16 bytes.
	ClientSecret     string `json:"client_secret,omitempty" yaml:"client_secret,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty" yaml:"client_secret_file,omitempty"`
	// PrivateKey (or PrivateKeyFile) is the private key of private_key_jwt,
	// PEM (PKCS #8, PKCS #1, SEC 1; not encrypted) or a JWK: RSA (2048 bits
	// or more), EC P-256/384/521 or Ed25519. The server knows its public
	// half (registered, or from the client's JWKS).
	PrivateKey     string `json:"private_key,omitempty" yaml:"private_key,omitempty"`
	PrivateKeyFile string `json:"private_key_file,omitempty" yaml:"private_key_file,omitempty"`
	// KeyID is the kid of the assertions' header. Default: the JWK's kid;
	// none for PEM.
	KeyID string `json:"key_id" yaml:"key_id"`
	// SigningAlg signs the assertions. Default: the JWK's alg, else RS256
	// for RSA, ES256/384/512 by curve, EdDSA for Ed25519.
	SigningAlg string `json:"signing_alg" yaml:"signing_alg"`
	// AssertionAudience is the aud of the assertions. Default Issuer (the
	// value current guidance recommends), else Endpoint.
	AssertionAudience string `json:"assertion_audience" yaml:"assertion_audience"`

	// Issuers, when set, are the accepted iss values of active tokens; a
	// response without iss is then refused. Default: not checked.
	Issuers []string `json:"issuers" yaml:"issuers"`
	// Audience, when set, are the audiences this service answers to; an
	// active token's aud must name one. Default: not checked.
	Audience []string `json:"audience" yaml:"audience"`
	// RolesClaim names the response member holding roles (an array of
	// strings, or one string). Default "roles".
	RolesClaim string `json:"roles_claim" yaml:"roles_claim"`
	// SkipJWT leaves tokens in JWS compact form (three base64url segments,
	// the first a JSON object) to another authenticator: Authenticate
	// returns authn.ErrNoCredentials for them, so that in
	// authn.AnyOf(introspector, jwtVerifier) self-contained tokens are
	// verified locally and only opaque ones cost a call. Default false:
	// every bearer token is introspected.
	SkipJWT bool `json:"skip_jwt" yaml:"skip_jwt"`
	// Leeway is the clock skew tolerated when checking exp and nbf of a
	// token the server calls active. Default 60s; negative: none.
	Leeway time.Duration `json:"leeway" yaml:"leeway"`

	// CacheTTL is how long an active answer is reused, at most (never
	// past the token's exp). It is the longest a token revoked at the
	// authorization server keeps working here. Default 5 minutes; at most
	// MaxCacheTTL; negative: active answers are not cached.
	CacheTTL time.Duration `json:"cache_ttl" yaml:"cache_ttl"`
	// NegativeCacheTTL is how long a refusal (active false) is reused, so
	// that a client retrying a dead token does not cost a call each time.
	// Default 10 seconds; negative: not cached.
	NegativeCacheTTL time.Duration `json:"negative_cache_ttl" yaml:"negative_cache_ttl"`
	// CacheSize bounds the answers kept in memory. Default 10000.
	CacheSize int `json:"cache_size" yaml:"cache_size"`
	// SharedCache, when set, shares answers between replicas (a
	// redisstore.Store): a miss in memory asks it before the server, and
	// every answer is written to it with its remaining lifetime. Its
	// failures are not fatal: the server is asked instead. Default: none.
	SharedCache store.KV `json:"-" yaml:"-"`
	// SharedPrefix prefixes this package's keys in SharedCache. Default
	// "introspect:".
	SharedPrefix string `json:"shared_prefix" yaml:"shared_prefix"`

	// Timeout bounds one introspection call (connection, request and
	// response). Default 3 seconds.
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// MaxResponseBytes bounds a response. Default 64 KiB.
	MaxResponseBytes int64 `json:"max_response_bytes" yaml:"max_response_bytes"`
	// MaxTokenSize bounds a bearer token, checked before anything else.
	// Default 8 KiB.
	MaxTokenSize int `json:"max_token_size" yaml:"max_token_size"`

	// Client makes the requests. Default: a client of its own. Redirects
	// are never followed, whatever the client: a redirected POST would
	// carry the token and credentials elsewhere.
	Client *http.Client `json:"-" yaml:"-"`
	// Logger receives failures of SharedCache, at Debug level. Default
	// slog.Default().
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Authenticator is an authn.Authenticator that asks an authorization
// server whether a bearer token is active (RFC 7662). It is immutable
// after New (but for its caches) and safe for concurrent use.
type Authenticator struct {
	endpoint string
	clientID string
	basic    []string         // the Authorization header of client_secret_basic
	signer   *assertionSigner // private_key_jwt
	issuers  []string
	audience []string
	roles    string
	skipJWT  bool
	leeway   time.Duration
	ttl      time.Duration
	negTTL   time.Duration
	maxResp  int64
	maxToken int
	timeout  time.Duration
	shared   store.KV
	prefix   string
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	cache    *clockCache
	flight   flight
}

var (
	_ authn.Authenticator = (*Authenticator)(nil)
	_ authn.Challenger    = (*Authenticator)(nil)
)

// New validates opts and returns an Authenticator. With Endpoint empty it
// discovers the endpoint from Issuer, over the network, and fails when the
// server publishes none.
func New(opts Options) (*Authenticator, error) {
	a := &Authenticator{
		clientID: opts.ClientID, issuers: slices.Clone(opts.Issuers), audience: slices.Clone(opts.Audience),
		roles: opts.RolesClaim, skipJWT: opts.SkipJWT, leeway: opts.Leeway, ttl: opts.CacheTTL, negTTL: opts.NegativeCacheTTL,
		maxResp: opts.MaxResponseBytes, maxToken: opts.MaxTokenSize, timeout: opts.Timeout,
		shared: opts.SharedCache, prefix: opts.SharedPrefix, log: opts.Logger, now: opts.Now,
	}
	if a.clientID == "" {
		return nil, errors.New("introspect: Options.ClientID is required (this service's client ID at the authorization server)")
	}
	if a.timeout < 0 || a.maxResp < 0 || a.maxToken < 0 || opts.CacheSize < 0 {
		return nil, errors.New("introspect: Timeout, MaxResponseBytes, MaxTokenSize and CacheSize must not be negative")
	}
	if a.timeout == 0 {
		a.timeout = DefaultTimeout
	}
	if a.maxResp == 0 {
		a.maxResp = DefaultMaxResponseBytes
	}
	if a.maxToken == 0 {
		a.maxToken = DefaultMaxTokenSize
	}
	switch {
	case a.ttl == 0:
		a.ttl = DefaultCacheTTL
	case a.ttl < 0:
		a.ttl = 0
	case a.ttl > MaxCacheTTL:
		return nil, fmt.Errorf("introspect: CacheTTL %v is above %v: it is how long a revoked token keeps working", a.ttl, MaxCacheTTL)
	}
	switch {
	case a.negTTL == 0:
		a.negTTL = DefaultNegativeCacheTTL
	case a.negTTL < 0:
		a.negTTL = 0
	case a.negTTL > MaxCacheTTL:
		return nil, fmt.Errorf("introspect: NegativeCacheTTL %v is above %v", a.negTTL, MaxCacheTTL)
	}
	switch {
	case a.leeway == 0:
		a.leeway = DefaultLeeway
	case a.leeway < 0:
		a.leeway = 0
	case a.leeway > 10*time.Minute:
		return nil, fmt.Errorf("introspect: Leeway %v is above 10 minutes", a.leeway)
	}
	if a.roles == "" {
		a.roles = "roles"
	}
	if a.prefix == "" {
		a.prefix = DefaultSharedPrefix
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	a.cache = newClockCache(size)
	a.client = &http.Client{Timeout: a.timeout}
	if opts.Client != nil {
		c := *opts.Client
		a.client = &c
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		a.client.Transport = tr
	}
	a.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	a.endpoint = opts.Endpoint
	if a.endpoint == "" {
		if opts.Issuer == "" {
			return nil, errors.New("introspect: set Options.Endpoint (the introspection endpoint) or Options.Issuer (to discover it)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*a.timeout)
		md, err := discovery.Discover(ctx, discovery.Options{Issuer: opts.Issuer, Client: opts.Client, Timeout: a.timeout})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("introspect: %w", err)
		}
		if md.IntrospectionEndpoint == "" {
			return nil, fmt.Errorf("introspect: the metadata of %q (%s) names no introspection_endpoint; set Options.Endpoint", opts.Issuer, md.Source)
		}
		a.endpoint = md.IntrospectionEndpoint
	}
	if _, err := outbound.CheckURL("introspect: Endpoint", a.endpoint); err != nil {
		return nil, err
	}

	secret, err := readSecret(opts.ClientSecret, opts.ClientSecretFile, "ClientSecret")
	if err != nil {
		return nil, err
	}
	keyPEM, err := readSecret(opts.PrivateKey, opts.PrivateKeyFile, "PrivateKey")
	if err != nil {
		return nil, err
	}
	method := opts.ClientAuth
	if method == "" {
		switch {
		case secret != "" && keyPEM != "":
			return nil, errors.New("introspect: both a client secret and a private key are set; set ClientAuth to say which to use")
		case secret != "":
			method = ClientSecretBasic
		case keyPEM != "":
			method = PrivateKeyJWT
		default:
			return nil, errors.New("introspect: a client credential is required: ClientSecret (client_secret_basic) or PrivateKey (private_key_jwt); RFC 7662 §2.1 makes the endpoint authenticate its callers")
		}
	}
	switch method {
	case ClientSecretBasic:
		if len(secret) < minSecret {
			return nil, fmt.Errorf("introspect: ClientSecret has %d bytes; at least %d are required (the authorization server issues it: ask it for a longer one, or use private_key_jwt)", len(secret), minSecret)
		}
		a.basic = []string{basicCredentials(a.clientID, secret)}
	case PrivateKeyJWT:
		if keyPEM == "" {
			return nil, errors.New("introspect: private_key_jwt needs PrivateKey or PrivateKeyFile")
		}
		key, kid, m, err := parsePrivateKey(keyPEM, opts.SigningAlg)
		if err != nil {
			return nil, err
		}
		if opts.KeyID != "" {
			kid = opts.KeyID
		}
		aud := opts.AssertionAudience
		if aud == "" {
			aud = opts.Issuer
		}
		if aud == "" {
			aud = a.endpoint
		}
		a.signer = &assertionSigner{method: m, key: key, kid: kid, clientID: a.clientID, aud: aud}
	default:
		return nil, fmt.Errorf("introspect: ClientAuth must be %q or %q, not %q", ClientSecretBasic, PrivateKeyJWT, method)
	}
	return a, nil
}

// Endpoint returns the introspection endpoint (configured or discovered).
func (a *Authenticator) Endpoint() string { return a.endpoint }

// Challenge implements authn.Challenger: Bearer.
func (a *Authenticator) Challenge(realm string) string { return problem.Challenge("Bearer", realm) }

// AuthorizationSchemes implements authn.AuthorizationReader: Bearer.
func (a *Authenticator) AuthorizationSchemes() []string { return []string{"Bearer"} }

// Authenticate implements authn.Authenticator: it reads the bearer token
// of the Authorization header and introspects it (see Introspect).
// Without one (or with a JWT, under SkipJWT) it returns
// authn.ErrNoCredentials; several Authorization headers, or "Bearer"
// without a token, are a 400.
func (a *Authenticator) Authenticate(r *http.Request) (*authn.Principal, error) {
	tok, perr := bearer(r)
	if perr != nil {
		return nil, perr
	}
	if tok == "" || (a.skipJWT && looksJWS(tok)) {
		return nil, authn.ErrNoCredentials
	}
	return a.Introspect(r.Context(), tok)
}

// Introspect returns the principal of token, from the cache or from the
// authorization server. A refusal is a *problem.Problem: 401 (type
// invalid-token) for a token that is not active or that a check refuses,
// 503 with Retry-After when the server cannot answer. The principal is
// shared between requests: treat it as read-only.
func (a *Authenticator) Introspect(ctx context.Context, token string) (*authn.Principal, error) {
	if len(token) > a.maxToken {
		return nil, refuse(reasonTooLarge)
	}
	if !b64token(token) {
		return nil, refuse(reasonMalformed)
	}
	// The conversion without a copy is safe: Sum256 only reads.
	k := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
	if e := a.cache.get(&k, a.now().UnixNano()); e != nil {
		return e.result()
	}
	return a.await(ctx, token, k)
}

// await answers a miss: it joins or starts the call for the token, and
// waits for it at most until ctx ends. (Apart from Introspect, so that
// the hit path does not move the digest to the heap.)
func (a *Authenticator) await(ctx context.Context, token string, k digest) (*authn.Principal, error) {
	c, _ := a.flight.do(&k, func() outcome { return a.miss(token, &k) })
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, unavailable(reasonTimeout, ctx.Err())
	}
	if c.res.e == nil {
		return nil, unavailable(c.res.reason, c.res.cause)
	}
	return c.res.e.result()
}

func (e *entry) result() (*authn.Principal, error) {
	if e.p != nil {
		return e.p, nil
	}
	return nil, refuse(e.reason)
}

// miss answers a token the memory cache does not hold: from the shared
// cache, or from the server.
func (a *Authenticator) miss(token string, k *digest) outcome {
	now := a.now()
	if a.shared != nil {
		if e := a.sharedGet(k, now); e != nil {
			a.cache.put(e, now.UnixNano())
			return outcome{e: e}
		}
	}
	body, reason, err := a.call(token, now)
	if err != nil {
		return outcome{reason: reason, cause: err}
	}
	res, err := ParseResponse(body)
	if err != nil {
		return outcome{reason: reasonBadResponse, cause: err}
	}
	e := a.judge(res, k, now)
	if e.deadline > now.UnixNano() {
		a.cache.put(e, now.UnixNano())
		if a.shared != nil {
			a.sharedPut(e, body, now)
		}
	}
	return outcome{e: e}
}

// judge turns a response into a cache entry: the principal, or the
// refusal, with the time until which it may be reused (now or earlier:
// not at all).
func (a *Authenticator) judge(res *Response, k *digest, now time.Time) *entry {
	n := now.UnixNano()
	e := &entry{key: *k}
	no := func(reason string, ttl time.Duration) *entry {
		e.reason = reason
		e.deadline = n + int64(ttl)
		return e
	}
	if !res.Active {
		return no(reasonInactive, a.negTTL)
	}
	leeway := int64(a.leeway / time.Second)
	if res.Exp != 0 && res.Exp+leeway <= now.Unix() {
		return no(reasonExpired, a.negTTL)
	}
	if res.Nbf != 0 && res.Nbf-leeway > now.Unix() {
		return no(reasonNotYetValid, 0) // valid later: not cached
	}
	if len(a.issuers) > 0 && !slices.Contains(a.issuers, res.Issuer) {
		return no(reasonIssuer, a.negTTL)
	}
	if len(a.audience) > 0 && !slices.ContainsFunc(res.Audience, func(s string) bool { return slices.Contains(a.audience, s) }) {
		return no(reasonAudience, a.negTTL)
	}
	sub := res.Subject
	if sub == "" {
		sub = res.ClientID
	}
	if sub == "" {
		sub = res.Username
	}
	if sub == "" {
		return no(reasonNoSubject, a.negTTL)
	}
	claims := make(map[string]any, len(res.Extra)+8)
	for k, v := range res.Extra {
		claims[k] = v
	}
	var roles []string
	if v, ok := claims[a.roles]; ok {
		switch v := v.(type) {
		case string:
			roles = []string{v}
		case []any:
			for _, r := range v {
				if s, ok := r.(string); ok {
					roles = append(roles, s)
				}
			}
		}
		delete(claims, a.roles)
	}
	for name, v := range map[string]string{"client_id": res.ClientID, "username": res.Username, "token_type": res.TokenType, "iss": res.Issuer} {
		if v != "" {
			claims[name] = v
		}
	}
	if res.Audience != nil {
		claims["aud"] = res.Audience
	}
	if res.Iat != 0 {
		claims["iat"] = float64(res.Iat)
	}
	if res.Nbf != 0 {
		claims["nbf"] = float64(res.Nbf)
	}
	p := &authn.Principal{
		Subject: sub, Method: "introspect", Roles: roles, Scopes: res.Scope, TokenID: res.TokenID,
		Claims: claims, ID: "introspect:" + sub, Source: authn.SourceHeader,
	}
	e.p = p
	e.deadline = n + int64(a.ttl)
	if res.Exp != 0 {
		p.ExpiresAt = time.Unix(res.Exp, 0)
		if exp := res.Exp * int64(time.Second); exp < e.deadline {
			e.deadline = exp
		}
	}
	return e
}

// call POSTs token to the endpoint and returns the response body, or the
// reason and cause of the 503 that says why there is none.
func (a *Authenticator) call(token string, now time.Time) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	var form strings.Builder
	form.Grow(len(token) + 600)
	form.WriteString("token=")
	form.WriteString(url.QueryEscape(token))
	form.WriteString("&token_type_hint=access_token")
	if a.signer != nil {
		assertion, err := a.signer.sign(now, newID())
		if err != nil {
			return nil, reasonClientRejected, fmt.Errorf("signing the client assertion: %w", err)
		}
		form.WriteString("&client_id=")
		form.WriteString(url.QueryEscape(a.clientID))
		form.WriteString("&client_assertion_type=")
		form.WriteString(url.QueryEscape(assertionType))
		form.WriteString("&client_assertion=")
		form.WriteString(assertion)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, strings.NewReader(form.String()))
	if err != nil {
		return nil, reasonUnreachable, err
	}
	req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	req.Header["Accept"] = []string{"application/json"}
	if a.basic != nil {
		req.Header["Authorization"] = a.basic
	}
	resp, err := a.client.Do(req)
	if err != nil {
		reason, err := transportFailure(ctx, err)
		return nil, reason, err
	}
	defer resp.Body.Close()
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
	case s >= 500:
		return nil, reasonServerError, fmt.Errorf("%w: the server answered %d", ErrUnavailable, s)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return nil, reasonClientRejected, fmt.Errorf("%w: the server refused this client's credentials (%d); check ClientID and its credential", ErrUnavailable, s)
	default:
		return nil, reasonBadStatus, fmt.Errorf("%w: the server answered %d", ErrUnavailable, s)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, reasonBadResponse, fmt.Errorf("%w: Content-Type %q is not application/json", ErrMalformedResponse, resp.Header.Get("Content-Type"))
	}
	body, err := outbound.ReadLimited(resp.Body, a.maxResp)
	switch {
	case errors.Is(err, outbound.ErrTooLarge):
		return nil, reasonRespTooLarge, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, a.maxResp)
	case err != nil:
		reason, err := transportFailure(ctx, err)
		return nil, reason, err
	}
	return body, "", nil
}

// transportFailure classes an error of the exchange: a timeout, or an
// unreachable server.
func transportFailure(ctx context.Context, err error) (string, error) {
	var ne net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return reasonTimeout, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return reasonUnreachable, fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// The shared cache's value: a kind byte ('+' an active answer, '-' a
// refusal), the entry's deadline (Unix nanoseconds, big-endian), then the
// response body or the refusal's reason.
func (a *Authenticator) sharedKey(k *digest) string { return a.prefix + hex.EncodeToString(k[:]) }

func (a *Authenticator) sharedPut(e *entry, body []byte, now time.Time) {
	ttl := time.Duration(e.deadline - now.UnixNano())
	if ttl < time.Millisecond {
		return
	}
	v := make([]byte, 9, 9+len(body))
	binary.BigEndian.PutUint64(v[1:], uint64(e.deadline))
	if e.p != nil {
		v[0] = '+'
		v = append(v, body...)
	} else {
		v[0] = '-'
		v = append(v, e.reason...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	if err := a.shared.Set(ctx, a.sharedKey(&e.key), v, ttl); err != nil {
		a.log.Debug("introspect: shared cache write failed", "err", err)
	}
}

// sharedGet returns the shared cache's live entry for k, nil when it has
// none, cannot answer, or holds something unreadable.
func (a *Authenticator) sharedGet(k *digest, now time.Time) *entry {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	v, found, err := a.shared.Get(ctx, a.sharedKey(k))
	if err != nil {
		a.log.Debug("introspect: shared cache read failed", "err", err)
		return nil
	}
	if !found || len(v) < 9 {
		return nil
	}
	deadline := int64(binary.BigEndian.Uint64(v[1:9]))
	if deadline <= now.UnixNano() {
		return nil
	}
	switch v[0] {
	case '+':
		res, err := ParseResponse(v[9:])
		if err != nil {
			return nil
		}
		e := a.judge(res, k, now)
		if e.deadline > deadline {
			e.deadline = deadline // never beyond the first answer's bound
		}
		return e
	case '-':
		reason := string(v[9:])
		if _, ok := refusalDetails[reason]; !ok {
			return nil
		}
		return &entry{key: *k, reason: reason, deadline: deadline}
	}
	return nil
}

// bearer reads the token of the Authorization header's Bearer scheme, by
// the rules every authenticator shares (package credential): "" when
// there is none (or another scheme), a 400 problem for several
// Authorization headers or empty credentials.
func bearer(r *http.Request) (string, *problem.Problem) {
	tok, o := credential.Authorization(r.Header, "Authorization", "Bearer")
	switch o {
	case credential.Several:
		return "", invalidRequest("the request carries several Authorization headers")
	case credential.Empty:
		return "", invalidRequest("the Bearer credentials are empty")
	}
	return tok, nil
}

// b64token reports whether s has the syntax of RFC 6750 §2.1's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	i := 0
	for ; i < len(s) && b64tokenChar[s[i]]; i++ {
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

var b64tokenChar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()

// looksJWS reports whether s has the shape of a compact JWS: three
// non-empty base64url segments, the first starting with the encoding of
// `{"`.
func looksJWS(s string) bool {
	if !strings.HasPrefix(s, "eyJ") || strings.Count(s, ".") != 2 {
		return false
	}
	seg := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if seg == 0 {
				return false
			}
			seg = 0
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_':
			seg++
		default:
			return false
		}
	}
	return seg > 0
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
