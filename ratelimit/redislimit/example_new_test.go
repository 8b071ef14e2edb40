package redislimit_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
)

// New validates its options without Redis and says what to fix.
func ExampleNew_missingClient() {
	_, err := redislimit.New(redislimit.Options{})
	fmt.Println(err)
	// Output: redislimit: set Options.Client (e.g. from redisstore.NewClient) or Options.URL
}
