package rediskeys_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/authn/apikey/rediskeys"
)

// New validates its options without Redis and says what to fix: the key
// store shares a redisstore.Store's client, prefix and timeout.
func ExampleNew_missingRedis() {
	_, err := rediskeys.New(rediskeys.Options{})
	fmt.Println(err)
	// Output: rediskeys: Options.Redis is required (a *redisstore.Store from redisstore.Open)
}
