package abuse_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/bulwark-go/bulwark/abuse"
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
