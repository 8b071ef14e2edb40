package redisstore_test

import (
	"fmt"
	"strings"

	"github.com/bulwark-go/bulwark/store/redisstore"
)

// Open refuses a malformed URL at once, before any connection, and its
// error never repeats the URL's password: configuration errors end up in
// logs.
func ExampleOpen_badURL() {
	_, err := redisstore.Open(redisstore.Options{URL: "redis://:hunter2@127.0.0.1:port/0"})
	fmt.Println(err != nil, strings.Contains(err.Error(), "hunter2"))
	// Output: true false
}
