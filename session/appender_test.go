package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// getOnly hides memstore's AppendValue: a store that only has Get.
type getOnly struct{ store.Store }

// TestLoadWithAndWithoutAppender: a session loads the same through
// store.Appender (a small record read into the Session, a large one into
// memory of its own) and through Get, and a load after a change sees the
// change (the Session's buffer is not shared with the store).
func TestLoadWithAndWithoutAppender(t *testing.T) {
	for _, hide := range []bool{false, true} {
		for _, size := range []int{1, 500} {
			ms := memstore.New(memstore.Options{SweepInterval: -1})
			defer ms.Close()
			var st store.Store = ms
			if hide {
				st = getOnly{ms}
			}
			m, err := session.New(session.Options{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			val := strings.Repeat("v", size)
			cookie := ""
			run := func(f func(s *session.Session)) {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				if cookie != "" {
					r.Header.Set("Cookie", cookie)
				}
				w := httptest.NewRecorder()
				m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					s, _ := session.FromContext(r.Context())
					f(s)
				})).ServeHTTP(w, r)
				if cs := w.Result().Cookies(); len(cs) > 0 {
					cookie = cs[0].Name + "=" + cs[0].Value
				}
			}
			run(func(s *session.Session) {
				s.Login(session.Identity{Subject: "alice", Roles: []string{"admin"}})
				session.Set(s, "v", val)
			})
			run(func(s *session.Session) { session.Set(s, "v", val+"2") })
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", cookie)
			s := m.Load(r)
			got, _ := session.Get[string](s, "v")
			if s.Subject() != "alice" || got != val+"2" || len(s.Roles()) != 1 {
				t.Fatalf("hide Appender %v, value of %d bytes: subject %q, value %d bytes, roles %v", hide, size, s.Subject(), len(got), s.Roles())
			}
		}
	}
}
