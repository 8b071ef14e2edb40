package refresh_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
)

// slidingStack is v's guard, then sliding expiry, then a handler that
// answers 204.
func slidingStack(t testing.TB, v *jwt.Verifier, opts refresh.SlidingOptions) func(tok string) *httptest.ResponseRecorder {
	t.Helper()
	guard, err := authn.New(authn.Options{Authenticator: v})
	if err != nil {
		t.Fatal(err)
	}
	s, err := refresh.NewSliding(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := guard.Require(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })))
	return func(tok string) *httptest.ResponseRecorder { return bearer(h, "GET", tok) }
}

func TestSlidingRefresh(t *testing.T) {
	a, c := memReplica(t)
	call := slidingStack(t, a.v, refresh.SlidingOptions{Issuer: a.iss, MaxLifetime: time.Hour, Now: c.Now})
	pair, err := a.r.Login(bg, jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read"}, Extra: map[string]any{"tenant": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Minute) // 10 of 15 minutes left: outside the 5-minute window
	if w := call(pair.AccessToken); w.Code != 204 || w.Header().Get(refresh.DefaultRefreshedTokenHeader) != "" {
		t.Fatalf("outside the window: %d %q", w.Code, w.Header().Get(refresh.DefaultRefreshedTokenHeader))
	}
	c.Advance(6 * time.Minute) // 4 minutes left
	w := call(pair.AccessToken)
	fresh := w.Header().Get(refresh.DefaultRefreshedTokenHeader)
	if w.Code != 204 || fresh == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("inside the window: %d %q", w.Code, fresh)
	}
	old, _ := a.v.Verify(bg, pair.AccessToken)
	p, err := a.v.Verify(bg, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "alice" || !p.HasRole("admin") || !p.HasScope("read") || p.Claims["tenant"] != "acme" ||
		p.Claims["sid"] != old.Claims["sid"] || p.TokenID == old.TokenID || !p.ExpiresAt.After(old.ExpiresAt) {
		t.Fatalf("fresh principal %+v", p)
	}
	// Revoking the session revokes the slid token too.
	if err := a.r.Logout(bg, old, ""); err != nil {
		t.Fatal(err)
	}
	if w := call(fresh); w.Code != 401 {
		t.Fatalf("slid token after logout: %d", w.Code)
	}

	// Past MaxLifetime (from auth_time) no fresh token is given.
	pair = a.login(t)
	tok := pair.AccessToken
	for i := 0; i < 6; i++ {
		c.Advance(11 * time.Minute)
		next := call(tok).Header().Get(refresh.DefaultRefreshedTokenHeader)
		if next == "" {
			if i < 4 {
				t.Fatalf("round %d: no fresh token within MaxLifetime", i)
			}
			return
		}
		tok = next
	}
	t.Fatal("sliding went on past MaxLifetime")
}

func TestSlidingIgnoresForeignTokens(t *testing.T) {
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret), Issuer: "https://us.test", Now: func() time.Time { return jwttest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	v := jwttest.HSVerifier(t, nil) // tokens from https://issuer.test
	call := slidingStack(t, v, refresh.SlidingOptions{Issuer: iss, Now: func() time.Time { return jwttest.Now }})
	w := call(jwttest.HSToken(t, jwttest.Claims(map[string]any{"exp": jwttest.Now.Add(time.Minute).Unix()})))
	if w.Code != 204 || w.Header().Get(refresh.DefaultRefreshedTokenHeader) != "" {
		t.Fatalf("foreign token renewed: %d", w.Code)
	}
}

// TestSlidingRenewsOnlyItsOwnKeysTokens: a verifier that trusts our key and
// another issuer's accepts both issuers' tokens; sliding refresh renews only
// the tokens our Issuer's key verified, even when a foreign token carries
// our iss.
func TestSlidingRenewsOnlyItsOwnKeysTokens(t *testing.T) {
	_, ecPriv, _ := jwttest.Keys(t)
	ours := jwttest.Key(t, "ours", jwt.ES256, ecPriv)
	foreignPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	foreign := jwttest.Key(t, "idp", jwt.ES256, &foreignPriv.PublicKey)
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: ours, Issuer: "https://us.test", Now: func() time.Time { return jwttest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	// Our key's public half locally, the other issuer's key from a key set.
	v := jwttest.Verifier(t, jwt.VerifierOptions{
		Keys: []*jwt.Key{ours.Public()}, KeySet: jwttest.KeySet(t, foreign),
		Algorithms: []string{jwt.ES256}, Now: func() time.Time { return jwttest.Now },
	})
	call := slidingStack(t, v, refresh.SlidingOptions{Issuer: iss, Now: func() time.Time { return jwttest.Now }})
	soon := jwttest.Now.Add(time.Minute).Unix()
	mine, err := iss.Issue(jwt.Claims{Subject: "alice", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if w := call(mine); w.Code != 204 || w.Header().Get(refresh.DefaultRefreshedTokenHeader) == "" {
		t.Fatalf("our own token was not renewed: %d", w.Code)
	}
	for name, c := range map[string]map[string]any{
		"foreign token with our iss": {"sub": "mallory", "iss": "https://us.test", "exp": soon, "iat": jwttest.Now.Unix()},
		"foreign token without iss":  {"sub": "mallory", "exp": soon, "iat": jwttest.Now.Unix()},
	} {
		tok := jwttest.Craft(t, "ES256", foreignPriv, jwttest.JSON(t, map[string]string{"alg": "ES256", "kid": "idp"}), jwttest.JSON(t, c))
		w := call(tok)
		if w.Code != 204 {
			t.Fatalf("%s: not accepted by the verifier (%d); the test needs it accepted", name, w.Code)
		}
		if fresh := w.Header().Get(refresh.DefaultRefreshedTokenHeader); fresh != "" {
			t.Errorf("%s: renewed with our key", name)
		}
	}
}

func TestNewSlidingRefusesWhatCannotWork(t *testing.T) {
	key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://us.test"})
	noIss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key})
	for _, tc := range []struct {
		name string
		opts refresh.SlidingOptions
		msg  string
	}{
		{"no issuer", refresh.SlidingOptions{}, "Issuer is required"},
		{"issuer without iss", refresh.SlidingOptions{Issuer: noIss}, "(iss) is set"},
		{"window longer than the TTL", refresh.SlidingOptions{Issuer: iss, Window: time.Hour}, "Window"},
		{"negative lifetime", refresh.SlidingOptions{Issuer: iss, MaxLifetime: -time.Hour}, "MaxLifetime"},
	} {
		if _, err := refresh.NewSliding(tc.opts); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.msg)
		}
	}
}
