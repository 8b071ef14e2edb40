package bulwark_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/accesslog"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authz"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/recovery"
)

// Assemble a policy from the guards' constructors: every step of the
// request path is one guard, and Policy puts them in the documented order.
// Each constructor refuses insecure or malformed options with an error.
func Example_policy() {
	sink := audit.NewMemory() // audit.NewSlog(logger) in production

	identity, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}, Audit: sink})
	mustNil(err)
	rec, err := recovery.New(recovery.Options{Logger: slog.New(slog.DiscardHandler), Audit: sink})
	mustNil(err)
	hdrs, err := headers.New(headers.API())
	mustNil(err)
	crs, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "POST"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-ID", "RateLimit", "RateLimit-Policy"},
		AllowCredentials: true,
		Audit:            sink,
	})
	mustNil(err)
	body, err := bodylimit.New(bodylimit.Options{MaxBytes: 64 << 10, Audit: sink})
	mustNil(err)
	perIP, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.TokenBucket(100, 10).Named("ip").By(ratelimit.ByIP())},
		Audit:  sink,
	})
	mustNil(err)

	// A fixed secret keeps the example self-contained; load real keys with
	// jwt.KeyFromEnv, jwt.LoadKeyFile or a remote JWKS (package jwks).
	key, err := jwt.NewHMACKey("k1", jwt.HS256, []byte("an example secret of at least 32 bytes!"))
	mustNil(err)
	verifier, err := jwt.NewVerifier(jwt.VerifierOptions{
		Keys:     []*jwt.Key{key},
		Issuers:  []string{"https://api.example.com"},
		Audience: []string{"api"},
		Type:     jwt.TypeAccess,
	})
	mustNil(err)
	authGuard, err := authn.New(authn.Options{Authenticator: verifier, Realm: "api", Audit: sink})
	mustNil(err)
	az, err := authz.New(authz.Options{Realm: "api", Audit: sink})
	mustNil(err)

	policy := bulwark.Policy{
		Identity:      identity.Handler,
		Recovery:      rec.Handler,
		Headers:       hdrs.Handler,
		CORS:          crs.Handler,
		BodyLimit:     body.Handler,
		PreAuthLimits: perIP.Handler,
		Authn:         authGuard.Require,
		Authz:         az.RequireScope("read"),
	}
	h := policy.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	}))

	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://api.example.com", Audience: []string{"api"}, TTL: 15 * time.Minute})
	mustNil(err)
	reader, err := iss.Issue(jwt.Claims{Subject: "alice", Scopes: []string{"read"}})
	mustNil(err)
	noScope, err := iss.Issue(jwt.Claims{Subject: "bob"})
	mustNil(err)

	for _, c := range []struct{ name, origin, method, token string }{
		{"no token", "", "GET", ""},
		{"scope read", "", "GET", reader},
		{"no scope", "", "GET", noScope},
		{"preflight, unknown origin", "https://evil.example", "OPTIONS", ""},
	} {
		r := httptest.NewRequest(c.method, "/api/items", nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
			r.Header.Set("Access-Control-Request-Method", "GET")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%-26s %d %s | nosniff=%s\n", c.name, w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Content-Type-Options"))
	}
	fmt.Println("audit events:", len(sink.Events()))
	// Output:
	// no token                   401 application/problem+json | nosniff=nosniff
	// scope read                 200 text/plain; charset=utf-8 | nosniff=nosniff
	// no scope                   403 application/problem+json | nosniff=nosniff
	// preflight, unknown origin  403 application/problem+json | nosniff=nosniff
	// audit events: 3
}

// Shape denials with an ErrorHandler: every guard's Options has one, and
// problem.Write is the default. A custom handler must copy the headers the
// guard attached (WWW-Authenticate, Retry-After, Allow); the audit event
// has already been recorded when it runs.
func Example_errorHandler() {
	shape := func(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
		for _, h := range []string{"WWW-Authenticate", "Retry-After", "Allow"} {
			if v := p.Header(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.Status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": p.Type, "message": p.Detail})
	}
	key, err := jwt.NewHMACKey("k1", jwt.HS256, []byte("an example secret of at least 32 bytes!"))
	mustNil(err)
	verifier, err := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	mustNil(err)
	guard, err := authn.New(authn.Options{Authenticator: verifier, Realm: "api", ErrorHandler: shape})
	mustNil(err)
	h := guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/protected", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Print(w.Body.String())
	// Output:
	// 401 Bearer realm="api"
	// {"error":"https://bulwark.dev/problems/unauthorized","message":"authentication is required"}
}

// Evaluate a guard without letting it refuse: Check says what the guard
// would answer, so a rollout can watch a new limit before enforcing it
// (a gateway's shadow mode). Every guard that can deny has Check.
func Example_checker() {
	strict, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.FixedWindow(2, time.Minute).Named("candidate").By(ratelimit.ByIP())},
	})
	mustNil(err)
	shadow := func(c bulwark.Checker) bulwark.Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r, p := c.Check(r)
				if p != nil {
					fmt.Println("would refuse:", p.Status, p.Reason) // audit it instead
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	h := shadow(strict)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/items", nil))
		fmt.Println("served", w.Code)
	}
	// Output:
	// served 200
	// served 200
	// would refuse: 429 rate_limited
	// served 200
}

// A Policy around a plain ServeMux: the access log (and metrics) name the
// route pattern that served each request, not its path; a request no route
// matched is logged with its path.
func Example_routes() {
	var lines bytes.Buffer
	log, err := accesslog.New(accesslog.Options{Logger: slog.New(slog.NewTextHandler(&lines, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key != "route" && a.Key != "status" {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	}))})
	mustNil(err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := bulwark.Policy{AccessLog: log.Handler}.Handler(mux)
	for _, path := range []string{"/users/42", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	fmt.Print(lines.String())
	// Output:
	// route="GET /users/{id}" status=200
	// route=/nowhere status=404
}

func mustNil(err error) {
	if err != nil {
		panic(err)
	}
}
