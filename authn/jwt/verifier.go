package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Token types (the typ header, RFC 8725 §3.11 explicit typing).
const (
	// TypeAccess is the typ of the access tokens an Issuer signs (RFC 9068).
	TypeAccess = "at+jwt"
	// TypeRefresh is the typ of refresh tokens (package refresh signs
	// them); a Verifier always refuses it.
	TypeRefresh = "refresh+jwt"
)

// Defaults of VerifierOptions.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = 60 * time.Second
	// DefaultMaxTokenSize bounds a token's length.
	DefaultMaxTokenSize = 8 << 10
	// DefaultMaxClaimsDepth bounds JSON nesting in the header and claims.
	DefaultMaxClaimsDepth = 16
)

// maxKeyTries bounds the signature checks one token can cause when it names
// no kid and several keys share its algorithm.
const maxKeyTries = 4

// VerifierOptions configure a Verifier; a configuration file (the
// gateway's) decodes into them from YAML or JSON (keys through KeyConfig).
// Every zero value is the secure default noted beside it, but one of Keys
// or KeySet is required.
type VerifierOptions struct {
	// Keys verify tokens, each bound to its algorithm and found by kid.
	Keys []*Key `json:"-" yaml:"-"`
	// KeySet supplies keys that change (jwks.Remote), after Keys.
	KeySet KeySet `json:"-" yaml:"-"`
	// Algorithms is the alg allowlist. Default: the algorithms of Keys;
	// required with a KeySet. "none" is refused whatever it says.
	Algorithms []string `json:"algorithms" yaml:"algorithms"`
	// Issuers are the accepted iss values; when set, iss is required.
	// Default: iss not checked.
	Issuers []string `json:"issuers" yaml:"issuers"`
	// Audience are the audiences this service answers to; a token must name
	// one. Default: none, and a token carrying aud is refused.
	Audience []string `json:"audience" yaml:"audience"`
	// RequiredClaims must be present ("iss" or "aud" here require them
	// even without Issuers or Audience). Default ["exp"].
	RequiredClaims []string `json:"required_claims" yaml:"required_claims"`
	// Leeway is the clock skew tolerated on exp, nbf and iat. Default 60s;
	// negative: none; above 10 minutes refused.
	Leeway time.Duration `json:"leeway" yaml:"leeway"`
	// Type is the typ tokens must carry, e.g. "at+jwt". Default: not
	// required.
	Type string `json:"type" yaml:"type"`
	// Sources say where to find the token, in order. Default: the
	// Authorization header, Bearer scheme.
	Sources []TokenSource `json:"sources" yaml:"sources"`
	// MaxTokenSize bounds a token's length, checked before any decoding.
	// Default 8 KiB.
	MaxTokenSize int `json:"max_token_size" yaml:"max_token_size"`
	// MaxClaimsDepth bounds JSON nesting in the header and claims.
	// Default 16.
	MaxClaimsDepth int `json:"max_claims_depth" yaml:"max_claims_depth"`
	// CacheSize is the number of verified tokens remembered. Default 4096;
	// negative: no cache.
	CacheSize int `json:"cache_size" yaml:"cache_size"`
	// Store holds the revocation denylist (and package refresh's token
	// families). Default: none, no revocation. Give it a store of its own,
	// one that never evicts these keys (package refresh says why).
	Store store.Store `json:"-" yaml:"-"`
	// KeyPrefix prefixes every key written to Store. Default "jwt:".
	KeyPrefix string `json:"key_prefix" yaml:"key_prefix"`
	// RevocationFailOpen accepts tokens when Store cannot answer. Default
	// false: 503, so that an outage does not revive revoked tokens.
	RevocationFailOpen bool `json:"revocation_fail_open" yaml:"revocation_fail_open"`
	// RolesClaim names the claim holding roles (strings, or one string).
	// Default "roles", falling back to "role".
	RolesClaim string `json:"roles_claim" yaml:"roles_claim"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

type tokenUse uint8

const (
	useAccess tokenUse = iota
	useRefresh
)

// Verifier verifies JWTs and turns them into principals. It implements
// authn.Authenticator (reading the token from its Sources) and is safe for
// concurrent use.
type Verifier struct {
	opts      VerifierOptions // normalised copy, for Describe and derived verifiers
	keys      KeySet
	static    *StaticKeySet // set when Keys are the only source: lookups by []byte
	allowed   map[string]bool
	issuers   []string
	audience  []string
	required  []string
	reqIss    bool
	reqAud    bool
	leeway    time.Duration
	typ       string
	sources   []source
	maxSize   int
	maxDepth  int
	cache     *tokenCache
	rev       *revocations
	failOpen  bool
	rolesName string
	now       func() time.Time
	customNow bool      // VerifierOptions.Now was set: the cache compares wall times
	base      time.Time // monotonic origin of cache deadlines
	use       tokenUse
}

var _ authn.Authenticator = (*Verifier)(nil)
var _ authn.Challenger = (*Verifier)(nil)

// NewVerifier validates opts and returns a Verifier. Insecure or contradictory
// options are refused with an error that says how to fix them.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	v := &Verifier{}
	if err := v.init(opts); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Verifier) init(opts VerifierOptions) error {
	if len(opts.Keys) == 0 && opts.KeySet == nil {
		return errors.New("jwt: no keys: set VerifierOptions.Keys (from jwt.KeyConfig, LoadKeyFile, ParsePEM...) or VerifierOptions.KeySet (e.g. jwks.New for a remote JWKS)")
	}
	var static *StaticKeySet
	if len(opts.Keys) > 0 {
		s, err := NewKeySet(opts.Keys...)
		if err != nil {
			return err
		}
		static = s
	}
	switch {
	case static != nil && opts.KeySet != nil:
		v.keys = chainKeySet{static, opts.KeySet}
	case static != nil:
		v.keys = static
		v.static = static
	default:
		v.keys = opts.KeySet
	}
	algs := opts.Algorithms
	if len(algs) == 0 {
		if opts.KeySet != nil {
			return errors.New("jwt: VerifierOptions.Algorithms is required with a KeySet: list the algorithms its keys use, e.g. [\"RS256\"]")
		}
		for _, k := range opts.Keys {
			if !slices.Contains(algs, k.alg.name) {
				algs = append(algs, k.alg.name)
			}
		}
	}
	v.allowed = make(map[string]bool, len(algs))
	for _, a := range algs {
		if _, err := lookupAlg(a); err != nil {
			return err
		}
		v.allowed[a] = true
	}
	symmetric, asymmetric := false, false
	for a := range v.allowed {
		if algorithms[a].kind == kindHMAC {
			symmetric = true
		} else {
			asymmetric = true
		}
	}
	if symmetric && asymmetric && opts.KeySet != nil {
		return errors.New("jwt: Algorithms mixes HMAC (HS*) with public-key algorithms while keys come from a KeySet; allow only the family the key set serves")
	}
	for _, k := range opts.Keys {
		if !v.allowed[k.alg.name] {
			return fmt.Errorf("jwt: key %s is bound to %s, which VerifierOptions.Algorithms does not allow", quoteForError(k.id), k.alg.name)
		}
	}
	for _, iss := range opts.Issuers {
		if iss == "" {
			return errors.New("jwt: VerifierOptions.Issuers holds an empty issuer")
		}
	}
	for _, aud := range opts.Audience {
		if aud == "" {
			return errors.New("jwt: VerifierOptions.Audience holds an empty audience")
		}
	}
	v.issuers = append([]string(nil), opts.Issuers...)
	v.audience = append([]string(nil), opts.Audience...)
	v.required = opts.RequiredClaims
	if v.required == nil {
		v.required = []string{"exp"}
	}
	v.required = append([]string(nil), v.required...)
	v.reqIss = len(v.issuers) > 0 || slices.Contains(v.required, "iss")
	v.reqAud = len(v.audience) > 0 || slices.Contains(v.required, "aud")
	switch {
	case opts.Leeway == 0:
		v.leeway = DefaultLeeway
	case opts.Leeway < 0:
		v.leeway = 0
	case opts.Leeway > 10*time.Minute:
		return errors.New("jwt: VerifierOptions.Leeway above 10 minutes defeats expiry; fix the clocks instead (NTP)")
	default:
		v.leeway = opts.Leeway
	}
	v.typ = opts.Type
	if strings.EqualFold(stripApplication(v.typ), TypeRefresh) {
		return errors.New("jwt: VerifierOptions.Type cannot be refresh+jwt: refresh tokens are verified by package refresh, never accepted as access tokens")
	}
	srcs, err := compileSources(opts.Sources)
	if err != nil {
		return err
	}
	v.sources = srcs
	v.maxSize = opts.MaxTokenSize
	if v.maxSize <= 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.maxSize > 1<<20 {
		return errors.New("jwt: VerifierOptions.MaxTokenSize above 1 MiB is not accepted")
	}
	v.maxDepth = opts.MaxClaimsDepth
	if v.maxDepth <= 0 {
		v.maxDepth = DefaultMaxClaimsDepth
	}
	if v.maxDepth > 64 {
		return errors.New("jwt: VerifierOptions.MaxClaimsDepth above 64 is not accepted")
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 1<<20 {
		return errors.New("jwt: VerifierOptions.CacheSize above 1,048,576 is not accepted")
	}
	if size > 0 {
		v.cache = newTokenCache(size)
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "jwt:"
	}
	if opts.Store != nil {
		v.rev = &revocations{st: opts.Store, prefix: opts.KeyPrefix, leeway: v.leeway}
		v.rev.multi, _ = opts.Store.(store.AnyExister)
		v.rev.state, _ = opts.Store.(store.StateTracker)
	}
	v.failOpen = opts.RevocationFailOpen
	v.rolesName = opts.RolesClaim
	if v.rolesName == "" {
		v.rolesName = "roles"
	}
	v.now = opts.Now
	v.customNow = opts.Now != nil
	if v.now == nil {
		v.now = time.Now
	}
	v.base = time.Now()
	opts.Algorithms = algs
	v.opts = opts
	return nil
}

type chainKeySet []KeySet

func (c chainKeySet) Lookup(ctx context.Context, kid, alg string) ([]*Key, error) {
	var firstErr error
	for _, s := range c {
		ks, err := s.Lookup(ctx, kid, alg)
		if len(ks) > 0 {
			return ks, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func (c chainKeySet) Generation() uint64 {
	var g uint64
	for _, s := range c {
		g += s.Generation()
	}
	return g
}

// Challenge implements authn.Challenger.
func (v *Verifier) Challenge(realm string) string { return problem.Challenge("Bearer", realm) }

// AuthorizationSchemes implements authn.AuthorizationReader: the schemes
// of the sources that read the Authorization header ("Bearer" by
// default).
func (v *Verifier) AuthorizationSchemes() []string {
	var out []string
	for _, s := range v.sources {
		if s.from == FromHeader && s.name == "Authorization" && s.scheme != "" {
			out = append(out, s.scheme)
		}
	}
	return out
}

// Authenticate implements authn.Authenticator: it finds the token in the
// configured sources and verifies it. No token: authn.ErrNoCredentials.
//
// The principal records where the token was found (Source: header, cookie
// or query) and the key that verified it (KeyOf).
//
// A token carrying a cnf claim (bound to a client certificate or a key,
// RFC 8705 §3, RFC 9449) is refused (token_binding_unchecked) unless the
// request is marked by authn.WithBindingCheck — as mtls.CertificateBound
// marks it before comparing the certificate's thumbprint — so that a
// stolen bound token is not accepted as a plain bearer token by a
// configuration that forgot the check. (Verify, outside HTTP, leaves
// that check to its caller: the principal's claims keep cnf.)
func (v *Verifier) Authenticate(r *http.Request) (*authn.Principal, error) {
	tok, src, prob := extract(r, v.sources)
	if prob != nil {
		return nil, prob
	}
	if tok == "" {
		return nil, authn.ErrNoCredentials
	}
	p, err := v.verifyFrom(r.Context(), tok, src)
	if err != nil {
		return nil, err
	}
	if _, bound := p.Claims["cnf"]; bound && !authn.BindingChecked(r.Context()) {
		return nil, refuse(reasonBindingUnchecked, ErrBindingUnchecked)
	}
	return p, nil
}

// Verify verifies token and returns its principal. Errors are
// *problem.Problem values (401 invalid-token with a client-safe detail and
// an audit reason, or 503 when the revocation store or a remote key set
// cannot answer); their Err is one of the Err* sentinels (the key set's
// own cause for its 503, e.g. jwks.ErrUnavailable), for errors.Is.
//
// The principal may be shared with other requests presenting the same
// token (it is cached): treat it as read-only. Its Source is
// authn.SourceUnknown (Authenticate records where a request's token came
// from).
func (v *Verifier) Verify(ctx context.Context, token string) (*authn.Principal, error) {
	return v.verifyFrom(ctx, token, authn.SourceUnknown)
}

func (v *Verifier) verifyFrom(ctx context.Context, token string, src authn.CredentialSource) (*authn.Principal, error) {
	if v.cache != nil {
		if e := v.cache.get(token); e != nil {
			if v.cacheClock() < e.deadline && e.gen == v.keys.Generation() {
				if prob := v.checkRevoked(ctx, e.jtiKey, e.sidKey, e.iat); prob != nil {
					return nil, prob
				}
				return e.principal(src), nil
			}
			v.cache.drop(token)
		}
	}
	now := v.now()
	gen := v.keys.Generation()
	vt, prob := v.verify(ctx, token, now)
	if prob != nil {
		return nil, prob
	}
	var jtiKey, sidKey string
	if v.rev != nil {
		jtiKey, sidKey = v.rev.jtiKey(vt.jti), v.rev.sidKey(vt.sid)
		if prob := v.checkRevoked(ctx, jtiKey, sidKey, vt.iat); prob != nil {
			return nil, prob
		}
	}
	p := vt.principal()
	p.Source = src
	if v.cache != nil && !vt.exp.IsZero() {
		v.cache.put(&cacheEntry{token: token, p: p, deadline: v.deadline(now, vt.exp), gen: gen, jtiKey: jtiKey, sidKey: sidKey, iat: vt.iat})
	}
	return p, nil
}

// cacheClock reads the clock cache deadlines are measured on: the
// monotonic clock since v.base (one vDSO read, and immune to wall-clock
// steps), or the injected clock's wall time.
func (v *Verifier) cacheClock() int64 {
	if v.customNow {
		return v.now().UnixNano()
	}
	return int64(time.Since(v.base))
}

// deadline converts exp into the cache clock: the moment the entry dies.
// The exact exp is used, without leeway: a cached token is never served
// past its exp (full verification then decides, leeway included).
func (v *Verifier) deadline(now, exp time.Time) int64 {
	if v.customNow {
		return exp.UnixNano()
	}
	return int64(now.Sub(v.base) + exp.Sub(now))
}
