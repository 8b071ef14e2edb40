package password_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/password"
)

func Example() {
	hash, err := password.Hash("wonderland-2026")
	if err != nil {
		panic(err)
	}
	_, err = password.Verify("wonderland-2026", hash)
	fmt.Println("match:", err == nil)
	_, err = password.Verify("guess", hash)
	fmt.Println("mismatch:", err == password.ErrMismatch)
	// Output:
	// match: true
	// mismatch: true
}
