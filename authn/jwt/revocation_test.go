package jwt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

func TestRevokeSingleAccessToken(t *testing.T) {
	c := jwttest.NewClock()
	key := jwttest.Key(t, "k1", jwt.HS256, jwttest.HMACSecret)
	v := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}, Store: jwttest.MemStore(t, c), Now: c.Now})
	iss, err := jwt.NewIssuer(jwt.IssuerOptions{Key: key, TTL: 15 * time.Minute, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(jwt.Claims{Subject: "svc"}) // no session
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Revoke(bg, p); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(bg, tok)
	jwttest.ExpectReason(t, err, "token_revoked")
	// The denylist entry outlives the token, then goes: the list never grows
	// beyond the tokens still alive.
	c.Advance(15*time.Minute + 2*time.Minute + time.Second)
	_, err = v.Verify(bg, tok)
	jwttest.ExpectReason(t, err, "token_expired")

	// What cannot be revoked says so.
	noStore := jwttest.Verifier(t, jwt.VerifierOptions{Keys: []*jwt.Key{key}})
	if err := noStore.Revoke(bg, p); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Fatalf("Revoke without a Store: %v", err)
	}
	if err := v.Revoke(bg, &authn.Principal{Subject: "svc"}); err == nil || !strings.Contains(err.Error(), "no jti") {
		t.Fatalf("Revoke of a token without jti: %v", err)
	}
}

// failingStore answers every call with an outage.
type failingStore struct{ store.Store }

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, &store.UnavailableError{Op: "get", Err: errors.New("connection refused")}
}

func TestRevocationStoreOutage(t *testing.T) {
	st := failingStore{}
	closed := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	_, err := closed.Verify(bg, jwttest.HSToken(t, jwttest.Claims(nil)))
	p, ok := problem.As(err)
	if !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err %v, want 503 wrapping ErrUnavailable", err)
	}
	open := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st; o.RevocationFailOpen = true })
	if _, err := open.Verify(bg, jwttest.HSToken(t, jwttest.Claims(nil))); err != nil {
		t.Fatalf("fail-open verifier refused: %v", err)
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
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	for i, revoke := range []func(*authn.Principal) error{
		func(p *authn.Principal) error { return v.Revoke(bg, p) },
		func(p *authn.Principal) error { return v.RevokeSession(bg, "rs1", p.ExpiresAt) }, // the second token's sid
	} {
		tok := jwttest.HSToken(t, jwttest.Claims(map[string]any{"jti": fmt.Sprint("rj", i), "sid": fmt.Sprint("rs", i)}))
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
		jwttest.ExpectReason(t, err, "token_revoked")
	}
}

// TestRevocationLookups pins what the docs say a revocation check costs:
// the jti, then the sid (skipped once the jti is found revoked), on every
// request, cached or not.
func TestRevocationLookups(t *testing.T) {
	st := &countingStore{Store: jwttest.MemStore(t, nil)}
	v := jwttest.HSVerifier(t, func(o *jwt.VerifierOptions) { o.Store = st })
	for _, tc := range []struct {
		name  string
		extra map[string]any
		gets  int32
	}{
		{"jti and sid", map[string]any{"jti": "j1", "sid": "s1"}, 2},
		{"jti only", map[string]any{"jti": "j2"}, 1},
		{"neither", map[string]any{"jti": nil}, 0},
	} {
		tok := jwttest.HSToken(t, jwttest.Claims(tc.extra))
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
	p, err := v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"jti": "j3", "sid": "s3"})))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Revoke(bg, p); err != nil {
		t.Fatal(err)
	}
	st.gets.Store(0)
	_, err = v.Verify(bg, jwttest.HSToken(t, jwttest.Claims(map[string]any{"jti": "j3", "sid": "s3"})))
	jwttest.ExpectReason(t, err, "token_revoked")
	if got := st.gets.Load(); got != 1 {
		t.Errorf("revoked jti: %d lookups, want 1 (the sid is not asked)", got)
	}
}
