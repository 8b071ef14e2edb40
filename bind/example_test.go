package bind_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
)

type loginRequest struct {
	Username string `json:"username" validate:"required,max=64"`
	Password string `json:"password" validate:"required,min=8"`
}

func Example() {
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, p := bind.Decode[loginRequest](w, r)
		if p != nil {
			problem.Write(w, r, p)
			return
		}
		fmt.Fprintf(w, "welcome, %s\n", in.Username)
	})

	for _, body := range []string{
		`{"username":"alice","password":"wonderland-2026"}`,
		`{"username":"alice","password":"short"}`,
		`{"username":"alice",}`,
	} {
		r := httptest.NewRequest("POST", "/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 200 welcome, alice
	// 422 {"type":"https://bulwark.dev/problems/validation-failed","title":"Unprocessable Entity","status":422,"detail":"the request body failed validation","instance":"/api/login","errors":[{"field":"password","message":"must be at least 8 characters long","rule":"min"}]}
	// 400 {"type":"https://bulwark.dev/problems/malformed-json","title":"Bad Request","status":400,"detail":"the request body is not valid JSON","instance":"/api/login","column":21,"line":1,"offset":21}
}
