package refresh_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// The reference API's token endpoints: login issues an access + refresh
// pair, /api/protected takes the access token from the Authorization
// header or the auth_token cookie, a refresh token works once, and logout
// revokes both.
func Example() {
	tokens := memstore.New(memstore.Options{}) // a store of its own: see jwt.VerifierOptions.Store
	defer tokens.Close()
	key, _ := jwt.GenerateKey("demo", jwt.HS256) // demo only: a fresh secret per run
	v, _ := jwt.NewVerifier(jwt.VerifierOptions{
		Keys:     []*jwt.Key{key},
		Issuers:  []string{"bulwark-demo"},
		Audience: []string{"bulwark-demo"},
		Type:     jwt.TypeAccess,
		Store:    tokens,
		Sources:  []jwt.TokenSource{{From: jwt.FromHeader}, {From: jwt.FromCookie, Name: "auth_token"}},
	})
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "bulwark-demo", Audience: []string{"bulwark-demo"}})
	refresher, _ := refresh.New(refresh.Options{Issuer: iss, Verifier: v})
	sink := audit.NewMemory()
	guard, _ := authn.New(authn.Options{Authenticator: v, Realm: "bulwark-demo", Audit: sink})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		// ... decode {username, password}, check the argon2id hash, then:
		pair, err := refresher.Login(r.Context(), jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read", "write"}})
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable) // deny through a problem.Denier in real code
			return
		}
		refresh.WriteTokenPair(w, pair)
	})
	mux.Handle("POST /api/refresh", refresher.RefreshHandler(refresh.HandlerOptions{Audit: sink}))
	mux.Handle("POST /api/logout", guard.Require(refresher.LogoutHandler(refresh.HandlerOptions{Audit: sink})))
	mux.Handle("GET /api/protected", guard.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})))

	do := func(method, path, body string, set func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if set != nil {
			set(r)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	var pair refresh.TokenPair
	w := do("POST", "/api/login", `{"username":"alice","password":"wonderland-2026"}`, nil)
	_ = json.Unmarshal(w.Body.Bytes(), &pair)
	fmt.Println("login", w.Code, pair.TokenType, pair.ExpiresIn)
	fmt.Println("protected (header)", do("GET", "/api/protected", "", bearer(pair.AccessToken)).Code)
	fmt.Println("protected (cookie)", do("GET", "/api/protected", "", func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "auth_token", Value: pair.AccessToken})
	}).Code)
	fmt.Println("refresh token as access token", do("GET", "/api/protected", "", bearer(pair.RefreshToken)).Code)

	var pair2 refresh.TokenPair
	w = do("POST", "/api/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, nil)
	_ = json.Unmarshal(w.Body.Bytes(), &pair2)
	fmt.Println("refresh", w.Code)
	fmt.Println("reuse", do("POST", "/api/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, nil).Code)
	fmt.Println("after reuse, new access token", do("GET", "/api/protected", "", bearer(pair2.AccessToken)).Code)

	w = do("POST", "/api/login", `{}`, nil)
	_ = json.Unmarshal(w.Body.Bytes(), &pair)
	fmt.Println("logout", do("POST", "/api/logout", `{"refresh_token":"`+pair.RefreshToken+`"}`, bearer(pair.AccessToken)).Code)
	w = do("GET", "/api/protected", "", bearer(pair.AccessToken))
	fmt.Println("after logout", w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Println("refresh after logout", do("POST", "/api/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, nil).Code)
	// Output:
	// login 200 Bearer 900
	// protected (header) 200
	// protected (cookie) 200
	// refresh token as access token 401
	// refresh 200
	// reuse 401
	// after reuse, new access token 401
	// logout 204
	// after logout 401 Bearer realm="bulwark-demo", error="invalid_token", error_description="the token has been revoked"
	// refresh after logout 401
}

// Renew access tokens in a response header as they near their expiry:
// with a 15-minute TTL, in their last 5 minutes.
func ExampleNewSliding() {
	key, _ := jwt.GenerateKey("k1", jwt.EdDSA)
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://api.example.com", TTL: 15 * time.Minute})
	v, _ := jwt.NewVerifier(jwt.VerifierOptions{Keys: []*jwt.Key{key.Public()}, Issuers: []string{"https://api.example.com"}})
	guard, _ := authn.New(authn.Options{Authenticator: v})
	sliding, err := refresh.NewSliding(refresh.SlidingOptions{Issuer: iss})
	if err != nil {
		panic(err)
	}
	h := guard.Require(sliding.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))

	for _, left := range []time.Duration{10 * time.Minute, 4 * time.Minute} {
		tok, _ := iss.Issue(jwt.Claims{Subject: "alice", TTL: left})
		r := httptest.NewRequest("GET", "/api/items", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(left, "left, renewed:", w.Header().Get(refresh.DefaultRefreshedTokenHeader) != "")
	}
	// Output:
	// 10m0s left, renewed: false
	// 4m0s left, renewed: true
}
