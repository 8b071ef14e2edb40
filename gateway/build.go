package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/muxfallback"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/recovery"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Shadow-mode guard names, as Policy.Shadow lists them.
const (
	StepIPFilter        = "ip_filter"
	StepCORS            = "cors"
	StepBodyLimit       = "body_limit"
	StepRateLimits      = "rate_limits"
	StepAbuse           = "abuse"
	StepAuthn           = "authn"
	StepPrincipalLimits = "principal_limits"
	StepPrincipalAbuse  = "principal_abuse"
	StepCSRF            = "csrf"
	StepAuthz           = "authz"
)

var shadowSteps = []string{StepIPFilter, StepCORS, StepBodyLimit, StepRateLimits, StepAbuse, StepAuthn, StepPrincipalLimits, StepPrincipalAbuse, StepCSRF, StepAuthz}

// DefaultRedisPrefix prefixes the gateway's Redis keys.
const DefaultRedisPrefix = "bulwark:gw:"

// BuildOptions are what Build needs beside the configuration.
type BuildOptions struct {
	// Telemetry receives metrics and audit events. Required.
	Telemetry *Telemetry
	// Resolve reads secret references. Default EnvResolver.
	Resolve Resolver
	// Previous is the gateway being replaced by a reload: its stateful
	// guards (rate limiters, JWT verifiers and their caches, key sets,
	// the Redis client) whose definition did not change are taken over,
	// state and all, instead of being built anew. Default: none.
	Previous *Gateway
}

// Gateway is one configuration built into guards and upstreams: an
// http.Handler for the public listener. Build it with Build; it is
// immutable, and a reload builds a new one.
type Gateway struct {
	cfg       *Config
	tel       *Telemetry
	handler   http.Handler
	mux       *http.ServeMux
	routes    []*route
	notFound  http.Handler
	redis     *sharedRedis
	resources map[string]*resource // by kind/name: stateful guards, reusable
	strip     []string             // principal headers, removed from every request
	stripSet  headerSet            // strip, normalised ('_' as '-', any case)
	refs      atomic.Int64         // requests being served
	closing   atomic.Bool          // Close began: no new request is admitted
}

// resource is a stateful part of a gateway, kept across reloads while its
// definition (hash) stays the same.
type resource struct {
	hash  string
	value any
	close func()
	taken atomic.Bool // taken over by a newer gateway: not closed with this one
}

type sharedRedis struct {
	client   rueidis.Client
	prefix   string
	timeout  time.Duration
	required bool
}

// store is a Store on the shared client with keys under the configured
// prefix + sub, every command bounded by redis.timeout (not the library's
// 250ms default: the configuration's bound holds for every guard).
func (r *sharedRedis) store(sub string, sink audit.Sink) *redisstore.Store {
	s, err := redisstore.Open(redisstore.Options{Client: r.client, Prefix: r.prefix + sub, Timeout: r.timeout, Audit: sink})
	if err != nil { // only invalid options fail, and these were validated
		return redisstore.New(r.client, r.prefix+sub)
	}
	return s
}

// route is one built route.
type route struct {
	cfg     Route
	policy  string
	steps   []step
	handler http.Handler
	pool    *pool
}

// step is one guard of a route, for Explain and the golden descriptions.
type step struct {
	name   string // request-path step
	detail string
	shadow bool
}

// Build validates cfg and builds every guard through its package's New,
// and the upstreams. The error names the definition at fault.
func Build(cfg *Config, o BuildOptions) (g *Gateway, err error) {
	if o.Telemetry == nil {
		return nil, errors.New("gateway: BuildOptions.Telemetry is required")
	}
	if o.Resolve == nil {
		o.Resolve = EnvResolver
	}
	g = &Gateway{cfg: cfg, tel: o.Telemetry, resources: map[string]*resource{}}
	b := &builder{g: g, o: o, prev: o.Previous}
	defer func() {
		if err != nil {
			b.abort()
			g = nil
		}
	}()
	if err := b.build(); err != nil {
		return nil, err
	}
	b.commit()
	return g, nil
}

type builder struct {
	g       *Gateway
	o       BuildOptions
	prev    *Gateway
	taken   []*resource // resources of prev reused, marked on commit
	fresh   []*resource // resources built here, closed on abort
	headers map[string]*headerGuard
	cors    map[string]*cors.CORS
	limits  map[string]*ratelimit.Limiter
	authns  map[string]authn.Authenticator
	az      *authz.Authorizer

	identity *clientip.Identity
	sessions map[string]*session.Manager     // session authenticators
	basics   map[string]*basic.Authenticator // basic authenticators (login routes)
	csrfs    map[csrfUse]*csrf.Guard
	abuses   map[string]*abuse.Guard
	verifier *password.Verifier
}

func (b *builder) abort() {
	for _, r := range b.fresh {
		if r.close != nil {
			r.close()
		}
	}
}

func (b *builder) commit() {
	for _, r := range b.taken {
		r.taken.Store(true)
	}
}

// reuse returns the previous gateway's resource key when its hash matches,
// else builds one with mk.
func (b *builder) reuse(key string, def any, mk func() (any, func(), error)) (any, error) {
	h := hashOf(def)
	if b.prev != nil {
		if r, ok := b.prev.resources[key]; ok && r.hash == h && !r.taken.Load() {
			nr := &resource{hash: h, value: r.value, close: r.close}
			b.g.resources[key] = nr
			b.taken = append(b.taken, r)
			return r.value, nil
		}
	}
	v, closer, err := mk()
	if err != nil {
		return nil, err
	}
	r := &resource{hash: h, value: v, close: closer}
	b.g.resources[key] = r
	b.fresh = append(b.fresh, r)
	return v, nil
}

func hashOf(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "unhashable:" + err.Error() // never equal to a real hash: rebuilt
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func (b *builder) build() error {
	cfg, tel := b.g.cfg, b.g.tel
	if cfg.Listen.Addr == "" {
		return errors.New("listen.addr is required")
	}
	if err := b.buildRedis(); err != nil {
		return err
	}
	// Step 1 and the wrappers around everything.
	idOpts := cfg.ClientIP
	idOpts.Audit = tel.Audit
	id, err := clientip.New(idOpts)
	if err != nil {
		return fmt.Errorf("client_ip: %w", err)
	}
	b.identity = id
	rec, err := recovery.New(recovery.Options{Logger: tel.Logger, Audit: tel.Audit})
	if err != nil {
		return err
	}
	var logMW bulwark.Middleware
	if cfg.Log.AccessLog {
		al, err := accesslog.New(accesslog.Options{Logger: tel.Logger})
		if err != nil {
			return err
		}
		logMW = al.Handler
	}

	// Named definitions.
	b.headers = map[string]*headerGuard{}
	for _, name := range sortedKeys(cfg.Headers) {
		hg, err := newHeaderGuard(cfg.Headers[name])
		if err != nil {
			return fmt.Errorf("headers.%s: %w", name, err)
		}
		b.headers[name] = hg
	}
	b.cors = map[string]*cors.CORS{}
	for _, name := range sortedKeys(cfg.CORS) {
		o := cfg.CORS[name]
		o.Audit = tel.Audit
		c, err := cors.New(o)
		if err != nil {
			return fmt.Errorf("cors.%s: %w", name, err)
		}
		b.cors[name] = c
	}
	b.limits = map[string]*ratelimit.Limiter{}
	for _, name := range sortedKeys(cfg.Limits) {
		l, err := b.buildLimiter(name, cfg.Limits[name])
		if err != nil {
			return fmt.Errorf("limits.%s: %w", name, err)
		}
		b.limits[name] = l
	}
	if err := b.buildAuthenticators(); err != nil {
		return err
	}
	b.csrfs = map[csrfUse]*csrf.Guard{}
	for _, name := range sortedKeys(cfg.CSRF) {
		// Each route builds its own use; this validates every definition.
		if _, err := b.buildCSRF(name, cfg.CSRF[name], nil, ""); err != nil {
			return fmt.Errorf("csrf.%s: %w", name, err)
		}
	}
	b.abuses = map[string]*abuse.Guard{}
	for _, name := range sortedKeys(cfg.Abuse) {
		g, err := b.buildAbuse(name, cfg.Abuse[name])
		if err != nil {
			return fmt.Errorf("abuse.%s: %w", name, err)
		}
		b.abuses[name] = g
	}
	azo := cfg.Authorization
	azo.Audit = tel.Audit
	if b.az, err = authz.New(azo); err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	pools := map[string]*pool{}
	for _, name := range sortedKeys(cfg.Upstreams) {
		p, err := newPool(name, cfg.Upstreams[name], tel)
		if err != nil {
			return fmt.Errorf("upstreams.%s: %w", name, err)
		}
		pools[name] = p
	}
	for _, p := range cfg.Policies {
		if p.PrincipalHeaders != nil {
			for _, h := range []string{p.PrincipalHeaders.Subject, p.PrincipalHeaders.Method, p.PrincipalHeaders.Roles, p.PrincipalHeaders.Scopes} {
				if h != "" && !slices.Contains(b.g.strip, http.CanonicalHeaderKey(h)) {
					b.g.strip = append(b.g.strip, http.CanonicalHeaderKey(h))
				}
			}
		}
	}
	sort.Strings(b.g.strip)
	b.g.stripSet = newHeaderSet(b.g.strip)

	// Routes.
	api, err := headers.New(headers.API())
	if err != nil {
		return err
	}
	b.g.mux = http.NewServeMux()
	if len(cfg.Routes) == 0 {
		return errors.New("routes: at least one route is required")
	}
	for i, rc := range cfg.Routes {
		rt, err := b.buildRoute(rc, pools)
		if err != nil {
			return fmt.Errorf("routes[%d] (%q): %w", i, rc.Match, err)
		}
		if err := register(b.g.mux, rc.Match, rt.handler); err != nil {
			return fmt.Errorf("routes[%d]: %w", i, err)
		}
		b.g.routes = append(b.g.routes, rt)
	}
	deny := problem.Denier{Guard: "gateway", Audit: tel.Audit}
	b.g.notFound = api.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.g.unrouted(w, r, deny)
	}))
	b.g.handler = bulwark.Chain(id.Handler, logMW, tel.Metrics.Handler, rec.Handler)(http.HandlerFunc(b.g.dispatch))
	return nil
}

// register adds a route to mux, turning ServeMux's panic on an invalid or
// conflicting pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	if strings.TrimSpace(pattern) == "" {
		return errors.New("match is required")
	}
	mux.Handle(pattern, h)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// buildRedis connects the shared Redis client (reused across reloads while
// its section is unchanged). Connecting is lazy: an unreachable server is
// not an error here, the guards' outage policies decide.
func (b *builder) buildRedis() error {
	rc := b.g.cfg.Redis
	if rc == nil {
		return nil
	}
	v, err := b.reuse("redis", rc, func() (any, func(), error) {
		u, err := b.o.Resolve.expand("redis.url", rc.URL)
		if err != nil {
			return nil, nil, err
		}
		if u == "" {
			return nil, nil, errors.New("redis.url is required")
		}
		client, err := redisstore.NewClient(redisstore.Options{URL: u, Timeout: rc.Timeout})
		if err != nil {
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		return client, client.Close, nil
	})
	if err != nil {
		return err
	}
	prefix := rc.Prefix
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	b.g.redis = &sharedRedis{client: v.(rueidis.Client), prefix: prefix, timeout: rc.Timeout, required: rc.Required}
	return nil
}

// buildLimiter builds a named limiter, reusing the previous one (and its
// in-memory state) when its definition is unchanged.
func (b *builder) buildLimiter(name string, def Limiter) (*ratelimit.Limiter, error) {
	key := "limit/" + name
	hashed := struct {
		Def   Limiter
		Redis *Redis
	}{def, nil}
	if def.Store == "redis" {
		hashed.Redis = b.g.cfg.Redis
	}
	v, err := b.reuse(key, hashed, func() (any, func(), error) {
		o := def.Options
		o.Audit = b.g.tel.Audit
		var closer func()
		switch def.Store {
		case "", "memory":
		case "redis":
			if b.g.redis == nil {
				return nil, nil, errors.New(`store "redis" needs the top-level redis section`)
			}
			st, err := redislimit.New(redislimit.Options{
				Client: b.g.redis.client, Prefix: b.g.redis.prefix + "rl:" + name + ":",
				Timeout: b.g.redis.timeout, Audit: b.g.tel.Audit,
			})
			if err != nil {
				return nil, nil, err
			}
			o.Store, closer = st, func() { st.Close() }
		default:
			return nil, nil, fmt.Errorf("store %q: want memory or redis", def.Store)
		}
		l, err := ratelimit.New(o)
		if err != nil {
			if closer != nil {
				closer()
			}
			return nil, nil, err
		}
		return l, closer, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*ratelimit.Limiter), nil
}

func (b *builder) buildJWT(def *JWT) (any, func(), error) {
	o := def.VerifierOptions
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for i, kc := range def.Keys {
		if kc.Secret != "" {
			s, err := b.o.Resolve.expand(fmt.Sprintf("keys[%d].secret", i), kc.Secret)
			if err != nil {
				return nil, nil, err
			}
			kc.Secret = s
		}
		k, err := kc.Load()
		if err != nil {
			return nil, nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		o.Keys = append(o.Keys, k)
	}
	if def.JWKS != nil {
		jo := *def.JWKS
		jo.Logger, jo.Audit = b.g.tel.Logger, b.g.tel.Audit
		r, err := jwks.New(jo)
		if err != nil {
			return nil, nil, fmt.Errorf("jwks: %w", err)
		}
		o.KeySet = r
		closers = append(closers, r.Close)
	}
	switch def.Revocation {
	case "":
	case "memory":
		ms := memstore.New(memstore.Options{NoEvict: true})
		o.Store = ms
		closers = append(closers, func() { closeStore(ms) })
	case "redis":
		if b.g.redis == nil {
			closeAll()
			return nil, nil, errors.New(`revocation "redis" needs the top-level redis section`)
		}
		o.Store = b.g.redis.store("jwt:", b.g.tel.Audit)
	default:
		closeAll()
		return nil, nil, fmt.Errorf("revocation %q: want memory or redis", def.Revocation)
	}
	v, err := jwt.NewVerifier(o)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return v, closeAll, nil
}

func closeStore(s store.Store) {
	if c, ok := s.(interface{ Close() error }); ok {
		c.Close()
	}
}

// headerGuard is a built header profile and the response headers it
// manages, which upstream responses may not override.
type headerGuard struct {
	profile *headers.Profile
	managed []string
	desc    string
}

func newHeaderGuard(def HeaderProfile) (*headerGuard, error) {
	o := def.Options
	if def.CSP != nil {
		c, err := csp.New(*def.CSP)
		if err != nil {
			return nil, fmt.Errorf("csp: %w", err)
		}
		o.CSP = c
	}
	if def.CSPReportOnly != nil {
		c, err := csp.New(*def.CSPReportOnly)
		if err != nil {
			return nil, fmt.Errorf("csp_report_only: %w", err)
		}
		o.CSPReportOnly = c
	}
	p, err := headers.New(o)
	if err != nil {
		return nil, err
	}
	hg := &headerGuard{profile: p}
	// What the profile sets on an HTTPS response: those headers are the
	// gateway's, and an upstream's copies are dropped.
	w := headerSink{}
	r, _ := http.NewRequest(http.MethodGet, "https://gateway.invalid/", nil)
	p.Apply(w, r)
	for k := range w {
		hg.managed = append(hg.managed, k)
	}
	if _, ok := w[headers.HeaderHSTS]; !ok && !o.HSTS.Off {
		hg.managed = append(hg.managed, headers.HeaderHSTS) // sent on HTTPS only
	}
	sort.Strings(hg.managed)
	hg.desc = strings.Join(hg.managed, ", ")
	return hg, nil
}

type headerSink http.Header

func (h headerSink) Header() http.Header       { return http.Header(h) }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}

// buildRoute assembles one route's guards in request-path order.
func (b *builder) buildRoute(rc Route, pools map[string]*pool) (*route, error) {
	cfg, tel := b.g.cfg, b.g.tel
	pc, ok := cfg.Policies[rc.Policy]
	if !ok {
		return nil, fmt.Errorf("policy %q is not defined", rc.Policy)
	}
	for _, s := range pc.Shadow {
		if !slices.Contains(shadowSteps, s) {
			return nil, fmt.Errorf("policy %q: shadow %q: want one of %s", rc.Policy, s, strings.Join(shadowSteps, ", "))
		}
	}
	shadow := func(s string) bool { return slices.Contains(pc.Shadow, s) }
	rt := &route{cfg: rc, policy: rc.Policy}
	var mws []bulwark.Middleware
	add := func(name, detail string, sh bool, mw bulwark.Middleware) {
		rt.steps = append(rt.steps, step{name: name, detail: detail, shadow: sh})
		mws = append(mws, mw)
	}

	// 2. headers
	var hg *headerGuard
	if pc.Headers != "" {
		if hg = b.headers[pc.Headers]; hg == nil {
			return nil, fmt.Errorf("policy %q: headers %q is not defined", rc.Policy, pc.Headers)
		}
	} else {
		var err error
		if hg, err = newHeaderGuard(HeaderProfile{}); err != nil {
			return nil, err
		}
	}
	name := pc.Headers
	if name == "" {
		name = "(api default)"
	}
	add("headers", name+": "+hg.desc, false, hg.profile.Handler)

	// IP allow/deny lists (route-level), before anything else can answer.
	if len(rc.AllowIPs)+len(rc.DenyIPs) > 0 {
		f, err := newIPFilter(rc.AllowIPs, rc.DenyIPs)
		if err != nil {
			return nil, err
		}
		add(StepIPFilter, f.String(), shadow(StepIPFilter), b.guard(StepIPFilter, shadow(StepIPFilter), f.Check, nil))
	}
	// 3. CORS
	var corsOn bool
	if pc.CORS != "" {
		c := b.cors[pc.CORS]
		if c == nil {
			return nil, fmt.Errorf("policy %q: cors %q is not defined", rc.Policy, pc.CORS)
		}
		corsOn = true
		d := c.Describe()
		add(StepCORS, fmt.Sprintf("%s: origins %v, credentials %v", pc.CORS, d.AllowedOrigins, d.AllowCredentials),
			shadow(StepCORS), b.guardWith(StepCORS, shadow(StepCORS), c.Check, c.Handler))
	}
	// 4. body limit, pre-authentication rate limits
	bo := bodylimit.Options{}
	if pc.BodyLimit != nil {
		bo = *pc.BodyLimit
	}
	bo.Audit = tel.Audit
	cp, err := bodylimit.New(bo)
	if err != nil {
		return nil, fmt.Errorf("policy %q: body_limit: %w", rc.Policy, err)
	}
	maxBytes := bo.MaxBytes
	if maxBytes == 0 {
		maxBytes = bodylimit.DefaultMaxBytes
	}
	add(StepBodyLimit, fmt.Sprintf("%d bytes", maxBytes), shadow(StepBodyLimit), b.guard(StepBodyLimit, shadow(StepBodyLimit), cp.Check, cp.Handler))
	for _, ln := range pc.RateLimits {
		l := b.limits[ln]
		if l == nil {
			return nil, fmt.Errorf("policy %q: rate limit %q is not defined", rc.Policy, ln)
		}
		add(StepRateLimits, ln+": "+describeLimits(l, cfg.Limits[ln]), shadow(StepRateLimits), b.guard(StepRateLimits, shadow(StepRateLimits), l.Check, l.Handler))
	}
	// The route's session: loaded before abuse detection and
	// authentication, saved as the response starts.
	var sess *session.Manager
	var sessName string
	members := cfg.policyMembers(pc)
	for _, m := range members {
		if sm := b.sessions[m]; sm != nil {
			if sess != nil && sm != sess {
				return nil, fmt.Errorf("policy %q: authenticates by two sessions (%s, %s); use one", rc.Policy, sessName, m)
			}
			sess, sessName = sm, m
		}
	}
	ep := rc.Session
	if ep != nil {
		sm := b.sessions[ep.Session]
		if sm == nil {
			return nil, fmt.Errorf("session.session %q is not a session authenticator", ep.Session)
		}
		if sess != nil && sm != sess {
			return nil, fmt.Errorf("session %q differs from the policy's session %q", ep.Session, sessName)
		}
		sess, sessName = sm, ep.Session
	}
	if sess != nil {
		add("session", sessName+": "+describeSession(cfg.Authenticators[sessName].Session), false, sess.Handler)
	}
	// 5. abuse detection before authentication
	abuseStep := func(step, an string, post bool) error {
		g := b.abuses[an]
		if g == nil {
			return fmt.Errorf("policy %q: abuse detector %q is not defined", rc.Policy, an)
		}
		def := cfg.Abuse[an]
		if !post && def.keyedByPrincipal() {
			return fmt.Errorf("policy %q: abuse detector %q counts by principal: list it under principal_abuse", rc.Policy, an)
		}
		add(step, an+": "+describeAbuse(def), shadow(step), b.guard(step, shadow(step), g.Check, g.Handler))
		return nil
	}
	for _, an := range pc.Abuse {
		if err := abuseStep(StepAbuse, an, false); err != nil {
			return nil, err
		}
	}
	// 6. authentication, then principal-keyed limits and abuse detectors
	if len(pc.Authn) > 0 {
		var auths []authn.Authenticator
		for _, an := range pc.Authn {
			a := b.authns[an]
			if a == nil {
				return nil, fmt.Errorf("policy %q: authenticator %q is not defined", rc.Policy, an)
			}
			auths = append(auths, a)
		}
		a := auths[0]
		if len(auths) > 1 {
			a = authn.AnyOf(auths...)
		}
		g, err := authn.New(authn.Options{Authenticator: a, Realm: pc.Realm, Audit: tel.Audit})
		if err != nil {
			return nil, fmt.Errorf("policy %q: authn: %w", rc.Policy, err)
		}
		check, h := g.Check, g.Require
		mode := "required"
		if pc.AuthnOptional {
			check, h, mode = g.CheckOptional, g.Optional, "optional"
		}
		add(StepAuthn, fmt.Sprintf("%s (%s)", b.describeAuthn(pc.Authn), mode), shadow(StepAuthn), b.guard(StepAuthn, shadow(StepAuthn), check, h))
	} else if pc.AuthnOptional {
		return nil, fmt.Errorf("policy %q: authn_optional without authn", rc.Policy)
	}
	for _, ln := range pc.PrincipalLimits {
		l := b.limits[ln]
		if l == nil {
			return nil, fmt.Errorf("policy %q: rate limit %q is not defined", rc.Policy, ln)
		}
		add(StepPrincipalLimits, ln+": "+describeLimits(l, cfg.Limits[ln]), shadow(StepPrincipalLimits), b.guard(StepPrincipalLimits, shadow(StepPrincipalLimits), l.Check, l.Handler))
	}
	if len(pc.PrincipalAbuse) > 0 && len(pc.Authn) == 0 {
		return nil, fmt.Errorf("policy %q: principal_abuse needs authn", rc.Policy)
	}
	for _, an := range pc.PrincipalAbuse {
		if err := abuseStep(StepPrincipalAbuse, an, true); err != nil {
			return nil, err
		}
	}
	// 7. CSRF
	loginPath := ""
	if ep != nil && ep.Action == "login" {
		if loginPath = patternPath(rc.Match); loginPath == "" {
			return nil, fmt.Errorf("a login route's match must be a fixed path (\"POST /login\")")
		}
	}
	var csrfDef *CSRF
	if pc.CSRF != "" {
		def, ok := cfg.CSRF[pc.CSRF]
		if !ok {
			return nil, fmt.Errorf("policy %q: csrf %q is not defined", rc.Policy, pc.CSRF)
		}
		csrfDef = &def
		g, err := b.buildCSRF(pc.CSRF, def, sess, loginPath)
		if err != nil {
			return nil, fmt.Errorf("policy %q: csrf: %w", rc.Policy, err)
		}
		detail := pc.CSRF + ": " + describeCSRF(def)
		if sess != nil {
			detail += ", tokens bound to session " + sessName
		}
		if loginPath != "" {
			detail += ", login CSRF checked on " + loginPath
		}
		add(StepCSRF, detail, shadow(StepCSRF), b.guard(StepCSRF, shadow(StepCSRF), g.Check, g.Handler))
		if def.UpstreamHeader != "" {
			mws = append(mws, upstreamToken(def.UpstreamHeader))
		}
	} else if loginPath != "" {
		return nil, fmt.Errorf("policy %q: a session login route needs a csrf guard (login CSRF)", rc.Policy)
	}
	// 8. authorization
	if pc.Authz != nil {
		if len(pc.Authn) == 0 {
			return nil, fmt.Errorf("policy %q: authz needs authn", rc.Policy)
		}
		q, err := b.az.Require(*pc.Authz)
		if err != nil {
			return nil, fmt.Errorf("policy %q: authz: %w", rc.Policy, err)
		}
		add(StepAuthz, describeRule(*pc.Authz), shadow(StepAuthz), b.guard(StepAuthz, shadow(StepAuthz), q.Check, q.Handler))
	}
	// 9. the gateway's own session endpoint, or the upstream
	if ep != nil {
		if rc.Upstream != "" {
			return nil, errors.New("a session route is answered by the gateway: remove upstream")
		}
		redirect, err := localRedirect(ep.Redirect)
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		e := *ep
		e.Redirect = redirect
		var h http.Handler
		switch ep.Action {
		case "login":
			users := b.basics[ep.Users]
			if users == nil {
				return nil, fmt.Errorf("session.users %q is not a basic authenticator", ep.Users)
			}
			h = b.loginHandler(e, func(r *http.Request, user, pw string) (*authn.Principal, error) {
				return users.Verify(r.Context(), user, pw)
			})
			rt.steps = append(rt.steps, step{name: "session login", detail: fmt.Sprintf("form username/password checked against %s, session %s, 303 to %s", ep.Users, ep.Session, redirect)})
		case "logout":
			h = logoutHandler(e)
			rt.steps = append(rt.steps, step{name: "session logout", detail: fmt.Sprintf("session %s ended, 303 to %s", ep.Session, redirect)})
		default:
			return nil, fmt.Errorf("session.action %q: want login or logout", ep.Action)
		}
		rt.handler = bulwark.Chain(mws...)(h)
		return rt, nil
	}
	if rc.Upstream == "" {
		return nil, errors.New("upstream is required")
	}
	pl, ok := pools[rc.Upstream]
	if !ok {
		return nil, fmt.Errorf("upstream %q is not defined", rc.Upstream)
	}
	rt.pool = pl
	if rc.StripPrefix != "" && !strings.HasPrefix(rc.StripPrefix, "/") {
		return nil, fmt.Errorf("strip_prefix %q must start with /", rc.StripPrefix)
	}
	var dropCookies []string
	if sess != nil {
		dropCookies = append(dropCookies, sessionCookieNames(cfg.Authenticators[sessName].Session)...)
	}
	if csrfDef != nil {
		dropCookies = append(dropCookies, csrfCookieNames(csrfDef)...)
	}
	var creds headerSet
	var dropQuery []string
	if rc.StripCredentials {
		hs := []string{"Authorization", apikey.DefaultHeader}
		for _, a := range credentialSources(cfg, pc.Authn) {
			if a.Header != "" && a.Header != apikey.Off {
				hs = append(hs, a.Header)
			}
			if a.Cookie != "" {
				dropCookies = append(dropCookies, a.Cookie)
			}
			if a.Query != "" {
				dropQuery = append(dropQuery, a.Query)
			}
		}
		creds = newHeaderSet(hs)
	}
	rid := cfg.ClientIP.RequestIDHeader
	if rid == "" {
		rid = clientip.DefaultRequestIDHeader
	}
	up := &forwarder{
		pool: pl, stripPrefix: rc.StripPrefix, strip: b.g.stripSet, principal: pc.PrincipalHeaders,
		managed: hg.managed, removeHeaders: hg.profile.StripHeaders, corsOwned: corsOn,
		requestIDHeader: http.CanonicalHeaderKey(rid), dropCookies: dropCookies,
		credentials: creds, dropQuery: dropQuery,
	}
	up.proxies = pl.proxiesFor(up)
	rt.steps = append(rt.steps, step{name: "upstream", detail: rc.Upstream + " " + strings.Join(pl.urls(), ", ")})
	rt.handler = bulwark.Chain(mws...)(up)
	return rt, nil
}

// guard returns a step's middleware: enforce as the guard's Handler does,
// or in shadow mode evaluate Check, record what it would refuse and pass
// the request on.
func (b *builder) guard(name string, sh bool, check func(*http.Request) (*http.Request, *problem.Problem), enforce bulwark.Middleware) bulwark.Middleware {
	if !sh {
		if enforce == nil {
			deny := problem.Denier{Guard: name, Audit: b.g.tel.Audit}
			return func(next http.Handler) http.Handler { return deny.Wrap(check, next) }
		}
		return enforce
	}
	tel := b.g.tel
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, p := check(r)
			if r2 == nil {
				r2 = r // a check that read the body returns one replaying it
			}
			if p != nil {
				tel.shadowDenied(r, name, p.Reason, p.Status)
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// guardWith is guard for a stateless guard whose Handler does more than
// refuse (CORS writes its response headers): in shadow mode a request
// Check passes still goes through the Handler.
func (b *builder) guardWith(name string, sh bool, check func(*http.Request) (*http.Request, *problem.Problem), enforce bulwark.Middleware) bulwark.Middleware {
	if !sh {
		return enforce
	}
	tel := b.g.tel
	return func(next http.Handler) http.Handler {
		enforced := enforce(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, p := check(r); p != nil {
				tel.shadowDenied(r, name, p.Reason, p.Status)
				next.ServeHTTP(w, r)
				return
			}
			enforced.ServeHTTP(w, r)
		})
	}
}

func describeLimits(l *ratelimit.Limiter, def Limiter) string {
	var parts []string
	for _, lim := range l.Limits() {
		parts = append(parts, lim.String())
	}
	st := def.Store
	if st == "" {
		st = "memory"
	}
	return strings.Join(parts, "; ") + " [" + st + ", outage " + def.Outage.String() + "]"
}

func describeRule(r authz.Rule) string {
	var parts []string
	if len(r.Roles) > 0 {
		parts = append(parts, "any role of "+strings.Join(r.Roles, ","))
	}
	if len(r.Permissions) > 0 {
		parts = append(parts, "permissions "+strings.Join(r.Permissions, ","))
	}
	if len(r.Scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(r.Scopes, ","))
	}
	return strings.Join(parts, "; ")
}

// ipFilter is a route's IP allow and deny lists.
type ipFilter struct {
	allow, deny []netip.Prefix
}

func newIPFilter(allow, deny []string) (*ipFilter, error) {
	parse := func(list []string) ([]netip.Prefix, error) {
		var out []netip.Prefix
		for _, s := range list {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", s)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			out = append(out, p.Masked())
		}
		return out, nil
	}
	f := &ipFilter{}
	var err error
	if f.allow, err = parse(allow); err != nil {
		return nil, fmt.Errorf("allow_ips: %w", err)
	}
	if f.deny, err = parse(deny); err != nil {
		return nil, fmt.Errorf("deny_ips: %w", err)
	}
	return f, nil
}

func (f *ipFilter) String() string {
	return fmt.Sprintf("allow %v, deny %v", f.allow, f.deny)
}

func in(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TypeIPDenied is the problem type of a request refused by a route's IP
// lists.
const TypeIPDenied = problem.BaseURI + "ip-denied"

// Check refuses clients on the deny list, or off the allow list when there
// is one, with 403.
func (f *ipFilter) Check(r *http.Request) (*http.Request, *problem.Problem) {
	a := clientip.FromContext(r.Context())
	switch {
	case in(f.deny, a):
		return r, problem.Forbidden(TypeIPDenied, "requests from this address are not accepted here").WithReason("ip_denied")
	case len(f.allow) > 0 && !in(f.allow, a):
		return r, problem.Forbidden(TypeIPDenied, "requests from this address are not accepted here").WithReason("ip_not_allowed")
	}
	return r, nil
}

// ServeHTTP serves the public listener. A closed Gateway answers 503.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.acquire() {
		problem.Write(w, r, problem.Unavailable(time.Second, "the gateway is shutting down").WithReason("gateway_closed"))
		return
	}
	defer g.release()
	g.handler.ServeHTTP(w, r)
}

// acquire admits one request unless Close began. Close sets closing and
// then waits for refs to drain; acquire counts itself in and then checks
// closing: whichever order the two run in, no request runs on released
// guards.
func (g *Gateway) acquire() bool {
	g.refs.Add(1)
	if g.closing.Load() {
		g.release()
		return false
	}
	return true
}

func (g *Gateway) release() { g.refs.Add(-1) }

// dispatch routes a request to its route. A CORS preflight is routed by
// the method it asks about, so that the route's CORS policy answers it.
func (g *Gateway) dispatch(w http.ResponseWriter, r *http.Request) {
	lookup := r
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
		if m := r.Header.Get("Access-Control-Request-Method"); m != "" && validMethod(m) {
			lookup = r.Clone(r.Context())
			lookup.Method = m
		}
	}
	h, pattern := g.mux.Handler(lookup)
	if pattern == "" {
		g.notFound.ServeHTTP(w, r)
		return
	}
	bulwark.SetRoute(r, pattern)
	h.ServeHTTP(w, r)
}

func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// unrouted answers a request no route matches: 405 with Allow when the
// path matches another method, else 404, as problems.
func (g *Gateway) unrouted(w http.ResponseWriter, r *http.Request, deny problem.Denier) {
	if status, h := muxfallback.Of(g.mux, r); status == http.StatusMethodNotAllowed {
		deny.Deny(w, r, problem.MethodNotAllowed(strings.Split(h.Get("Allow"), ", ")).WithReason("method_not_allowed"))
		return
	}
	deny.Deny(w, r, problem.NotFound().WithReason("no_route"))
}

// Ready reports whether every required store answers.
func (g *Gateway) Ready(ctx context.Context) error {
	if g.redis == nil || !g.redis.required {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := g.redis.client.Do(ctx, g.redis.client.B().Ping().Build()).Error(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close waits for the requests this gateway is serving (at most
// drainTimeout), then releases the stateful guards a newer gateway did not
// take over: background key-set refreshes, Redis clients, stores.
func (g *Gateway) Close(drainTimeout time.Duration) {
	if g == nil || g.closing.Swap(true) {
		return
	}
	deadline := time.Now().Add(drainTimeout)
	for g.refs.Load() > 0 {
		if time.Now().After(deadline) {
			g.tel.Logger.Warn("gateway: closing a configuration with requests still in flight")
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Redis last: limiters built on it close first.
	var last *resource
	for key, r := range g.resources {
		if r.taken.Load() || r.close == nil {
			continue
		}
		if key == "redis" {
			last = r
			continue
		}
		r.close()
	}
	if last != nil {
		last.close()
	}
}

// Config returns the configuration g was built from.
func (g *Gateway) Config() *Config { return g.cfg }

var _ = slog.LevelInfo

func describeSession(d *Session) string {
	st := d.Store
	if st == "" {
		st = "memory"
	}
	same := d.SameSite
	if same == "" {
		same = "lax"
	}
	return fmt.Sprintf("%s store, SameSite=%s, secure_always %v", st, same, d.SecureAlways)
}

func describeAbuse(d AbuseDetector) string {
	key := d.Key
	if key == "" {
		key = "client"
	}
	act := string(d.Action)
	if act == "" {
		act = "block"
	}
	st := d.Store
	if st == "" {
		st = "memory"
	}
	s := fmt.Sprintf("distinct %s per %s > %d → %s [%s]", d.Fingerprint, key, d.Threshold, act, st)
	for _, v := range d.Views {
		a := string(v.Action)
		if a == "" {
			a = "flag"
		}
		s += fmt.Sprintf("; view %s: distinct %s per %s > %d → %s", v.Name, v.Value, v.Key, v.Threshold, a)
	}
	return s
}

func describeCSRF(d CSRF) string {
	if d.OriginOnly {
		return fmt.Sprintf("origin check only, trusted %v", d.TrustedOrigins)
	}
	return fmt.Sprintf("origin check and tokens, trusted %v", d.TrustedOrigins)
}

// describeAuthn names a policy's authenticators, compositions spelled out.
func (b *builder) describeAuthn(names []string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, b.describeAuthn1(n, 0))
	}
	return strings.Join(parts, " | ")
}

func (b *builder) describeAuthn1(name string, depth int) string {
	def := b.g.cfg.Authenticators[name]
	if depth > 8 {
		return name
	}
	var members []string
	sep := ""
	switch def.kind() {
	case "any_of":
		sep = " | "
		for _, m := range def.AnyOf {
			members = append(members, b.describeAuthn1(m, depth+1))
		}
	case "all_of":
		sep = " & "
		for _, m := range def.AllOf {
			members = append(members, b.describeAuthn1(m, depth+1))
		}
	default:
		return name
	}
	return name + "(" + strings.Join(members, sep) + ")"
}

// credentialSources are the API-key options of the authenticators names
// reach (through any_of and all_of).
func credentialSources(cfg *Config, names []string) []apikey.Options {
	var out []apikey.Options
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		def := cfg.Authenticators[n]
		if def.APIKey != nil {
			out = append(out, def.APIKey.Options)
		}
		for _, m := range append(append([]string(nil), def.AnyOf...), def.AllOf...) {
			walk(m)
		}
	}
	for _, n := range names {
		walk(n)
	}
	return out
}

// sessionCookieNames are the names a session's cookie may have.
func sessionCookieNames(d *Session) []string {
	n := d.CookieName
	if n == "" {
		n = session.DefaultCookieName
	}
	return []string{n, "__Host-" + n}
}

// csrfCookieNames are the names the CSRF pre-session cookie may have.
func csrfCookieNames(d *CSRF) []string {
	n := d.CookieName
	if n == "" {
		n = csrf.DefaultCookieName
	}
	return []string{n, "__Host-" + n}
}
