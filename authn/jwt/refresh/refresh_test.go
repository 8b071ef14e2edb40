package refresh_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

func TestLoginRefreshReuseLogout(t *testing.T) {
	a, c := memReplica(t)
	pair := a.login(t)
	if pair.TokenType != "Bearer" || pair.ExpiresIn != 900 || pair.SessionID == "" {
		t.Fatalf("pair %+v", pair)
	}
	p := a.verify(t, pair.AccessToken)
	if sid, _ := authn.Claim[string](p, "sid"); sid != pair.SessionID || !p.HasRole("admin") || !p.HasScope("write") {
		t.Fatalf("principal %+v", p)
	}
	// Never the one for the other.
	_, err := a.v.Verify(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "token_wrong_type")
	_, err = a.r.Refresh(bg, pair.AccessToken)
	jwttest.ExpectReason(t, err, "token_wrong_type")

	c.Advance(time.Minute)
	pair2, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if pair2.RefreshToken == pair.RefreshToken || pair2.AccessToken == pair.AccessToken || pair2.SessionID != pair.SessionID {
		t.Fatal("refresh did not rotate the pair")
	}
	a.verify(t, pair2.AccessToken)
	// The first refresh token was used: presenting it again revokes the family.
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "refresh_reused")
	if !errors.Is(err, refresh.ErrReused) {
		t.Fatalf("err %v", err)
	}
	a.expectRevoked(t, pair2)
	_, err = a.v.Verify(bg, pair.AccessToken)
	jwttest.ExpectReason(t, err, "token_revoked")

	// Logout: a new session, its access token cached, then revoked at once.
	pair3 := a.login(t)
	p3 := a.cached(t, pair3.AccessToken)
	if err := a.r.Logout(bg, p3, pair3.RefreshToken); err != nil {
		t.Fatal(err)
	}
	a.expectRevoked(t, pair3)
}

func TestLogoutWithoutRefreshTokenRevokesTheSession(t *testing.T) {
	a, _ := memReplica(t)
	pair := a.login(t)
	p := a.verify(t, pair.AccessToken)
	if err := a.r.Logout(bg, p, ""); err != nil {
		t.Fatal(err)
	}
	a.expectRevoked(t, pair)
	// A garbage refresh token does not make logout fail.
	if err := a.r.Logout(bg, p, "garbage"); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshExpiryAndSessionLifetime(t *testing.T) {
	a, c := memReplica(t)
	pair := a.login(t)
	c.Advance(25 * time.Hour) // RefreshTTL is 24h
	_, err := a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "token_expired")

	// Refreshing daily keeps the session alive, but not past its lifetime.
	pair = a.login(t)
	for i := 0; i < 3; i++ {
		c.Advance(20 * time.Hour)
		if pair, err = a.r.Refresh(bg, pair.RefreshToken); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if !pair.AccessExpiresAt.After(c.Now()) {
			t.Fatal("access token already expired")
		}
	}
	c.Advance(13 * time.Hour) // 73h after login; SessionLifetime is 72h
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "token_expired")
}

func TestConcurrentRefreshOnlyOneWins(t *testing.T) {
	a, _ := memReplica(t)
	wins := 0
	for _, err := range refreshAll(a.login(t).RefreshToken, 16, a) {
		if err == nil {
			wins++
		} else if r := jwttest.Reason(err); r != "refresh_reused" && r != "token_revoked" {
			t.Fatalf("unexpected refusal %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d refreshes succeeded with one token, want exactly 1", wins)
	}
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
	other := jwttest.Key(t, "k2", jwt.HS256, []byte(strings.Repeat("z", 32)))
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}})
	good := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}, Store: jwttest.MemStore(t, nil)})
	noStore := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	wrongKey := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{other}, Store: jwttest.MemStore(t, nil)})
	wrongIss := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"https://other.test"}, Store: jwttest.MemStore(t, nil)})
	hs384, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: jwttest.Key(t, "k3", jwt.HS384, []byte(strings.Repeat("y", 48)))})
	for _, tc := range []struct {
		name string
		opts refresh.Options
		msg  string
	}{
		{"no verifier", refresh.Options{Issuer: iss}, "required"},
		{"no store", refresh.Options{Issuer: iss, Verifier: noStore}, "needs a Store"},
		{"verifier lacks the issuer's algorithm", refresh.Options{Issuer: hs384, Verifier: good}, "does not allow HS384"},
		{"verifier lacks the issuer's key", refresh.Options{Issuer: iss, Verifier: wrongKey}, "do not include the Issuer's key"},
		{"issuer not accepted", refresh.Options{Issuer: iss, Verifier: wrongIss}, "does not accept the Issuer's iss"},
		{"refresh audience of access tokens", refresh.Options{Issuer: iss, Verifier: good, RefreshAudience: "api"}, "access-token audience"},
		{"refresh TTL beyond a year", refresh.Options{Issuer: iss, Verifier: good, RefreshTTL: 400 * 24 * time.Hour}, "RefreshTTL"},
	} {
		if _, err := refresh.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.msg)
		}
	}
	if _, err := refresh.New(refresh.Options{Issuer: iss, Verifier: good}); err != nil {
		t.Fatal(err)
	}
}

// TestCrossReplicaRevocationRedis: two replicas, each with its own Redis
// client and its own verified-token cache, sharing one Redis and one key
// prefix. Reuse detected on one replica revokes the family on the other;
// logout on one revokes a token the other has cached.
func TestCrossReplicaRevocationRedis(t *testing.T) {
	prefix := testredis.Prefix(t)
	key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
	a := newReplica(t, jwttest.Redis(t, prefix), time.Now, key)
	b := newReplica(t, jwttest.Redis(t, prefix), time.Now, key)

	// Refresh reuse across replicas.
	pair := a.login(t)
	b.verify(t, pair.AccessToken) // now cached on b
	pair2, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.r.Refresh(bg, pair.RefreshToken) // the stolen copy, on the other replica
	jwttest.ExpectReason(t, err, "refresh_reused")
	a.expectRevoked(t, pair2)
	_, err = b.v.Verify(bg, pair.AccessToken) // cached on b, revoked by a's family revocation
	jwttest.ExpectReason(t, err, "token_revoked")

	// Concurrent refresh of one token on both replicas: exactly one wins.
	if wins := refreshConcurrently(a.login(t).RefreshToken, 8, a, b); wins != 1 {
		t.Fatalf("%d concurrent refreshes succeeded, want 1", wins)
	}

	// Logout on a revokes the access token b has cached, at once.
	pair = a.login(t)
	b.cached(t, pair.AccessToken)
	if err := a.r.Logout(bg, a.verify(t, pair.AccessToken), pair.RefreshToken); err != nil {
		t.Fatal(err)
	}
	b.expectRevoked(t, pair)
}

// TestRefreshTokenIsNoAccessTokenAnywhere: a refresh token carries typ
// refresh+jwt and an audience of its own, so that a service verifying this
// issuer's published key with an audience check and no typ check refuses
// it (RFC 8725 §3.11-3.12), and our own Verifier refuses it with no typ or
// audience configured. Refresh requires the refresh audience.
func TestRefreshTokenIsNoAccessTokenAnywhere(t *testing.T) {
	c := jwttest.NewClock()
	_, ecPriv, _ := jwttest.Keys(t)
	key := jwttest.Key(t, "k1", jwt.ES256, ecPriv)
	a := newReplica(t, jwttest.MemStore(t, c), c.Now, key)
	if got := a.r.RefreshAudience(); got != "https://issuer.test#refresh" {
		t.Fatalf("RefreshAudience = %q", got)
	}
	pair := a.login(t)
	// What the token says.
	parts := strings.Split(pair.RefreshToken, ".")
	var hdr, body map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &body) != nil || hdr["typ"] != jwt.TypeRefresh ||
		body["aud"] != "https://issuer.test#refresh" || body["token_use"] != "refresh" || body["roles"] != nil {
		t.Fatalf("refresh token header %v claims %v", hdr, body)
	}

	// Another service, with golang-jwt: the published key, its audience,
	// no typ check. Checked both ways such services are written: aud
	// required (v5's WithAudience) and aud checked only when present.
	keyFunc := func(*gjwt.Token) (any, error) { return &ecPriv.PublicKey, nil }
	strict := func(tok string) error { // aud required
		_, err := gjwt.Parse(tok, keyFunc, gjwt.WithValidMethods([]string{"ES256"}), gjwt.WithAudience("api"), gjwt.WithTimeFunc(c.Now))
		return err
	}
	lenient := func(tok string) error { // checks aud only when present
		t, err := gjwt.Parse(tok, keyFunc, gjwt.WithValidMethods([]string{"ES256"}), gjwt.WithTimeFunc(c.Now))
		if err != nil {
			return err
		}
		if aud, _ := t.Claims.GetAudience(); len(aud) > 0 && !slices.Contains(aud, "api") {
			return errors.New("wrong audience")
		}
		return nil
	}
	if strict(pair.AccessToken) != nil || lenient(pair.AccessToken) != nil {
		t.Fatal("the other service refuses our access token")
	}
	if lenient(pair.RefreshToken) == nil || strict(pair.RefreshToken) == nil {
		t.Fatal("another service with an audience check but no typ check accepts the refresh token as an access token")
	}

	// Our own verifiers, even without Type or Audience.
	for name, v := range map[string]*jwt.Verifier{
		"no type, no audience": jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key.Public()}, Now: c.Now}),
		"audience api":         jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key.Public()}, Audience: []string{"api"}, Now: c.Now}),
	} {
		if _, err := v.Verify(bg, pair.RefreshToken); err == nil {
			t.Errorf("%s: refresh token accepted as an access token", name)
		}
	}

	// Refresh requires the refresh audience: a refresh-typed token without
	// it (or with an access audience) is refused.
	for name, tc := range map[string]struct {
		aud    any
		reason string
	}{"no aud": {nil, "claim_missing"}, "access aud": {"api", "audience_invalid"}} {
		claims := map[string]any{"sub": "alice", "iss": "https://issuer.test", "exp": c.Now().Add(time.Hour).Unix(), "iat": c.Now().Unix(),
			"jti": "j-" + name, "sid": pair.SessionID, "token_use": "refresh"}
		if tc.aud != nil {
			claims["aud"] = tc.aud
		}
		tok := jwttest.Craft(t, "ES256", ecPriv, jwttest.JSON(t, map[string]string{"alg": "ES256", "kid": "k1", "typ": jwt.TypeRefresh}), jwttest.JSON(t, claims))
		_, err := a.r.Refresh(bg, tok)
		jwttest.ExpectReason(t, err, tc.reason)
	}

	// The refresh audience can be chosen, but never as an access audience
	// (TestNewRefusesWhatCannotWork).
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}, Now: c.Now})
	custom, err := refresh.New(refresh.Options{Issuer: iss, Verifier: a.v, RefreshAudience: "urn:example:refresh", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := custom.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custom.Refresh(bg, p2.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = a.r.Refresh(bg, p2.RefreshToken) // another refresh audience
	jwttest.ExpectReason(t, err, "audience_invalid")
}

// flakyStore fails the next failSets Set calls on refresh-family keys.
type flakyStore struct {
	store.Store
	failSets atomic.Int32
}

func (s *flakyStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if strings.Contains(key, ":rt:") && s.failSets.Add(-1) >= 0 {
		return &store.UnavailableError{Op: "set", Err: errors.New("i/o timeout")}
	}
	return s.Store.Set(ctx, key, value, ttl)
}

func (s *flakyStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if strings.Contains(key, ":rt:") && s.failSets.Add(-1) >= 0 {
		return false, &store.UnavailableError{Op: "setnx", Err: errors.New("i/o timeout")}
	}
	return s.Store.SetNX(ctx, key, value, ttl)
}

// TestRefreshSurvivesAFailedRotation: when the store fails to save the new
// pair after the old refresh token was taken, the client gets a 503, and
// its retry with the same token succeeds instead of revoking the family.
func TestRefreshSurvivesAFailedRotation(t *testing.T) {
	c := jwttest.NewClock()
	st := &flakyStore{Store: jwttest.MemStore(t, c)}
	a := newReplica(t, st, c.Now, jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret))
	pair := a.login(t)
	st.failSets.Store(1)
	_, err := a.r.Refresh(bg, pair.RefreshToken)
	if p, ok := problem.As(err); !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("refresh with a failing store: %v, want 503", err)
	}
	pair2, err := a.r.Refresh(bg, pair.RefreshToken) // the client's retry
	if err != nil {
		t.Fatalf("retry after a failed rotation: %v (the family was lost)", err)
	}
	a.verify(t, pair2.AccessToken) // the family is not revoked
	a.verify(t, pair.AccessToken)
	// The retry rotated: the old token is now used up.
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	jwttest.ExpectReason(t, err, "refresh_reused")
}

// TestConcurrentRefreshAtMostOneWins: concurrent uses of one token, with
// failed rotations among them, let at most one win, in memory and in
// Redis.
func TestConcurrentRefreshAtMostOneWins(t *testing.T) {
	rs := jwttest.Redis(t, testredis.Prefix(t))
	for name, st := range map[string]store.Store{"memory": jwttest.MemStore(t, nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
			// Two replicas over one store, one of them failing its next
			// rotation: whatever interleaving, at most one use wins.
			flaky := &flakyStore{Store: st}
			a := newReplica(t, st, time.Now, key)
			b := newReplica(t, flaky, time.Now, key)
			for round := range 20 {
				pair := a.login(t)
				flaky.failSets.Store(int32(round % 2))
				if wins := refreshConcurrently(pair.RefreshToken, 6, a, b); wins > 1 {
					t.Fatalf("round %d: %d concurrent refreshes of one token succeeded", round, wins)
				}
			}
		})
	}
}
