package clientip_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/bulwark-go/bulwark/clientip"
)

// Behind a load balancer in 10.0.0.0/8 that appends to X-Forwarded-For,
// the client is the right-most address the balancer did not add for one of
// its own hops; whatever the client wrote to the left is ignored.
func Example() {
	id, err := clientip.New(clientip.Options{
		TrustedProxies: []string{"10.0.0.0/8"},
		Headers:        []string{"X-Forwarded-For"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("client:", clientip.FromContext(r.Context()))
		fmt.Println("https:", clientip.IsSecure(r.Context()))
		fmt.Println("request id:", clientip.RequestID(r.Context()))
	}))

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.7:51234" // the load balancer
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.9")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Request-ID", "req-0001")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println("echoed:", w.Header().Get("X-Request-ID"))
	// Output:
	// client: 203.0.113.9
	// https: true
	// request id: req-0001
	// echoed: req-0001
}

// Without TrustedProxies no header is believed: a client cannot choose
// its address.
func ExampleIdentity_Resolve() {
	id, _ := clientip.New(clientip.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.1:4711"
	r.Header.Set("X-Forwarded-For", "127.0.0.1")
	r.Header.Set("Forwarded", "for=127.0.0.1")
	fmt.Println(id.Resolve(r))
	// Output: 198.51.100.1
}

// Rate-limit keys group an IPv6 client's /64.
func ExampleAppendKey() {
	buf := make([]byte, 0, 64)
	for _, s := range []string{"198.51.100.7", "2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"} {
		buf = clientip.AppendKey(append(buf[:0], "login:"...), netip.MustParseAddr(s))
		fmt.Println(string(buf))
	}
	// Output:
	// login:198.51.100.7
	// login:2001:db8:1:2::/64
	// login:2001:db8:1:2::/64
}

// An incoming request ID is kept only from a trusted proxy: a client
// cannot choose the ID its requests are logged and audited under.
func ExampleOptions_requestID() {
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		log.Fatal(err)
	}
	h := id.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, peer := range []string{"10.0.0.7:51234", "198.51.100.1:4711"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Request-ID", "req-0001")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(peer, "kept:", w.Header().Get("X-Request-ID") == "req-0001")
	}
	// Output:
	// 10.0.0.7:51234 kept: true
	// 198.51.100.1:4711 kept: false
}
