// Package testas is a small OAuth 2.0 authorization server for tests, on
// loopback: it issues opaque access tokens and JWTs, answers token
// introspection (RFC 7662) after authenticating the caller by
// client_secret_basic or private_key_jwt (verifying the assertion), and
// publishes RFC 8414 and OpenID Connect discovery documents and a JWKS.
// Knobs make it fail the ways real servers do.
package testas

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn/jwt"
)

// Failure modes of the introspection endpoint.
const (
	Normal      = iota
	Status500   // answers 500
	Slow        // holds the request until the server closes or Release
	Huge        // a 1 MiB JSON body
	NotJSON     // text/html
	WrongTypes  // "active": "true"
	BadJSONBody // application/json that is not JSON
	Hold        // holds the request until Release, then answers normally
)

// Server is a test authorization server.
type Server struct {
	*httptest.Server
	// Issuer is the issuer identifier: the server URL plus Path.
	Issuer string
	// ClientID, ClientSecret: the client_secret_basic client.
	ClientID, ClientSecret string
	// JWTClientID: the private_key_jwt client, whose public key is
	// ClientKey.
	JWTClientID string

	mode       atomic.Int32
	calls      atomic.Int64
	release    chan struct{}
	mu         sync.Mutex
	tokens     map[string]map[string]any
	clientKey  crypto.PublicKey
	seenJTI    map[string]bool
	docIssuer  atomic.Pointer[string]
	signer     *jwt.Issuer
	t          testing.TB
	lastAssert atomic.Pointer[gjwt.MapClaims]
}

// Start starts a server whose issuer is its URL followed by path ("" or
// "/tenant"), accepting private_key_jwt assertions signed by the private
// half of clientKey.
func Start(t testing.TB, path string, clientKey crypto.PublicKey) *Server {
	t.Helper()
	s := &Server{
		ClientID: "svc-basic", ClientSecret: "s3cret:with%odd+chars é",
		JWTClientID: "svc-jwt", tokens: map[string]map[string]any{}, seenJTI: map[string]bool{},
		clientKey: clientKey, release: make(chan struct{}), t: t,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /introspect", s.introspect)
	mux.HandleFunc("GET /.well-known/", s.wellKnown)
	mux.HandleFunc("GET /", s.wellKnown) // OIDC: issuer path + /.well-known/...
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() { s.Release(); s.Close() })
	s.Issuer = s.URL + path
	key, err := jwt.GenerateKey("as-key-1", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	s.signer, err = jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: s.Issuer, Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	jh, err := jwt.JWKSHandler(key)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("GET /jwks", jh)
	return s
}

// SetMode sets the introspection endpoint's failure mode.
func (s *Server) SetMode(m int) { s.mode.Store(int32(m)) }

// Release lets every held (Slow) request go.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Calls returns the number of introspection requests that passed client
// authentication.
func (s *Server) Calls() int64 { return s.calls.Load() }

// LastAssertion returns the claims of the last verified client assertion.
func (s *Server) LastAssertion() gjwt.MapClaims {
	if p := s.lastAssert.Load(); p != nil {
		return *p
	}
	return nil
}

// LieAboutIssuer makes the discovery documents name issuer instead.
func (s *Server) LieAboutIssuer(issuer string) { s.docIssuer.Store(&issuer) }

// Issue returns a new opaque token whose introspection answer is
// active:true plus claims (exp from ttl unless claims has one).
func (s *Server) Issue(ttl time.Duration, claims map[string]any) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	c := map[string]any{"active": true, "exp": time.Now().Add(ttl).Unix(), "iss": s.Issuer}
	for k, v := range claims {
		c[k] = v
	}
	s.mu.Lock()
	s.tokens[tok] = c
	s.mu.Unlock()
	return tok
}

// IssueJWT signs an access token (JWT) for sub with scopes.
func (s *Server) IssueJWT(sub string, scopes ...string) string {
	tok, err := s.signer.Issue(jwt.Claims{Subject: sub, Scopes: scopes})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// Revoke makes token inactive.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

func (s *Server) authenticate(r *http.Request) bool {
	if id, secret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		return err1 == nil && err2 == nil && id == s.ClientID && secret == s.ClientSecret
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || s.clientKey == nil {
		return false
	}
	var claims gjwt.MapClaims
	_, err := gjwt.ParseWithClaims(r.PostForm.Get("client_assertion"), &claims,
		func(*gjwt.Token) (any, error) { return s.clientKey, nil },
		gjwt.WithValidMethods([]string{"ES256", "RS256", "EdDSA"}), gjwt.WithAudience(s.Issuer),
		gjwt.WithIssuer(s.JWTClientID), gjwt.WithSubject(s.JWTClientID), gjwt.WithExpirationRequired())
	if err != nil {
		return false
	}
	if exp, _ := claims.GetExpirationTime(); exp == nil || time.Until(exp.Time) > 5*time.Minute {
		return false
	}
	jti, _ := claims["jti"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if jti == "" || s.seenJTI[jti] {
		return false
	}
	if id := r.PostForm.Get("client_id"); id != "" && id != s.JWTClientID {
		return false
	}
	s.seenJTI[jti] = true
	s.lastAssert.Store(&claims)
	return true
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !s.authenticate(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="as"`)
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	s.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	switch s.mode.Load() {
	case Status500:
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case Slow:
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
		return
	case Huge:
		_, _ = w.Write([]byte(`{"active":true,"x":"` + strings.Repeat("a", 1<<20) + `"}`))
		return
	case NotJSON:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
		return
	case WrongTypes:
		_, _ = w.Write([]byte(`{"active":"true","sub":"x"}`))
		return
	case BadJSONBody:
		_, _ = w.Write([]byte(`{"active":true,`))
		return
	case Hold:
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	c, ok := s.tokens[r.PostForm.Get("token")]
	s.mu.Unlock()
	if !ok {
		_, _ = w.Write([]byte(`{"active":false}`))
		return
	}
	_ = json.NewEncoder(w).Encode(c)
}

func (s *Server) wellKnown(w http.ResponseWriter, r *http.Request) {
	issuer := s.Issuer
	if p := s.docIssuer.Load(); p != nil {
		issuer = *p
	}
	u, _ := url.Parse(s.Issuer)
	path := u.Path
	doc := map[string]any{
		"issuer":                 issuer,
		"introspection_endpoint": s.URL + "/introspect",
		"jwks_uri":               s.URL + "/jwks",
		"token_endpoint":         s.URL + "/token",
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "private_key_jwt"},
		"id_token_signing_alg_values_supported":         []string{"ES256", "HS256", "none"},
	}
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server" + path:
		if strings.Contains(path, "oidc-only") {
			http.NotFound(w, r)
			return
		}
	case path + "/.well-known/openid-configuration":
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}
