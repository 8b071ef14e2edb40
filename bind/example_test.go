package bind_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
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

// Register an application rule once, when the program starts, and use its
// name in `validate` tags like a built-in one; its message is what the 422
// problem says about the field.
func ExampleRegisterRule() {
	err := bind.RegisterRule("sku", func(v reflect.Value, _ string) bool {
		s := v.String() // two capital letters, a dash, four digits: AB-1234
		return len(s) == 7 && s[2] == '-' &&
			strings.Trim(s[:2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" &&
			strings.Trim(s[3:], "0123456789") == ""
	}, "must be a SKU such as AB-1234")
	if err != nil {
		panic(err)
	}

	type item struct {
		SKU string `json:"sku" validate:"required,sku"`
	}
	fmt.Println(bind.Validate(item{SKU: "AB-1234"}) == nil)
	p := bind.Validate(item{SKU: "ab-12"})
	fmt.Println(p.Status, p.Extensions["errors"])
	// A name is registered once, and built-in names are not for taking.
	fmt.Println(bind.RegisterRule("email", func(reflect.Value, string) bool { return true }, "is invalid"))
	// Output:
	// true
	// 422 [{sku must be a SKU such as AB-1234 sku}]
	// bind: validation rule already defined: "email" is one of the validator's built-in rules; choose another name
}
