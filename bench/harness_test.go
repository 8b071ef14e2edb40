package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/internal/testhttp"
)

// TestStacksAgree checks that the compared stacks protect alike, so that
// the stack benchmarks compare like with like: both admit the valid
// request, both refuse a forged token and a token signed with another key.
func TestStacksAgree(t *testing.T) {
	cacheOff, _ := bulwarkStackWith(t, stackConfig{cacheSize: -1})
	for name, h := range map[string]http.Handler{
		"stitched":           stitchedStack(),
		"bulwark":            bulwarkStack(t, false),
		"bulwark+revocation": bulwarkStack(t, true),
		"bulwark, no cache":  cacheOff,
	} {
		if got := serveStack(h, jwtToken(t)); got != http.StatusOK {
			t.Errorf("%s: valid token answered %d", name, got)
		}
		if got := serveStack(h, "forged.token.value"); got != http.StatusUnauthorized {
			t.Errorf("%s: forged token answered %d", name, got)
		}
		// Same claims, signature from another secret.
		saved := jwtSecret
		jwtSecret = []byte("another-secret-another-secret-xx")
		other := jwtToken(t)
		jwtSecret = saved
		if got := serveStack(h, other); got != http.StatusUnauthorized {
			t.Errorf("%s: token with a foreign signature answered %d", name, got)
		}
	}
}

// TestStackRevocationConsulted checks that the stacks named for
// revocation do the work: their tokens carry a jti and a sid, and
// revoking either refuses the token at the next request, cached or not.
func TestStackRevocationConsulted(t *testing.T) {
	toks, _ := stackTokens(t)
	for _, c := range []stackConfig{{revocation: true}, {revocation: true, peerHeaders: true}, {revocation: true, cacheSize: -1}} {
		h, v := bulwarkStackWith(t, c)
		for i, revoke := range []func(*authn.Principal) error{
			func(p *authn.Principal) error { return v.Revoke(t.Context(), p) },
			func(p *authn.Principal) error {
				sid, _ := authn.Claim[string](p, "sid")
				return v.RevokeSession(t.Context(), sid, p.ExpiresAt)
			},
		} {
			tok := toks[i]
			if got := serveStack(h, tok); got != http.StatusOK {
				t.Fatalf("%+v: valid token answered %d", c, got)
			}
			p, err := v.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if sid, _ := authn.Claim[string](p, "sid"); p.TokenID == "" || sid == "" {
				t.Fatalf("token without jti or sid: %+v", p)
			}
			if err := revoke(p); err != nil {
				t.Fatal(err)
			}
			if got := serveStack(h, tok); got != http.StatusUnauthorized {
				t.Errorf("%+v, revocation %d: revoked token answered %d", c, i, got)
			}
		}
	}
}

func serveStack(h http.Handler, tok string) int {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Authorization", "Bearer "+tok)
	r.RemoteAddr = "203.0.113.7:5555"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// headerMap says what serveLoop does with the response header map between
// requests.
type headerMap uint8

const (
	keepMap  headerMap = iota // reuse it as it is (the handler sets no header)
	clearMap                  // clear it, so that map growth is charged to no one
	freshMap                  // a new map of capacity 8, as a server gives each response
)

// serveLoop serves r with h once and checks the response, then serves it
// once per iteration, preparing w's header map as hm says, and checks the
// last response too.
func serveLoop(b *testing.B, h http.Handler, r *http.Request, w *testhttp.NopWriter, hm headerMap, check func(w *testhttp.NopWriter)) {
	h.ServeHTTP(w, r)
	check(w)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		switch hm {
		case clearMap:
			clear(w.H)
		case freshMap:
			w.H = make(http.Header, 8)
		}
		w.Code = 0
		h.ServeHTTP(w, r)
	}
	check(w)
}
