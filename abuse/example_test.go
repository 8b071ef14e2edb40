package abuse_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// Every interface ID of one IPv6 /64 is one client, as for the rate limits.
func ExampleClientKey() {
	for _, peer := range []string{"[2001:db8:1:2::1]:5000", "[2001:db8:1:2:ab:cd:ef:1]:5001", "198.51.100.7:5002"} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = peer // or the client the identity guard resolved
		fmt.Println(abuse.ClientKey(r))
	}
	// Output:
	// 2001:db8:1:2::/64
	// 2001:db8:1:2::/64
	// 198.51.100.7
}

// The seed's card-testing rule as a guard: the 4th distinct card from one
// client is refused, and so is everything after it.
func ExampleNew() {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	g, err := abuse.New(abuse.Options{
		Name:        "card-testing",
		Store:       st,
		Fingerprint: abuse.Card("card_number", "exp_month", "exp_year"),
		Threshold:   3,
		Secret:      []byte("an example secret of 32+ bytes, not a real one"),
	})
	if err != nil {
		panic(err)
	}
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	for _, card := range []string{"4242424242424242", "4242424242424242", "4000056655665556", "5555555555554444", "378282246310005", "4242424242424242"} {
		r := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(`{"card_number":"`+card+`","exp_month":12,"exp_year":2030}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "203.0.113.9:4000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(card[len(card)-4:], w.Code)
	}
	// Output:
	// 4242 200
	// 4242 200
	// 5556 200
	// 4444 200
	// 0005 403
	// 4242 403
}
