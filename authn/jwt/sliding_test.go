package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
)

func TestSlidingRefresh(t *testing.T) {
	c := newClock()
	st := newMemStore(t, c)
	a := newReplica(t, st, c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	guard, err := authn.New(authn.Options{Authenticator: a.v})
	if err != nil {
		t.Fatal(err)
	}
	slide, err := jwt.Sliding(jwt.SlidingOptions{Issuer: a.iss, MaxLifetime: time.Hour, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := guard.Require(slide(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })))
	call := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/protected", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	pair, err := a.r.Login(bg, jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read"}, Extra: map[string]any{"tenant": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Minute) // 10 of 15 minutes left: outside the 5-minute window
	if w := call(pair.AccessToken); w.Code != 204 || w.Header().Get(jwt.DefaultRefreshedTokenHeader) != "" {
		t.Fatalf("outside the window: %d %q", w.Code, w.Header().Get(jwt.DefaultRefreshedTokenHeader))
	}
	c.Advance(6 * time.Minute) // 4 minutes left
	w := call(pair.AccessToken)
	fresh := w.Header().Get(jwt.DefaultRefreshedTokenHeader)
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
	pair, err = a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	tok := pair.AccessToken
	for i := 0; i < 6; i++ {
		c.Advance(11 * time.Minute)
		next := call(tok).Header().Get(jwt.DefaultRefreshedTokenHeader)
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
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: mustKey(t, "k1", jwt.HS256, hmacSecret), Issuer: "https://us.test", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	slide, err := jwt.Sliding(jwt.SlidingOptions{Issuer: iss, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	v := hsVerifier(t, nil) // tokens from https://issuer.test
	guard, _ := authn.New(authn.Options{Authenticator: v})
	h := guard.Require(slide(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+hsToken(t, claims(map[string]any{"exp": testNow.Add(time.Minute).Unix()})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get(jwt.DefaultRefreshedTokenHeader) != "" {
		t.Fatalf("foreign token renewed: %d", w.Code)
	}
	if _, err := jwt.Sliding(jwt.SlidingOptions{Issuer: iss, Window: time.Hour}); err == nil {
		t.Fatal("window longer than the TTL accepted")
	}
}

// TestSlidingRenewsOnlyItsOwnKeysTokens: a verifier that trusts our key and
// another issuer's accepts both issuers' tokens; sliding refresh renews only
// the tokens our Issuer's key verified, even when a foreign token carries
// our iss, and an Issuer without iss cannot slide at all.
func TestSlidingRenewsOnlyItsOwnKeysTokens(t *testing.T) {
	_, ecPriv, _ := testKeys(t)
	ours := mustKey(t, "ours", jwt.ES256, ecPriv)
	foreignPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	foreign := mustKey(t, "idp", jwt.ES256, &foreignPriv.PublicKey)
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: ours, Issuer: "https://us.test", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	slide, err := jwt.Sliding(jwt.SlidingOptions{Issuer: iss, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	// Our key's public half locally, the other issuer's key from a key set.
	v := mustVerifier(t, jwt.VerifierOptions{
		Keys: []*jwt.Key{ours.Public()}, KeySet: mustKeySet(t, foreign),
		Algorithms: []string{jwt.ES256}, Now: func() time.Time { return testNow },
	})
	guard, _ := authn.New(authn.Options{Authenticator: v})
	h := guard.Require(slide(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	call := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	soon := testNow.Add(time.Minute).Unix()
	mine, err := iss.Issue(jwt.Claims{Subject: "alice", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if w := call(mine); w.Code != 200 || w.Header().Get(jwt.DefaultRefreshedTokenHeader) == "" {
		t.Fatalf("our own token was not renewed: %d", w.Code)
	}
	for name, c := range map[string]map[string]any{
		"foreign token with our iss": {"sub": "mallory", "iss": "https://us.test", "exp": soon, "iat": testNow.Unix()},
		"foreign token without iss":  {"sub": "mallory", "exp": soon, "iat": testNow.Unix()},
	} {
		tok := craft(t, "ES256", foreignPriv, mustJSON(t, map[string]string{"alg": "ES256", "kid": "idp"}), mustJSON(t, c))
		w := call(tok)
		if w.Code != 200 {
			t.Fatalf("%s: not accepted by the verifier (%d); the test needs it accepted", name, w.Code)
		}
		if fresh := w.Header().Get(jwt.DefaultRefreshedTokenHeader); fresh != "" {
			t.Errorf("%s: renewed with our key", name)
		}
	}

	noIss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: ours})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Sliding(jwt.SlidingOptions{Issuer: noIss}); err == nil {
		t.Fatal("sliding accepted an Issuer without iss")
	}
}
