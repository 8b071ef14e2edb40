package bodylimit_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/bodylimit"
)

func Example() {
	l, err := bodylimit.New(bodylimit.Options{MaxBytes: 16})
	if err != nil {
		log.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); bodylimit.IsTooLarge(err) {
			fmt.Println("handler: body too large")
			return
		}
		fmt.Println("handler: ok")
	}))

	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 17)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r) // Content-Length 17: refused before the handler
	fmt.Println(w.Code)

	r = httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 17)))
	r.ContentLength = -1 // chunked: the handler finds out while reading
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 413
	// handler: body too large
}
