package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestStacksAgree checks that the compared stacks protect alike, so that
// the stack benchmarks compare like with like: both admit the valid
// request, both refuse a forged token and a token signed with another key.
func TestStacksAgree(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"stitched":           stitchedStack(),
		"bulwark":            bulwarkStack(t, false),
		"bulwark+revocation": bulwarkStack(t, true),
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

func serveStack(h http.Handler, tok string) int {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.Header.Set("Origin", "https://example.com")
	r.Header.Set("Authorization", "Bearer "+tok)
	r.RemoteAddr = "203.0.113.7:5555"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}
