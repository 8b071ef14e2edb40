package lifecycle_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
)

// Token and session IDs are 128 random bits in 22 base64url characters,
// so they fit in store keys and URLs as they are.
func ExampleNewID() {
	id := lifecycle.NewID()
	fmt.Println(len(id), id != lifecycle.NewID())
	// Output: 22 true
}
