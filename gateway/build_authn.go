package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/apikey/rediskeys"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/authn/introspect"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/mtls"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// kind names the one kind an authenticator definition sets, or "" when it
// sets none or several.
func (a Authenticator) kind() string {
	var kinds []string
	add := func(set bool, name string) {
		if set {
			kinds = append(kinds, name)
		}
	}
	add(a.JWT != nil, "jwt")
	add(a.APIKey != nil, "apikey")
	add(a.Basic != nil, "basic")
	add(a.Introspect != nil, "introspect")
	add(a.MTLS != nil, "mtls")
	add(a.Session != nil, "session")
	add(len(a.AnyOf) > 0, "any_of")
	add(len(a.AllOf) > 0, "all_of")
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

const authnKinds = "jwt, apikey, basic, introspect, mtls, session, any_of or all_of"

// buildAuthenticators builds every named authenticator: the kinds first,
// then the compositions, which name others (a cycle is an error).
func (b *builder) buildAuthenticators() error {
	cfg := b.g.cfg
	b.authns = map[string]authn.Authenticator{}
	b.sessions = map[string]*session.Manager{}
	b.basics = map[string]*basic.Authenticator{}
	for _, name := range sortedKeys(cfg.Authenticators) {
		def := cfg.Authenticators[name]
		k := def.kind()
		if k == "" {
			return fmt.Errorf("authenticators.%s: set exactly one kind (%s)", name, authnKinds)
		}
		if k == "any_of" || k == "all_of" {
			continue
		}
		a, err := b.buildAuthenticator(name, def)
		if err != nil {
			return fmt.Errorf("authenticators.%s: %w", name, err)
		}
		b.authns[name] = a
	}
	for _, name := range sortedKeys(cfg.Authenticators) {
		if _, err := b.composite(name, nil); err != nil {
			return fmt.Errorf("authenticators.%s: %w", name, err)
		}
	}
	return nil
}

// composite returns the named authenticator, building a composition from
// its members on first use.
func (b *builder) composite(name string, stack []string) (authn.Authenticator, error) {
	if a, ok := b.authns[name]; ok {
		return a, nil
	}
	def, ok := b.g.cfg.Authenticators[name]
	if !ok {
		return nil, fmt.Errorf("authenticator %q is not defined", name)
	}
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("composition cycle: %s → %s", strings.Join(stack, " → "), name)
	}
	stack = append(stack, name)
	members := def.AnyOf
	if def.kind() == "all_of" {
		members = def.AllOf
	}
	var auths []authn.Authenticator
	for _, m := range members {
		a, err := b.composite(m, stack)
		if err != nil {
			return nil, err
		}
		auths = append(auths, a)
	}
	var a authn.Authenticator
	if def.kind() == "all_of" {
		a = authn.AllOf(b.bindTokens(members, auths)...)
	} else {
		a = authn.AnyOf(auths...)
	}
	b.authns[name] = a
	return a, nil
}

// bindTokens wraps the jwt members of an all_of that also holds an mtls
// member in mtls.CertificateBound (RFC 8705 §3), so that a token bound to
// a client certificate (cnf x5t#S256) is accepted with that certificate
// only. Without the wrapper the verifier refuses every bound token
// (token_binding_unchecked): all_of: [cert, token] would otherwise be a
// configuration in which certificate-bound tokens cannot work at all.
func (b *builder) bindTokens(members []string, auths []authn.Authenticator) []authn.Authenticator {
	var certs *mtls.Authenticator
	for _, a := range auths {
		if c, ok := a.(*mtls.Authenticator); ok {
			certs = c
			break
		}
	}
	if certs == nil {
		return auths
	}
	out := slices.Clone(auths)
	for i, m := range members {
		if b.g.cfg.Authenticators[m].JWT != nil {
			out[i] = mtls.CertificateBound(auths[i], certs, mtls.BoundOptions{})
		}
	}
	return out
}

// authnMembers returns the kinds-level authenticators a name stands for,
// through compositions.
func (cfg *Config) authnMembers(name string, seen map[string]bool) []string {
	if seen[name] {
		return nil
	}
	seen[name] = true
	def, ok := cfg.Authenticators[name]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range append(append([]string(nil), def.AnyOf...), def.AllOf...) {
		out = append(out, cfg.authnMembers(m, seen)...)
	}
	if len(def.AnyOf)+len(def.AllOf) == 0 {
		out = append(out, name)
	}
	return out
}

// policyMembers returns the kinds-level authenticators of a policy.
func (cfg *Config) policyMembers(p Policy) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range p.Authn {
		out = append(out, cfg.authnMembers(n, seen)...)
	}
	return out
}

// fileDigest hashes a file's content into a definition's hash, so that a
// reload picks up a changed users or records file.
func fileDigest(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable"
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// secrets resolves a list of references and secret files into keys.
func (b *builder) secrets(field string, refs, files []string) ([][]byte, error) {
	var out [][]byte
	for i, r := range refs {
		s, err := b.o.Resolve.expand(fmt.Sprintf("%s[%d]", field, i), r)
		if err != nil {
			return nil, err
		}
		out = append(out, []byte(s))
	}
	for i, f := range files {
		s, err := readSecretFile(fmt.Sprintf("%s_files[%d]", field, i), f)
		if err != nil {
			return nil, err
		}
		out = append(out, []byte(s))
	}
	return out, nil
}

// buildAuthenticator builds a named authenticator of one kind, reusing
// the previous gateway's (caches, stores, sessions and all) when its
// definition is unchanged.
func (b *builder) buildAuthenticator(name string, def Authenticator) (authn.Authenticator, error) {
	hashed := struct {
		Def   Authenticator
		Redis *Redis
		Files []string
	}{Def: def}
	usesRedis := def.JWT != nil && def.JWT.Revocation == "redis" ||
		def.APIKey != nil && def.APIKey.Store == "redis" ||
		def.Introspect != nil && def.Introspect.SharedCache == "redis" ||
		def.Session != nil && def.Session.Store == "redis"
	if usesRedis {
		hashed.Redis = b.g.cfg.Redis
	}
	switch {
	case def.APIKey != nil:
		hashed.Files = []string{fileDigest(def.APIKey.RecordsFile)}
	case def.Basic != nil:
		hashed.Files = []string{fileDigest(def.Basic.File)}
	case def.MTLS != nil:
		hashed.Files = []string{fileDigest(def.MTLS.CAFile)}
		hashed.Redis = nil
		if len(def.MTLS.TrustedProxies) == 0 {
			// The proxies come from client_ip: part of the definition.
			hashed.Files = append(hashed.Files, strings.Join(b.g.cfg.ClientIP.TrustedProxies, ","))
		}
	}
	v, err := b.reuse("authn/"+name, hashed, func() (any, func(), error) {
		switch {
		case def.JWT != nil:
			return b.buildJWT(def.JWT)
		case def.APIKey != nil:
			return b.buildAPIKey(name, def.APIKey)
		case def.Basic != nil:
			o := *def.Basic
			o.Verifier = b.passwords()
			a, err := basic.New(o)
			if err != nil {
				return nil, nil, fmt.Errorf("basic: %w", err)
			}
			return a, nil, nil
		case def.Introspect != nil:
			return b.buildIntrospect(name, def.Introspect)
		case def.MTLS != nil:
			o := *def.MTLS
			if len(o.TrustedProxies) == 0 && len(b.g.cfg.ClientIP.TrustedProxies) > 0 && b.g.cfg.ClientIP.TrustedHops == 0 {
				o.Proxies = b.identity
			}
			a, err := mtls.New(o)
			if err != nil {
				return nil, nil, fmt.Errorf("mtls: %w", err)
			}
			return a, nil, nil
		case def.Session != nil:
			return b.buildSession(name, def.Session)
		}
		return nil, nil, errors.New("no kind set")
	})
	if err != nil {
		return nil, err
	}
	switch a := v.(type) {
	case *session.Manager:
		b.sessions[name] = a
	case *basic.Authenticator:
		b.basics[name] = a
	}
	return v.(authn.Authenticator), nil
}

// passwords returns the gateway's one password verifier, shared by every
// authenticator that checks passwords so that their memory budget is one.
func (b *builder) passwords() *password.Verifier {
	if b.verifier == nil {
		v, err := b.reuse("password-verifier", "default", func() (any, func(), error) {
			pv, err := password.NewVerifier(password.Options{})
			return pv, nil, err
		})
		if err == nil {
			b.verifier = v.(*password.Verifier)
		}
	}
	return b.verifier
}

func (b *builder) buildAPIKey(name string, def *APIKey) (any, func(), error) {
	o := def.Options
	var err error
	if o.Secrets, err = b.secrets("apikey.secrets", def.Secrets, def.SecretFiles); err != nil {
		return nil, nil, err
	}
	if len(o.Secrets) == 0 {
		return nil, nil, errors.New(`apikey: secrets (or secret_files) are required: the HMAC secrets keys are hashed under, e.g. secrets: ["${APIKEY_SECRET}"]`)
	}
	o.Logger = b.g.tel.Logger
	var closers []func()
	switch def.Store {
	case "", "file":
		if def.RecordsFile == "" {
			return nil, nil, errors.New("apikey: records_file is required (or store: redis)")
		}
		st, err := apikey.LoadStatic(def.RecordsFile)
		if err != nil {
			return nil, nil, fmt.Errorf("apikey.records_file: %w", err)
		}
		o.Store = st
	case "redis":
		if b.g.redis == nil {
			return nil, nil, errors.New(`apikey: store "redis" needs the top-level redis section`)
		}
		ro := rediskeys.Options{}
		if def.Redis != nil {
			ro = *def.Redis
		}
		rs := b.g.redis.store("", b.g.tel.Audit)
		ro.Redis, ro.Audit = rs, b.g.tel.Audit
		st, err := rediskeys.New(ro)
		if err != nil {
			return nil, nil, fmt.Errorf("apikey.redis: %w", err)
		}
		o.Store = st
		closers = append(closers, func() { st.Close() })
	default:
		return nil, nil, fmt.Errorf("apikey: store %q: want file or redis", def.Store)
	}
	a, err := apikey.New(o)
	if err != nil {
		for _, c := range closers {
			c()
		}
		return nil, nil, fmt.Errorf("apikey: %w", err)
	}
	return a, func() {
		a.Close()
		for _, c := range closers {
			c()
		}
	}, nil
}

func (b *builder) buildIntrospect(name string, def *Introspect) (any, func(), error) {
	o := def.Options
	if o.ClientSecret != "" {
		s, err := b.o.Resolve.expand("introspect.client_secret", o.ClientSecret)
		if err != nil {
			return nil, nil, err
		}
		o.ClientSecret = s
	}
	if o.PrivateKey != "" {
		s, err := b.o.Resolve.expand("introspect.private_key", o.PrivateKey)
		if err != nil {
			return nil, nil, err
		}
		o.PrivateKey = s
	}
	o.Logger = b.g.tel.Logger
	switch def.SharedCache {
	case "":
	case "redis":
		if b.g.redis == nil {
			return nil, nil, errors.New(`introspect: shared_cache "redis" needs the top-level redis section`)
		}
		o.SharedCache = b.g.redis.store("introspect:"+name+":", b.g.tel.Audit)
	default:
		return nil, nil, fmt.Errorf("introspect: shared_cache %q: want redis or nothing", def.SharedCache)
	}
	a, err := introspect.New(o)
	if err != nil {
		return nil, nil, fmt.Errorf("introspect: %w", err)
	}
	return a, nil, nil
}

func (b *builder) buildSession(name string, def *Session) (any, func(), error) {
	o := def.Options
	o.Audit = b.g.tel.Audit
	var closer func()
	switch def.Store {
	case "", "memory":
		ms := memstore.New(memstore.Options{})
		o.Store, closer = ms, func() { ms.Close() }
	case "redis":
		if b.g.redis == nil {
			return nil, nil, errors.New(`session: store "redis" needs the top-level redis section`)
		}
		o.Store = b.g.redis.store("sess:"+name+":", b.g.tel.Audit)
	case "cookie":
		keys, err := b.secrets("session.cookie_keys", def.CookieKeys, def.CookieKeyFiles)
		if err != nil {
			return nil, nil, err
		}
		if len(keys) == 0 {
			return nil, nil, errors.New(`session: store "cookie" needs cookie_keys (e.g. ["${SESSION_KEY}"]) or cookie_key_files`)
		}
		o.CookieKeys = keys
	default:
		return nil, nil, fmt.Errorf("session: store %q: want memory, redis or cookie", def.Store)
	}
	if def.Store != "cookie" && len(def.CookieKeys)+len(def.CookieKeyFiles) > 0 {
		return nil, nil, errors.New(`session: cookie_keys are for store "cookie" only`)
	}
	m, err := session.New(o)
	if err != nil {
		if closer != nil {
			closer()
		}
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	return m, closer, nil
}

// cookieAuthenticated reports whether an authenticator reads a credential
// a browser sends on its own: a session, a JWT or API key from a cookie.
func (a Authenticator) cookieAuthenticated() bool {
	switch {
	case a.Session != nil:
		return true
	case a.APIKey != nil:
		return a.APIKey.Cookie != ""
	case a.JWT != nil:
		for _, s := range a.JWT.Sources {
			if s.From == jwt.FromCookie {
				return true
			}
		}
	}
	return false
}
