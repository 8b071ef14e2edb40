package reqctx_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/reqctx"
)

func TestStateRoundTrip(t *testing.T) {
	ctx, st := reqctx.New(context.Background())
	st.SetRequestID([]byte("abc"))
	if got := reqctx.From(ctx); got != st || got.RequestID() != "abc" || got.HeaderValue()[0] != "abc" {
		t.Fatal("state not found")
	}
	// Found through further wrapping too.
	type k struct{}
	inner := context.WithValue(ctx, k{}, 1)
	if reqctx.From(inner) != st {
		t.Fatal("state lost under a child context")
	}
	if reqctx.From(context.Background()) != nil {
		t.Fatal("state from nowhere")
	}
	st.SetRequestID([]byte(strings.Repeat("x", 100)))
	if len(st.RequestID()) != reqctx.MaxRequestIDLen {
		t.Fatal("request ID not truncated")
	}
}

func TestEnsureAndRouteOf(t *testing.T) {
	r := httptest.NewRequest("GET", "/p", nil)
	r2, st := reqctx.Ensure(r)
	if r2 == r || st == nil {
		t.Fatal("Ensure did not attach state")
	}
	if r3, st2 := reqctx.Ensure(r2); r3 != r2 || st2 != st {
		t.Fatal("Ensure replaced existing state")
	}
	if reqctx.RouteOf(r2) != "/p" {
		t.Fatal("route fallback")
	}
	st.Route = "GET /p"
	if reqctx.RouteOf(r2) != "GET /p" {
		t.Fatal("recorded route ignored")
	}
}
