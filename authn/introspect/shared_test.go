package introspect_test

import (
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/introspect"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// TestSharedCache: an answer one replica got is used by another through
// Redis, refusals included, so the AS is asked once per token for the
// whole fleet — and a revocation at the AS is still bounded by CacheTTL
// from the first answer.
func TestSharedCache(t *testing.T) {
	st := redisstore.New(testredis.Client(t), testredis.Prefix(t))
	as := startAS(t)
	opts := basicOpts(as)
	opts.SharedCache = st
	one, two := newAuth(t, opts), newAuth(t, opts)

	tok := as.Issue(time.Hour, map[string]any{"sub": "alice", "scope": "read"})
	if _, err := one.Authenticate(bearerReq(tok)); err != nil {
		t.Fatal(err)
	}
	as.Revoke(tok)
	p, err := two.Authenticate(bearerReq(tok))
	if err != nil || p.Subject != "alice" || !p.HasScope("read") {
		t.Fatalf("second replica: %v %v", p, err)
	}
	if n := as.Calls(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	_, _ = one.Authenticate(bearerReq("dead-token"))
	_, err = two.Authenticate(bearerReq("dead-token"))
	if s, r := statusOf(t, err); s != 401 || r != "token_inactive" || as.Calls() != 2 {
		t.Fatalf("shared refusal: %d %s, %d calls", s, r, as.Calls())
	}

	// A third replica that joins after CacheTTL sees nothing shared.
	opts.Now = func() time.Time { return time.Now().Add(introspect.DefaultCacheTTL) }
	three := newAuth(t, opts)
	_, err = three.Authenticate(bearerReq(tok))
	if s, r := statusOf(t, err); s != 401 || r != "token_inactive" {
		t.Fatalf("after CacheTTL: %d %s", s, r)
	}
}
