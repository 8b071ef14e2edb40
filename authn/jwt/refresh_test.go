package jwt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// replica is one service instance: its own verifier (with its own cache),
// issuer and refresher over a store.
type replica struct {
	v   *jwt.Verifier
	iss *jwt.Issuer
	r   *jwt.Refresher
}

// refreshConcurrently presents token n times at once, alternating between
// the replicas, and returns how many refreshes succeeded.
func refreshConcurrently(token string, n int, reps ...*replica) (wins int) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() { _, errs[i] = reps[i%len(reps)].r.Refresh(bg, token) })
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			wins++
		}
	}
	return wins
}

func newReplica(t testing.TB, st store.Store, now func() time.Time, key *jwt.Key) *replica {
	t.Helper()
	v := mustVerifier(t, jwt.VerifierOptions{
		Keys: []*jwt.Key{key}, Issuers: []string{"https://issuer.test"}, Audience: []string{"api"},
		Type: jwt.TypeAccess, Store: st, Now: now,
	})
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}, TTL: 15 * time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := jwt.NewRefresher(jwt.RefreshOptions{Issuer: iss, Verifier: v, RefreshTTL: 24 * time.Hour, SessionLifetime: 72 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{v: v, iss: iss, r: r}
}

var alice = jwt.Claims{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"read", "write"}}

func expectReason(t testing.TB, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want refusal %s", reason)
	}
	if got := reasonOf(err); got != reason {
		t.Fatalf("reason %q (%v), want %q", got, err, reason)
	}
}

func TestLoginRefreshReuseLogout(t *testing.T) {
	c := newClock()
	key := mustKey(t, "k1", jwt.HS256, hmacSecret)
	a := newReplica(t, newMemStore(t, c), c.Now, key)

	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if pair.TokenType != "Bearer" || pair.ExpiresIn != 900 || pair.SessionID == "" {
		t.Fatalf("pair %+v", pair)
	}
	p, err := a.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if sid, _ := authn.Claim[string](p, "sid"); sid != pair.SessionID || !p.HasRole("admin") || !p.HasScope("write") {
		t.Fatalf("principal %+v", p)
	}
	// Never the one for the other.
	_, err = a.v.Verify(bg, pair.RefreshToken)
	expectReason(t, err, "token_wrong_type")
	_, err = a.r.Refresh(bg, pair.AccessToken)
	expectReason(t, err, "token_wrong_type")

	c.Advance(time.Minute)
	pair2, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if pair2.RefreshToken == pair.RefreshToken || pair2.AccessToken == pair.AccessToken || pair2.SessionID != pair.SessionID {
		t.Fatal("refresh did not rotate the pair")
	}
	if _, err := a.v.Verify(bg, pair2.AccessToken); err != nil {
		t.Fatal(err)
	}
	// The first refresh token was used: presenting it again revokes the family.
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	expectReason(t, err, "refresh_reused")
	if !errors.Is(err, jwt.ErrRefreshReused) {
		t.Fatalf("err %v", err)
	}
	_, err = a.r.Refresh(bg, pair2.RefreshToken)
	expectReason(t, err, "token_revoked")
	for _, tok := range []string{pair.AccessToken, pair2.AccessToken} {
		_, err = a.v.Verify(bg, tok)
		expectReason(t, err, "token_revoked")
	}

	// Logout: a new session, its access token cached, then revoked at once.
	pair3, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := a.v.Verify(bg, pair3.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := a.v.Verify(bg, pair3.AccessToken); again != p3 {
		t.Fatal("second verification was not served from the cache")
	}
	if err := a.r.Logout(bg, p3, pair3.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = a.v.Verify(bg, pair3.AccessToken)
	expectReason(t, err, "token_revoked")
	_, err = a.r.Refresh(bg, pair3.RefreshToken)
	expectReason(t, err, "token_revoked")
}

func TestLogoutWithoutRefreshTokenRevokesTheSession(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.r.Logout(bg, p, ""); err != nil {
		t.Fatal(err)
	}
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	expectReason(t, err, "token_revoked")
	// A garbage refresh token does not make logout fail.
	if err := a.r.Logout(bg, p, "garbage"); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeSingleAccessToken(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	tok, err := a.iss.Issue(jwt.Claims{Subject: "svc"}) // no session
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.v.Revoke(bg, p); err != nil {
		t.Fatal(err)
	}
	_, err = a.v.Verify(bg, tok)
	expectReason(t, err, "token_revoked")
	// The denylist entry outlives the token, then goes: the list never grows
	// beyond the tokens still alive.
	c.Advance(15*time.Minute + 2*time.Minute + time.Second)
	_, err = a.v.Verify(bg, tok)
	expectReason(t, err, "token_expired")
}

func TestRefreshExpiryAndSessionLifetime(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(25 * time.Hour) // RefreshTTL is 24h
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	expectReason(t, err, "token_expired")

	// Refreshing daily keeps the session alive, but not past its lifetime.
	pair, err = a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
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
	expectReason(t, err, "token_expired")
}

func TestConcurrentRefreshOnlyOneWins(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = a.r.Refresh(bg, pair.RefreshToken)
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		if err == nil {
			wins++
		} else if r := reasonOf(err); r != "refresh_reused" && r != "token_revoked" {
			t.Fatalf("unexpected refusal %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d refreshes succeeded with one token, want exactly 1", wins)
	}
}

// failingStore answers every call with an outage.
type failingStore struct{ store.Store }

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, &store.UnavailableError{Op: "get", Err: errors.New("connection refused")}
}

func TestRevocationStoreOutage(t *testing.T) {
	st := failingStore{}
	closed := hsVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	_, err := closed.Verify(bg, hsToken(t, claims(nil)))
	p, ok := problem.As(err)
	if !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err %v, want 503 wrapping ErrUnavailable", err)
	}
	open := hsVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st; o.RevocationFailOpen = true })
	if _, err := open.Verify(bg, hsToken(t, claims(nil))); err != nil {
		t.Fatalf("fail-open verifier refused: %v", err)
	}
}

func TestRefresherOptions(t *testing.T) {
	key := mustKey(t, "k1", jwt.HS256, hmacSecret)
	other := mustKey(t, "k2", jwt.HS256, []byte(strings.Repeat("z", 32)))
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test"})
	noStore := mustVerifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	wrongKey := mustVerifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{other}, Store: newMemStore(t, nil)})
	wrongIss := mustVerifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}, Issuers: []string{"https://other.test"}, Store: newMemStore(t, nil)})
	for name, opts := range map[string]jwt.RefreshOptions{
		"no verifier":         {Issuer: iss},
		"no store":            {Issuer: iss, Verifier: noStore},
		"verifier lacks key":  {Issuer: iss, Verifier: wrongKey},
		"issuer not accepted": {Issuer: iss, Verifier: wrongIss},
	} {
		if _, err := jwt.NewRefresher(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRefreshAndLogoutHandlers(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	sink := audit.NewMemory()
	refresh := a.r.RefreshHandler(jwt.HandlerOptions{Audit: sink})
	guard, err := authn.New(authn.Options{Authenticator: a.v, Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	logout := guard.Require(a.r.LogoutHandler(jwt.HandlerOptions{Audit: sink}))
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	post := func(h http.Handler, body, ctype, bearer string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/refresh", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		body, ctype string
		status      int
	}{
		{`{"refresh_token":`, "application/json", 400},
		{`{}`, "application/json", 422},
		{`refresh_token=x`, "application/x-www-form-urlencoded", 415},
		{`{"refresh_token":"garbage"}`, "application/json", 401},
	} {
		if w := post(refresh, tc.body, tc.ctype, ""); w.Code != tc.status || w.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("body %q: %d %s, want %d problem", tc.body, w.Code, w.Header().Get("Content-Type"), tc.status)
		}
	}
	w := post(refresh, `{"refresh_token":"`+pair.RefreshToken+`"}`, "application/json", "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %s", w.Code, w.Body)
	}
	var pair2 jwt.TokenPair
	if err := json.Unmarshal(w.Body.Bytes(), &pair2); err != nil || pair2.TokenType != "Bearer" || pair2.AccessToken == "" || pair2.RefreshToken == "" || pair2.ExpiresIn <= 0 {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	before := len(sink.Events())
	w = post(refresh, `{"refresh_token":"`+pair.RefreshToken+`"}`, "application/json", "")
	evs := sink.Events()
	if w.Code != 401 || len(evs) != before+1 || evs[len(evs)-1].Reason != "refresh_reused" {
		t.Fatalf("reuse: %d, events %+v", w.Code, evs[before:])
	}

	pair3, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if w := post(logout, `{"refresh_token":"`+pair3.RefreshToken+`"}`, "application/json", pair3.AccessToken); w.Code != 204 {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	w = post(logout, ``, "", pair3.AccessToken)
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("after logout: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

// TestCrossReplicaRevocationRedis: two replicas, each with its own Redis
// client and its own verified-token cache, sharing one Redis and one key
// prefix. Reuse detected on one replica revokes the family on the other;
// logout on one revokes a token the other has cached.
func TestCrossReplicaRevocationRedis(t *testing.T) {
	url, prefix := testredis.URL(t), testredis.Prefix(t)
	open := func() store.Store {
		s, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	key := mustKey(t, "k1", jwt.HS256, hmacSecret)
	a := newReplica(t, open(), time.Now, key)
	b := newReplica(t, open(), time.Now, key)

	// Refresh reuse across replicas.
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.v.Verify(bg, pair.AccessToken); err != nil { // now cached on b
		t.Fatal(err)
	}
	pair2, err := a.r.Refresh(bg, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.r.Refresh(bg, pair.RefreshToken) // the stolen copy, on the other replica
	expectReason(t, err, "refresh_reused")
	_, err = a.r.Refresh(bg, pair2.RefreshToken)
	expectReason(t, err, "token_revoked")
	_, err = a.v.Verify(bg, pair2.AccessToken)
	expectReason(t, err, "token_revoked")
	_, err = b.v.Verify(bg, pair.AccessToken) // cached on b, revoked by a's family revocation
	expectReason(t, err, "token_revoked")

	// Concurrent refresh of one token on both replicas: exactly one wins.
	pair, err = a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if wins := refreshConcurrently(pair.RefreshToken, 8, a, b); wins != 1 {
		t.Fatalf("%d concurrent refreshes succeeded, want 1", wins)
	}

	// Logout on a revokes the access token b has cached, at once.
	pair, err = a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := b.v.Verify(bg, pair.AccessToken); again != pb {
		t.Fatal("b did not cache the token")
	}
	pa, err := a.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.r.Logout(bg, pa, pair.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = b.v.Verify(bg, pair.AccessToken)
	expectReason(t, err, "token_revoked")
	_, err = b.r.Refresh(bg, pair.RefreshToken)
	expectReason(t, err, "token_revoked")
}

// TestHandlersDecodeLikeBindAndChallenge: the refresh and logout bodies are
// decoded as package bind decodes (415, 400 with the position, unknown
// fields refused, 413, 422), logout's body stays optional, and 401s carry
// the RFC 6750 challenge with the configured realm. One audit event per
// denial.
func TestHandlersDecodeLikeBindAndChallenge(t *testing.T) {
	c := newClock()
	a := newReplica(t, newMemStore(t, c), c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	sink := audit.NewMemory()
	opts := jwt.HandlerOptions{Audit: sink, Realm: `bulwark "demo"`}
	refresh := a.r.RefreshHandler(opts)
	logout := a.r.LogoutHandler(opts)
	type req struct {
		h            http.Handler
		body, ctype  string
		chunked      bool
		principal    bool
		status       int
		reason       string
		challenge    string
		wantPosition bool
	}
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	const js = "application/json"
	for i, tc := range []req{
		{h: refresh, body: `{"refresh_token":"x"}`, status: 415, reason: "unsupported_media_type"},
		{h: refresh, body: `{"refresh_token":"x"}`, ctype: "text/plain", status: 415, reason: "unsupported_media_type"},
		{h: refresh, body: "{\n \"refresh_token\": x}", ctype: js, status: 400, reason: "malformed_json", wantPosition: true},
		{h: refresh, body: `{"refresh_token":"x","scope":"admin"}`, ctype: js, status: 400, reason: "unknown_field"},
		{h: refresh, body: `{"refresh_token":"x"} {}`, ctype: js, status: 400, reason: "trailing_data", wantPosition: true},
		{h: refresh, body: ``, ctype: js, status: 400, reason: "empty_body"},
		{h: refresh, body: `{"refresh_token":""}`, ctype: js, status: 422},
		{h: refresh, body: `{"refresh_token":42}`, ctype: js, status: 422, reason: "type_mismatch", wantPosition: true},
		{h: refresh, body: `{"refresh_token":"` + strings.Repeat("a", 17<<10) + `"}`, ctype: js, status: 413},
		{h: refresh, body: `{"refresh_token":"garbage"}`, ctype: "application/json; charset=utf-8", status: 401, reason: "token_invalid",
			challenge: `Bearer realm="bulwark \"demo\"", error="invalid_token", error_description="the token is malformed"`},
		{h: refresh, body: `{"refresh_token":"` + pair.AccessToken + `"}`, ctype: js, status: 401, reason: "token_wrong_type",
			challenge: `Bearer realm="bulwark \"demo\"", error="invalid_token", error_description="an access token cannot be used as a refresh token"`},
		{h: logout, body: ``, status: 401, reason: "token_missing", challenge: `Bearer realm="bulwark \"demo\""`},
		{h: logout, body: `{"refresh_token":"x"}`, principal: true, status: 415, reason: "unsupported_media_type"},
		{h: logout, body: `{"refresh_token":"x","all":true}`, ctype: js, principal: true, status: 400, reason: "unknown_field"},
		{h: logout, body: `{"refresh_token":`, ctype: js, principal: true, status: 400, reason: "malformed_json", wantPosition: true},
		{h: logout, body: `{"refresh_token":"x"}`, ctype: js, chunked: true, principal: true, status: 204}, // a chunked body is read
		{h: logout, body: ``, chunked: true, principal: true, status: 204},
		{h: logout, body: ``, principal: true, status: 204},
	} {
		r := httptest.NewRequest("POST", "/api/x", strings.NewReader(tc.body))
		if tc.chunked {
			r.ContentLength = -1
		}
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		if tc.principal {
			r = authn.WithPrincipal(r, p)
		}
		before := len(sink.Events())
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("case %d (%.40q): status %d, want %d: %s", i, tc.body, w.Code, tc.status, w.Body)
			continue
		}
		if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
			t.Errorf("case %d: WWW-Authenticate %s, want %s", i, got, tc.challenge)
		}
		evs := sink.Events()[before:]
		if tc.status < 400 {
			if len(evs) != 0 {
				t.Errorf("case %d: %d audit events for a success", i, len(evs))
			}
			continue
		}
		if w.Header().Get("Content-Type") != problem.ContentType || len(evs) != 1 || (tc.reason != "" && evs[0].Reason != tc.reason) {
			t.Errorf("case %d: %s, events %+v, want one with reason %q", i, w.Header().Get("Content-Type"), evs, tc.reason)
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Errorf("case %d: body %s", i, w.Body)
		}
		if _, ok := doc["line"]; ok != tc.wantPosition {
			t.Errorf("case %d: position in the problem %v, want %v: %s", i, ok, tc.wantPosition, w.Body)
		}
	}
}

// TestRefreshTokenIsNoAccessTokenAnywhere: a refresh token carries typ
// refresh+jwt and an audience of its own, so that a service verifying this
// issuer's published key with an audience check and no typ check refuses
// it (RFC 8725 §3.11-3.12), and our own Verifier refuses it with no typ or
// audience configured. Refresh requires the refresh audience.
func TestRefreshTokenIsNoAccessTokenAnywhere(t *testing.T) {
	c := newClock()
	_, ecPriv, _ := testKeys(t)
	key := mustKey(t, "k1", jwt.ES256, ecPriv)
	a := newReplica(t, newMemStore(t, c), c.Now, key)
	if got := a.r.RefreshAudience(); got != "https://issuer.test#refresh" {
		t.Fatalf("RefreshAudience = %q", got)
	}
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
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
		"no type, no audience": mustVerifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key.Public()}, Now: c.Now}),
		"audience api":         mustVerifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key.Public()}, Audience: []string{"api"}, Now: c.Now}),
	} {
		if _, err := v.Verify(bg, pair.RefreshToken); err == nil {
			t.Errorf("%s: refresh token accepted as an access token", name)
		}
	}

	// Refresh requires the refresh audience: a refresh-typed token without
	// it (or with an access audience) is refused.
	for name, aud := range map[string]any{"no aud": nil, "access aud": "api"} {
		claims := map[string]any{"sub": "alice", "iss": "https://issuer.test", "exp": c.Now().Add(time.Hour).Unix(), "iat": c.Now().Unix(),
			"jti": "j-" + name, "sid": pair.SessionID, "token_use": "refresh"}
		if aud != nil {
			claims["aud"] = aud
		}
		tok := craft(t, "ES256", ecPriv, mustJSON(t, map[string]string{"alg": "ES256", "kid": "k1", "typ": jwt.TypeRefresh}), mustJSON(t, claims))
		_, err := a.r.Refresh(bg, tok)
		expectReason(t, err, "token_invalid")
	}

	// The refresh audience can be chosen, but never as an access audience.
	iss, _ := jwt.NewIssuer(jwt.IssuerOptions{Key: key, Issuer: "https://issuer.test", Audience: []string{"api"}, Now: c.Now})
	for _, bad := range []string{"api"} {
		if _, err := jwt.NewRefresher(jwt.RefreshOptions{Issuer: iss, Verifier: a.v, RefreshAudience: bad}); err == nil {
			t.Errorf("RefreshAudience %q accepted", bad)
		}
	}
	custom, err := jwt.NewRefresher(jwt.RefreshOptions{Issuer: iss, Verifier: a.v, RefreshAudience: "urn:example:refresh", Now: c.Now})
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
	expectReason(t, err, "token_invalid")
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

// TestRefreshSurvivesAFailedRotation: when the store fails to save the new
// pair after the old refresh token was taken, the client gets a 503, and
// its retry with the same token succeeds instead of revoking the family.
// Concurrent uses still let at most one win, in memory and in Redis.
func TestRefreshSurvivesAFailedRotation(t *testing.T) {
	c := newClock()
	st := &flakyStore{Store: newMemStore(t, c)}
	a := newReplica(t, st, c.Now, mustKey(t, "k1", jwt.HS256, hmacSecret))
	pair, err := a.r.Login(bg, alice)
	if err != nil {
		t.Fatal(err)
	}
	st.failSets.Store(1)
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	if p, ok := problem.As(err); !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("refresh with a failing store: %v, want 503", err)
	}
	pair2, err := a.r.Refresh(bg, pair.RefreshToken) // the client's retry
	if err != nil {
		t.Fatalf("retry after a failed rotation: %v (the family was lost)", err)
	}
	if _, err := a.v.Verify(bg, pair2.AccessToken); err != nil {
		t.Fatalf("the family was revoked: %v", err)
	}
	if _, err := a.v.Verify(bg, pair.AccessToken); err != nil {
		t.Fatalf("the first access token was revoked: %v", err)
	}
	// The retry rotated: the old token is now used up.
	_, err = a.r.Refresh(bg, pair.RefreshToken)
	expectReason(t, err, "refresh_reused")
}

func TestConcurrentRefreshAtMostOneWins(t *testing.T) {
	url, prefix := testredis.URL(t), testredis.Prefix(t)
	rs, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	for name, st := range map[string]store.Store{"memory": newMemStore(t, nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			key := mustKey(t, "k1", jwt.HS256, hmacSecret)
			// Two replicas over one store, one of them failing its next
			// rotation: whatever interleaving, at most one use wins.
			flaky := &flakyStore{Store: st}
			a := newReplica(t, st, time.Now, key)
			b := newReplica(t, flaky, time.Now, key)
			for round := range 20 {
				pair, err := a.r.Login(bg, alice)
				if err != nil {
					t.Fatal(err)
				}
				flaky.failSets.Store(int32(round % 2))
				if wins := refreshConcurrently(pair.RefreshToken, 6, a, b); wins > 1 {
					t.Fatalf("round %d: %d concurrent refreshes of one token succeeded", round, wins)
				}
			}
		})
	}
}

// countingStore counts Get calls.
type countingStore struct {
	store.Store
	gets atomic.Int32
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

// countingMulti counts the lookups of a store that can test several keys at
// once (redisstore).
type countingMulti struct {
	countingStore
	multi  store.AnyExister
	multis atomic.Int32
}

func (s *countingMulti) ExistsAny(ctx context.Context, keys ...string) (bool, error) {
	s.multis.Add(1)
	return s.multi.ExistsAny(ctx, keys...)
}

// With Redis, a token carrying a jti and a sid costs one round trip (both
// EXISTS pipelined), and either revocation is still seen.
func TestRevocationOneRoundTripRedis(t *testing.T) {
	rs, err := redisstore.Open(redisstore.Options{URL: testredis.URL(t), Prefix: testredis.Prefix(t), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	st := &countingMulti{countingStore: countingStore{Store: rs}, multi: rs}
	v := hsVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	for i, revoke := range []func(*authn.Principal) error{
		func(p *authn.Principal) error { return v.Revoke(bg, p) },
		func(p *authn.Principal) error { return v.RevokeSession(bg, "rs1", p.ExpiresAt) }, // the second token's sid
	} {
		tok := hsToken(t, claims(map[string]any{"jti": fmt.Sprint("rj", i), "sid": fmt.Sprint("rs", i)}))
		st.gets.Store(0)
		st.multis.Store(0)
		p, err := v.Verify(bg, tok)
		if err != nil {
			t.Fatal(err)
		}
		if g, m := st.gets.Load(), st.multis.Load(); g != 0 || m != 1 {
			t.Fatalf("%d GETs and %d pipelined checks; want 0 and 1", g, m)
		}
		if err := revoke(p); err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(bg, tok)
		expectReason(t, err, "token_revoked")
	}
}

// TestRevocationLookups pins what the docs say a revocation check costs:
// the jti, then the sid (skipped once the jti is found revoked), on every
// request, cached or not.
func TestRevocationLookups(t *testing.T) {
	st := &countingStore{Store: newMemStore(t, nil)}
	v := hsVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	for _, tc := range []struct {
		name  string
		extra map[string]any
		gets  int32
	}{
		{"jti and sid", map[string]any{"jti": "j1", "sid": "s1"}, 2},
		{"jti only", map[string]any{"jti": "j2"}, 1},
		{"neither", map[string]any{"jti": nil}, 0},
	} {
		tok := hsToken(t, claims(tc.extra))
		for _, round := range []string{"uncached", "cached"} {
			st.gets.Store(0)
			if _, err := v.Verify(bg, tok); err != nil {
				t.Fatal(err)
			}
			if got := st.gets.Load(); got != tc.gets {
				t.Errorf("%s, %s: %d lookups, want %d", tc.name, round, got, tc.gets)
			}
		}
	}
	p, err := v.Verify(bg, hsToken(t, claims(map[string]any{"jti": "j3", "sid": "s3"})))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Revoke(bg, p); err != nil {
		t.Fatal(err)
	}
	st.gets.Store(0)
	_, err = v.Verify(bg, hsToken(t, claims(map[string]any{"jti": "j3", "sid": "s3"})))
	expectReason(t, err, "token_revoked")
	if got := st.gets.Load(); got != 1 {
		t.Errorf("revoked jti: %d lookups, want 1 (the sid is not asked)", got)
	}
}
