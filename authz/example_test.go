package authz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authz"
)

func ExampleAuthorizer_RequirePermission() {
	a, _ := authz.New(authz.Options{RolePermissions: map[string][]string{"admin": {"users:read"}}})
	h := a.RequirePermission("users:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "the user list")
	}))
	for _, p := range []*authn.Principal{{Subject: "alice", Roles: []string{"admin"}}, {Subject: "bob", Roles: []string{"user"}}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, authn.WithPrincipal(httptest.NewRequest("GET", "/api/admin/users", nil), p))
		fmt.Println(p.Subject, w.Code)
	}
	// Output:
	// alice 200
	// bob 403
}
