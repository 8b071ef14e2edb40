package problem_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/bulwark-go/bulwark/problem"
)

func ExampleWrite() {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/login", nil)
	problem.Write(w, r, problem.TooManyRequests(30*time.Second, "too many login attempts"))
	fmt.Println(w.Code, w.Header().Get("Retry-After"))
	fmt.Print(w.Body.String())
	// Output:
	// 429 30
	// {"type":"https://bulwark.dev/problems/rate-limited","title":"Too Many Requests","status":429,"detail":"too many login attempts","instance":"/api/login","retry_after":30}
}
