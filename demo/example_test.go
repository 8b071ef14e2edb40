package demo_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/demo"
)

// The demo is an http.Handler with every guard on: a public route
// answers, a protected one asks for a token with a problem response.
func Example() {
	app, err := demo.New(demo.Config{})
	if err != nil {
		panic(err)
	}
	defer app.Close()
	for _, path := range []string{"/api/public", "/api/protected", "/admin/security"} {
		w := httptest.NewRecorder()
		app.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, w.Code, w.Header().Get("Content-Type"))
	}
	// Output:
	// /api/public 200 application/json
	// /api/protected 401 application/problem+json
	// /admin/security 401 application/problem+json
}
