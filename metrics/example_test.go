package metrics_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/metrics"
)

// The method label takes its values from a closed set: a WebDAV server
// adds its methods to the defaults, and every other method, however long,
// counts as _OTHER.
func ExampleOptions_knownMethods() {
	m, err := metrics.New(metrics.Options{KnownMethods: append(metrics.DefaultKnownMethods(), "PROPFIND")})
	if err != nil {
		log.Fatal(err)
	}
	h := m.Handler(http.NotFoundHandler())
	for _, method := range []string{"PROPFIND", "GET", strings.Repeat("X", 100_000)} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/", nil))
	}
	w := httptest.NewRecorder()
	m.Exposition().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.SplitSeq(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "bulwark_http_requests_total{") {
			fmt.Println(line)
		}
	}
	// Output:
	// bulwark_http_requests_total{code="404",method="GET",route="unmatched"} 1
	// bulwark_http_requests_total{code="404",method="PROPFIND",route="unmatched"} 1
	// bulwark_http_requests_total{code="404",method="_OTHER",route="unmatched"} 1
}
