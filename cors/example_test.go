package cors_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/cors"
)

// A single-page app on app.example.com calls an API with cookies and a
// bearer token; preflights are answered before routing.
func Example() {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "DELETE"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-ID"},
		AllowCredentials: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"ok":true}`)
	})
	handler := c.Handler(mux)

	r := httptest.NewRequest("OPTIONS", "/api/items/1", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary"} {
		fmt.Printf("%s: %s\n", k, w.Header().Get(k))
	}
	// Output:
	// 204
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Credentials: true
	// Access-Control-Allow-Methods: GET, HEAD, POST, PUT, DELETE
	// Access-Control-Allow-Headers: Authorization, Content-Type
	// Access-Control-Max-Age: 300
	// Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
}

// Construction refuses a policy that would let any web site read
// credentialed responses, and says how to fix it.
func ExampleNew_insecure() {
	_, err := cors.New(cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})
	fmt.Println(errors.Is(err, cors.ErrInsecure))
	fmt.Println(strings.Contains(err.Error(), "list the exact origins you trust"))
	// Output:
	// true
	// true
}

// Wildcard patterns match proper subdomains only.
func ExampleCORS_Check() {
	c, _ := cors.New(cors.Options{AllowedOrigins: []string{"https://*.example.com"}})
	for _, origin := range []string{"https://app.example.com", "https://example.com", "https://example.com.evil.net", "https://evilexample.com"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", origin)
		if d := c.Decide(r); d.Allowed {
			fmt.Println(origin, "allowed")
		} else {
			fmt.Println(origin, d.Reason)
		}
	}
	// Output:
	// https://app.example.com allowed
	// https://example.com origin_not_allowed
	// https://example.com.evil.net origin_not_allowed
	// https://evilexample.com origin_not_allowed
}

// A public read-only part of the API is open to every origin, without
// credentials, while the rest stays restricted.
func ExampleOptions_routes() {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowCredentials: true,
		Routes: map[string]cors.Options{
			"/public/": {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range []string{"/public/feed", "/api/me"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Origin", "https://elsewhere.example")
		fmt.Printf("%s %q\n", path, c.Decide(r).AllowOrigin())
	}
	// Output:
	// /public/feed "*"
	// /api/me ""
}

// A predicate decides about tenant subdomains looked up at run time; with
// credentials it must name the domains it may allow, and an origin outside
// them is never let in, whatever the predicate says.
func ExampleOptions_allowOriginFunc() {
	tenants := map[string]bool{"https://acme.example.com": true}
	c, err := cors.New(cors.Options{
		AllowCredentials:       true,
		AllowOriginFunc:        func(origin string) bool { return tenants[origin] },
		AllowOriginFuncDomains: []string{"example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, origin := range []string{"https://acme.example.com", "https://other.example.com", "https://acme.example.com.evil.net"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", origin)
		fmt.Println(origin, c.Decide(r).Allowed)
	}

	// A sloppy suffix check is refused at construction.
	_, err = cors.New(cors.Options{
		AllowCredentials:       true,
		AllowOriginFunc:        func(origin string) bool { return strings.HasSuffix(origin, "example.com") },
		AllowOriginFuncDomains: []string{"example.com"},
	})
	fmt.Println(errors.Is(err, cors.ErrInsecure))
	// Output:
	// https://acme.example.com true
	// https://other.example.com false
	// https://acme.example.com.evil.net false
	// true
}
