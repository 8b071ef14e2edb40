package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

const (
	demoIssuer   = "bulwark-demo"
	demoAudience = "bulwark-demo"
	demoRealm    = "bulwark-demo"
)

// demoSecrets are the demo's signing seed and fingerprint key. Unlike the
// demo accounts they are not public: a fixed signing key would let anyone
// mint an admin token. Each given in the environment or a file (SecretEnv)
// is used as is; otherwise each process draws them from crypto/rand; demo
// replicas sharing a Redis (--redis) agree on one pair through SET NX, so
// that a token issued by one verifies on every other. A real deployment
// loads its keys from a secret store instead (jwt.KeyConfig).
type demoSecrets struct {
	signingSeed    []byte // Ed25519 seed
	fingerprintKey []byte // HMAC key of the abuse fingerprints
	csrfKey        []byte // HMAC key of the /app CSRF tokens
}

// secretTTL outlives any demo run; the secrets are only ever read back.
const secretTTL = 365 * 24 * time.Hour

func (a *App) loadSecrets(ctx context.Context) (*demoSecrets, error) {
	get := func(name string) ([]byte, error) {
		// From the environment or a file (SecretEnv): used as is, never
		// written to Redis. Sharing through Redis is the demo-only fallback.
		if v, ok, err := secretFromEnv(name); ok || err != nil {
			return v, err
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		if a.cfg.RedisURL == "" {
			return fresh, nil
		}
		key := "demo-secret:" + name
		if _, err := a.store.SetNX(ctx, key, fresh, secretTTL); err != nil {
			return nil, fmt.Errorf("demo: sharing the %s through Redis: %w", name, err)
		}
		v, ok, err := a.store.Get(ctx, key)
		if err != nil || !ok || len(v) != 32 {
			return nil, fmt.Errorf("demo: reading the shared %s from Redis: found %v, %d bytes, %v", name, ok, len(v), err)
		}
		return v, nil
	}
	var s demoSecrets
	var err error
	if s.signingSeed, err = get("signing-seed"); err != nil {
		return nil, err
	}
	if s.fingerprintKey, err = get("fingerprint-key"); err != nil {
		return nil, err
	}
	if s.csrfKey, err = get("csrf-key"); err != nil {
		return nil, err
	}
	return &s, nil
}

// signingKey is the Ed25519 key from the seed, its kid the first 16
// characters of its RFC 7638 thumbprint (so replicas with one seed agree).
func (s *demoSecrets) signingKey() (*jwt.Key, error) {
	priv := ed25519.NewKeyFromSeed(s.signingSeed)
	k, err := jwt.NewKey("demo", jwt.EdDSA, priv)
	if err != nil {
		return nil, err
	}
	return jwt.NewKey("demo-"+k.Thumbprint()[:16], jwt.EdDSA, priv)
}

// auth is the demo's authentication and authorization machinery.
type auth struct {
	key       *jwt.Key
	verifier  *jwt.Verifier
	issuer    *jwt.Issuer
	refresher *refresh.Refresher
	guard     *authn.Guard
	apikeys   *apikey.Authenticator
	either    *authn.Guard // JWT or API key (/api/items)
	authz     *authz.Authorizer
	jwks      http.Handler

	ipLimit    *ratelimit.Limiter   // token bucket per client IP on /api/*, before authentication
	apiLimit   *ratelimit.Limiter   // token bucket per client (principal, else IP) on /api/*
	loginLimit *ratelimit.Limiter   // sliding window per IP on POST /api/login; fails closed
	passwords  *password.Verifier   // argon2id checks within a memory budget
	basic      *basic.Authenticator // GET /api/basic: the demo accounts, over passwords
	stuffing   *abuse.Guard         // distinct failed usernames per client (IPv6 by /64); view account-targeted flags
	cardTest   *abuse.Guard         // distinct cards per client on POST /api/checkout, and the many-address views
	csrfKey    []byte               // the /app CSRF tokens' HMAC key (shared by replicas)
	limits     ratelimit.Store      // the limiters' store: Redis with --redis, else nil (memory)
}

// newAuth builds the JWT, authorization, rate-limit and abuse guards over
// the app's state: token state in stores of their own (so that eviction of
// other keys can never revive a revoked token), limits in memory or Redis.
//
// In memory, the refresh families and the revocation denylist live in two
// NoEvict stores, because anyone can start a session (the demo's
// credentials are public): a flood of logins fills at most the families'
// store — logins then answer 503 — and never the denylist, so logout keeps
// revoking. Capacity: Config.MaxSessions live sessions (100,000 by
// default, about 40 MB); twice that many denylist entries (each logout
// writes two: the access token's jti until its exp, the session's sid
// until the session would have ended).
func (a *App) newAuth() (*auth, error) {
	var tokens, families store.Store
	var limits ratelimit.Store
	if a.cfg.RedisURL != "" {
		// The verifier and the refresher put their keys under their own
		// "jwt:" (VerifierOptions.KeyPrefix), so the store adds only the
		// demo's prefix: bulwark-demo:jwt:revoked:jti:…
		st, err := redisstore.Open(redisstore.Options{URL: a.cfg.RedisURL, Prefix: a.cfg.RedisPrefix, Timeout: a.cfg.RedisTimeout, Now: a.cfg.Now, OnReset: a.stateReset("tokens"), Audit: a.storeAudit("tokens")})
		if err != nil {
			return nil, err
		}
		tokens, families = st, st
		rl, err := redislimit.New(redislimit.Options{Client: st.Client(), Prefix: a.cfg.RedisPrefix + "rl:", Timeout: a.cfg.RedisTimeout, Audit: a.storeAudit("rate_limits")})
		if err != nil {
			return nil, err
		}
		limits = rl
		a.closers = append(a.closers, func() error { rl.Close(); return nil })
	} else {
		tokens = memstore.New(memstore.Options{Now: a.cfg.Now, NoEvict: true, MaxKeys: 2 * a.cfg.MaxSessions})
		families = memstore.New(memstore.Options{Now: a.cfg.Now, NoEvict: true, MaxKeys: a.cfg.MaxSessions})
		a.closers = append(a.closers, families.Close)
	}
	a.closers = append(a.closers, tokens.Close)
	a.tokenStore = tokens

	secrets, err := a.loadSecrets(context.Background())
	if err != nil {
		return nil, err
	}
	x := &auth{csrfKey: secrets.csrfKey, limits: limits}
	if x.key, err = secrets.signingKey(); err != nil {
		return nil, err
	}
	if x.verifier, err = jwt.NewVerifier(jwt.VerifierOptions{
		Keys:     []*jwt.Key{x.key},
		Issuers:  []string{demoIssuer},
		Audience: []string{demoAudience},
		Type:     jwt.TypeAccess,
		Store:    tokens,
		Sources:  []jwt.TokenSource{{From: jwt.FromHeader}, {From: jwt.FromCookie, Name: "auth_token"}},
		Leeway:   60 * time.Second,
		Now:      a.cfg.Now,
	}); err != nil {
		return nil, err
	}
	if x.issuer, err = jwt.NewIssuer(jwt.IssuerOptions{Key: x.key, Issuer: demoIssuer, Audience: []string{demoAudience}, TTL: 15 * time.Minute, Now: a.cfg.Now}); err != nil {
		return nil, err
	}
	if x.refresher, err = refresh.New(refresh.Options{Issuer: x.issuer, Verifier: x.verifier, Store: families}); err != nil {
		return nil, err
	}
	if x.guard, err = authn.New(authn.Options{Authenticator: x.verifier, Realm: demoRealm, Audit: a.audit}); err != nil {
		return nil, err
	}
	if x.apikeys, err = a.newAPIKeys(); err != nil {
		return nil, err
	}
	// Every credential presented must be good: a bad bearer token is not
	// rescued by a good API key, nor the other way round. A request that
	// carries both pays for both checks.
	if x.either, err = authn.New(authn.Options{Authenticator: authn.AnyOf(x.verifier, x.apikeys), Realm: demoRealm, Audit: a.audit}); err != nil {
		return nil, err
	}
	if x.authz, err = authz.New(authz.Options{
		RolePermissions: map[string][]string{
			"admin": {"users:read", "users:delete", "posts:write", "posts:delete"},
			"user":  {"posts:write"},
		},
		AdminRole: "admin",
		Realm:     demoRealm,
		Audit:     a.audit,
	}); err != nil {
		return nil, err
	}
	if x.jwks, err = jwt.JWKSHandler(x.key); err != nil {
		return nil, err
	}
	limit := func(l ratelimit.Limit) (*ratelimit.Limiter, error) {
		return ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{l}, Store: limits, Now: a.cfg.Now, Audit: a.audit})
	}
	// Before authentication, per address: every /api request counts,
	// refused authentications included, so a flood of bogus tokens is
	// throttled before a signature is checked. Twice the per-client bucket,
	// so that one user, or a few behind one address, meet their own limit
	// first.
	if x.ipLimit, err = limit(ratelimit.TokenBucket(200, 20).Named("ip").By(ratelimit.ByIP())); err != nil {
		return nil, err
	}
	if x.apiLimit, err = limit(ratelimit.TokenBucket(100, 10).Named("api").By(ratelimit.ByPrincipal())); err != nil {
		return nil, err
	}
	// The login limit stands between a guesser and the passwords: when
	// Redis cannot decide, it refuses (503) rather than hand out a fresh
	// local quota (FallbackLocal) that would admit more guesses.
	if x.loginLimit, err = ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("login").By(ratelimit.ByIP())},
		Store:  limits, Outage: ratelimit.FailClosed, Now: a.cfg.Now, Audit: a.audit,
	}); err != nil {
		return nil, err
	}
	// Argon2id checks on half the cores at most (19 MiB each), a 250 ms
	// wait for a turn, then 503 with Retry-After: a burst of logins can
	// take neither the process's memory nor all of its CPU.
	if x.passwords, err = password.NewVerifier(password.Options{}); err != nil {
		return nil, err
	}
	// HTTP Basic over the same accounts and the same budget as the login.
	users := make(map[string]basic.User, len(a.data.users))
	for name, u := range a.data.users {
		users[name] = basic.User{Hash: u.passwordHash, Roles: []string{u.Role}, Scopes: u.Scopes}
	}
	if x.basic, err = basic.New(basic.Options{Users: users, Verifier: x.passwords}); err != nil {
		return nil, err
	}
	counts, ok := a.store.(store.DistinctCounter)
	if !ok {
		return nil, errors.New("demo: the state store cannot count distinct values")
	}
	// Credential stuffing: distinct usernames failing from one client
	// (blocks); account-targeted: distinct clients failing for one
	// username (flags only: blocking would hand attackers a lock-out).
	// Failures are what the login handler reports (abuse.Report); the
	// username comes from the JSON body, the HTML form or Basic
	// credentials, so any login route can wrap its handler in LoginAbuse.
	username := abuse.FirstOf(abuse.JSONField("username"), abuse.FormField("username"), abuse.BasicAuthUser())
	if x.stuffing, err = abuse.New(abuse.Options{
		Name: "credential-stuffing", Store: counts, Key: abuse.Client(), Fingerprint: username,
		Threshold: 5, Window: time.Hour, Count: abuse.CountFailures,
		Views:  []abuse.View{{Name: "account-targeted", Key: username, Value: abuse.Client(), Threshold: 5, Action: abuse.Flag}},
		Secret: secrets.fingerprintKey, Audit: a.audit,
		Detail: "too many failed logins for different accounts from this address",
	}); err != nil {
		return nil, err
	}
	// Card testing, the bottle post's algorithm: distinct cards (last four
	// + expiry) per client IP, the hour restarted by every attempt; beyond
	// it, views for attackers with many addresses, which only flag (a card
	// or an email can be named by anyone, so blocking it would lock its
	// owner out).
	card := abuse.Card("card_number", "exp_month", "exp_year")
	if x.cardTest, err = abuse.New(abuse.Options{
		Name: "card-testing", Store: counts, Key: abuse.Client(), Fingerprint: card,
		Threshold: 3, Window: time.Hour,
		Views: []abuse.View{
			{Name: "card-networks", Key: card, Value: abuse.ClientPrefix(24, 64), Threshold: 3, Action: abuse.Flag},
			{Name: "email-cards", Key: abuse.JSONField("email"), Value: card, Threshold: 3, Action: abuse.Flag},
			{Name: "route-cards", Key: abuse.Global(), Value: card, Threshold: 100, Action: abuse.Alert, Window: time.Minute, FixedWindow: true},
		},
		Secret: secrets.fingerprintKey, Audit: a.audit,
		Detail: "too many different cards from this address; try again later",
	}); err != nil {
		return nil, err
	}
	return x, nil
}

type loginRequest struct {
	Username string `json:"username" validate:"required,max=128"`
	Password string `json:"password" validate:"required,max=1024"`
}

// LoginAbuse is the credential-stuffing guard of every login route: wrap
// the route's handler in it (Policy.Abuse), and have the handler report a
// failed login with abuse.Report (or answer 401, which the guard reads).
func (a *App) LoginAbuse(next http.Handler) http.Handler { return a.auth.stuffing.Handler(next) }

// login is POST /api/login: the sliding-window limit has already counted
// this attempt and the credential-stuffing guard has let it through; here
// the body, the password, and finally a token pair.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	deny := a.deny("login")
	in, p := bind.Decode[loginRequest](w, r)
	if p != nil {
		deny.Deny(w, r, p)
		return
	}
	user, err := a.data.checkPassword(r.Context(), a.auth.passwords, in.Username, in.Password)
	if p := a.auth.passwords.Unavailable(err); p != nil {
		deny.Deny(w, r, p) // the password was not checked: nothing to count
		return
	}
	if err != nil {
		a.loginFailed(w, r, problem.Challenge("Bearer", demoRealm))
		return
	}
	pair, err := a.auth.refresher.Login(r.Context(), jwt.Claims{Subject: user.Username, Roles: []string{user.Role}, Scopes: user.Scopes})
	if err != nil {
		deny.Deny(w, r, unavailable(err))
		return
	}
	abuse.Report(w, r, abuse.Succeeded)
	refresh.WriteTokenPair(w, pair)
}

// loginFailed reports a failed login to the abuse guard and answers 401 —
// or, when this failure puts the address over the threshold, the guard's
// 403 (or its 503, when the store cannot count and the guard fails
// closed).
func (a *App) loginFailed(w http.ResponseWriter, r *http.Request, challenge string) {
	if abuse.Report(w, r, abuse.Failed) {
		return
	}
	a.deny("login").Deny(w, r, problem.Unauthorized(problem.TypeInvalidCredentials, challenge, "invalid username or password").WithReason("bad_credentials"))
}

// basicLogin is GET /api/basic: HTTP Basic over the demo accounts. It walks
// the login's path — the route shares the login's policy, so the login
// limit has counted this attempt and the credential-stuffing guard has let
// it through — then checks the password within the shared budget and
// reports a failure to the same guard (loginFailed), so that a guesser
// gains nothing by switching routes.
func (a *App) basicLogin(w http.ResponseWriter, r *http.Request) {
	challenge := a.auth.basic.Challenge(demoRealm)
	user, pw, err := basic.Credentials(r)
	if err != nil {
		p, ok := problem.As(err)
		if !ok { // no Authorization header, or another scheme
			p = problem.Unauthorized(problem.TypeUnauthorized, "", "HTTP Basic authentication is required").WithReason("credentials_missing")
		}
		abuse.Report(w, r, abuse.Succeeded) // no password was tried: nothing to count
		a.deny("login").Deny(w, r, p.WithHeader("WWW-Authenticate", challenge))
		return
	}
	pr, err := a.auth.basic.Verify(r.Context(), user, pw)
	if err != nil {
		if p, ok := problem.As(err); ok && p.Status == http.StatusServiceUnavailable {
			a.deny("login").Deny(w, r, p) // the password was not checked: nothing to count
			return
		}
		a.loginFailed(w, r, challenge)
		return
	}
	abuse.Report(w, r, abuse.Succeeded)
	writeJSON(w, http.StatusOK, map[string]any{
		"message":       "Hello, " + pr.Subject + "!",
		"authenticated": true,
		"user":          map[string]any{"subject": pr.Subject, "roles": pr.Roles, "scopes": pr.Scopes, "method": pr.Method},
	})
}

// stateReset returns the OnReset hook of the Redis store named name: one
// audit event (so a log line, and a count in the metrics) per reset.
func (a *App) stateReset(name string) func(time.Time) {
	return func(since time.Time) {
		a.audit.Record(context.Background(), &audit.Event{
			Time: time.Now(), Guard: "store", Decision: audit.Flag, Reason: "store_state_reset",
			Attrs: []slog.Attr{slog.String("store", name), slog.Time("since", since)},
		})
	}
}

func unavailable(err error) *problem.Problem {
	if errors.Is(err, store.ErrUnavailable) {
		return problem.Unavailable(5*time.Second, "the token service is temporarily unavailable").WithReason("store_unavailable").WithErr(err)
	}
	return problem.New(http.StatusInternalServerError, problem.TypeInternal, "could not issue tokens").WithReason("issue_failed").WithErr(err)
}

func (a *App) protected(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"message":       "This is a protected endpoint",
		"authenticated": true,
		"user":          map[string]any{"subject": p.Subject, "roles": p.Roles, "scopes": p.Scopes, "method": p.Method},
	})
}

func (a *App) adminUsers(w http.ResponseWriter, r *http.Request) {
	users := make([]*User, 0, len(a.data.users))
	for _, name := range []string{AliceUser, BobUser} {
		users = append(users, a.data.users[name])
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (a *App) deleteUser(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.data.users[r.PathValue("id")]; !ok {
		a.deny("demo").Deny(w, r, problem.NotFound())
		return
	}
	// The demo keeps its two accounts: deleting is authorized, then refused
	// politely so that the demo stays usable.
	writeJSON(w, http.StatusOK, map[string]any{"message": fmt.Sprintf("user %s would be deleted (the demo keeps its accounts)", r.PathValue("id"))})
}
