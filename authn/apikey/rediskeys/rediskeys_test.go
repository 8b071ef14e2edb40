package rediskeys_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/apikey/rediskeys"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

var secret = []byte("0123456789abcdef0123456789abcdef-rediskeys")

// replica is one process's view: its own Redis client, key store and
// authenticator.
type replica struct {
	keys  *rediskeys.Store
	auth  *apikey.Authenticator
	inval chan string
}

func newReplica(t *testing.T, url, prefix string) *replica {
	t.Helper()
	rs := redisstore.New(testredis.ClientOf(t, url), prefix)
	r := &replica{inval: make(chan string, 64)}
	keys, err := rediskeys.New(rediskeys.Options{Redis: rs, OnInvalidate: func(id string) {
		select {
		case r.inval <- id:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	r.keys = keys
	if r.auth, err = apikey.New(apikey.Options{Store: keys, Secrets: [][]byte{secret}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.auth.Close() })
	return r
}

// waitLive waits for the replica's invalidation subscription (a bound for
// a test that would otherwise hang, not a timing assumption).
func (r *replica) waitLive(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !r.keys.Live() {
		if time.Now().After(deadline) {
			t.Fatal("the invalidation subscription was not confirmed within 5s")
		}
		select {
		case <-r.inval:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitInvalidated waits for the message that drops id, and returns how
// long it took.
func (r *replica) waitInvalidated(t *testing.T, id string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	timeout := time.After(limit)
	for {
		select {
		case got := <-r.inval:
			if got == id {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("replica not told of %s within %v", id, limit)
		}
	}
}

func reason(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRevocationReachesEveryReplica: two replicas share the real Redis;
// the second serves a hot key from memory (no round trip: it survives the
// record's deletion behind the store's back); a revocation on the first
// is refused by the second within a second.
func TestRevocationReachesEveryReplica(t *testing.T) {
	url := testredis.URL(t)
	prefix := testredis.Prefix(t)
	a, b := newReplica(t, url, prefix), newReplica(t, url, prefix)
	a.waitLive(t)
	b.waitLive(t)
	ctx := context.Background()

	h, _ := apikey.NewHasher(secret)
	key, rec, err := apikey.Generate(h, apikey.Spec{Owner: "svc", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.keys.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	b.waitInvalidated(t, rec.ID, time.Second) // the Put's own message, so that it cannot drop what b caches next
	if _, err := b.auth.Verify(ctx, key); err != nil {
		t.Fatalf("replica b: %v", err)
	}
	// Delete the record behind the stores' back (no invalidation): b's
	// hot key is answered from memory.
	raw := testredis.ClientOf(t, url)
	if err := raw.Do(ctx, raw.B().Del().Key(prefix+"apikey:rec:"+rec.ID).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.auth.Verify(ctx, key); err != nil {
		t.Fatalf("replica b, cached: %v (the hot key made a round trip)", err)
	}
	if _, err := a.auth.Verify(ctx, key); reason(err) != "apikey_unknown" {
		t.Fatalf("replica a never cached it, so it sees the deletion: %v", err)
	}
	// Put it back (which invalidates b), warm b's cache again, then revoke
	// on a.
	if err := a.keys.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	b.waitInvalidated(t, rec.ID, time.Second)
	if _, err := b.auth.Verify(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.auth.Verify(ctx, key); err != nil {
		t.Fatal(err)
	}
	ok, err := a.keys.Revoke(ctx, rec.ID, time.Now())
	if err != nil || !ok {
		t.Fatalf("Revoke = %v, %v", ok, err)
	}
	took := b.waitInvalidated(t, rec.ID, time.Second)
	if _, err := b.auth.Verify(ctx, key); reason(err) != "apikey_revoked" {
		t.Fatalf("replica b after the revocation: %v; want apikey_revoked", err)
	}
	t.Logf("revocation seen by the other replica after %v", took)
	// A later Put does not undo the revocation.
	if err := a.keys.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	b.waitInvalidated(t, rec.ID, time.Second)
	if _, err := b.auth.Verify(ctx, key); reason(err) != "apikey_revoked" {
		t.Fatalf("after a re-Put: %v; want still revoked", err)
	}
}

// TestLastUsed: uses are written in a batch, readable with Get.
func TestLastUsed(t *testing.T) {
	url := testredis.URL(t)
	r := newReplica(t, url, testredis.Prefix(t))
	ctx := context.Background()
	h, _ := apikey.NewHasher(secret)
	key, rec, _ := apikey.Generate(h, apikey.Spec{TTL: time.Hour})
	if err := r.keys.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := r.auth.Verify(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	r.auth.Flush()
	got, ok, err := r.keys.Get(ctx, rec.ID)
	if err != nil || !ok || got.LastUsedAt.IsZero() || time.Since(got.LastUsedAt) > time.Minute {
		t.Fatalf("Get = %+v, %v, %v; want a recent last-used time", got, ok, err)
	}
	if err := r.keys.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Verify(ctx, key); reason(err) != "apikey_unknown" {
		t.Fatalf("after Delete: %v", err)
	}
}

// TestRedisDown: an unreachable Redis is 503 (never 401), and a cache
// whose subscription dropped with the server is not used.
func TestRedisDown(t *testing.T) {
	srv := testredis.StartServer(t)
	r := newReplica(t, srv.URL(), "bulwark-test:down:")
	r.waitLive(t)
	ctx := context.Background()
	h, _ := apikey.NewHasher(secret)
	key, rec, _ := apikey.Generate(h, apikey.Spec{})
	if err := r.keys.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Verify(ctx, key); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for r.keys.Live() {
		if time.Now().After(deadline) {
			t.Fatal("the subscription still looks live 5s after Redis stopped")
		}
		<-r.inval
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-API-Key", key)
	_, err := r.auth.Authenticate(req)
	p, ok := problem.As(err)
	if !ok || p.Status != http.StatusServiceUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Redis down: %v; want 503 matching store.ErrUnavailable", err)
	}
}
