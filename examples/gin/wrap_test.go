package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// A per-route guard that reads the response status — an abuse guard
// counting failures, with no abuse.Report in the handler — sees the
// statuses gin handlers write, through Wrap: after more distinct failed
// users than its threshold from one client, the route answers 403. Both a
// body (c.JSON) and a bare status (c.Status) count, and headers set after
// c.Status still go out.
func TestWrapPassesTheGuardsWriter(t *testing.T) {
	for _, bare := range []bool{false, true} {
		t.Run(fmt.Sprint("bare status ", bare), func(t *testing.T) {
			st := memstore.New(memstore.Options{})
			defer st.Close()
			g, err := abuse.New(abuse.Options{
				Name: "stuffing", Store: st, Fingerprint: abuse.Header("X-User"), Threshold: 2,
				Window: time.Hour, Count: abuse.CountFailures, Secret: bytes.Repeat([]byte("k"), 32),
			})
			if err != nil {
				t.Fatal(err)
			}
			e := gin.New()
			e.POST("/login", Wrap(g.Handler), func(c *gin.Context) {
				if bare {
					c.Status(http.StatusUnauthorized)
					c.Header("X-Late", "yes") // after the status: gin holds it until the first write
					return
				}
				c.JSON(http.StatusUnauthorized, gin.H{"error": "bad credentials"})
			})
			login := func(user string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/login", nil)
				r.RemoteAddr = "203.0.113.7:4000"
				r.Header.Set("X-User", user)
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				return w
			}
			for i := range 3 {
				w := login(fmt.Sprintf("user%d", i))
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i+1, w.Code)
				}
				if bare && w.Header().Get("X-Late") != "yes" {
					t.Fatalf("a header set after c.Status was lost: %v", w.Header())
				}
			}
			if w := login("user0"); w.Code != http.StatusForbidden {
				t.Fatalf("after 3 distinct failed users: %d, want 403 (the guard never saw the 401s)", w.Code)
			}
		})
	}
}
