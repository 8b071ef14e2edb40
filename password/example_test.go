package password_test

import (
	"context"
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

// A server shares one Verifier between every authenticator that checks
// passwords, and answers ErrBusy with a 503 rather than queueing.
func ExampleVerifier() {
	v, err := password.NewVerifier(password.Options{MaxConcurrent: 4})
	if err != nil {
		panic(err)
	}
	fmt.Println("budget MiB:", v.MemoryBudget()>>20)

	stored := map[string]string{}
	stored["alice"], _ = password.Hash("wonderland-2026")
	login := func(user, pw string) string {
		// A missing user's hash is "": checked against a stand-in, at the
		// same cost, so that neither time nor a 503 reveals who exists.
		_, err := v.Verify(context.Background(), pw, stored[user])
		if p := v.Unavailable(err); p != nil {
			return fmt.Sprint(p.Status) // ErrBusy: 503 with Retry-After
		}
		if err != nil {
			return "401"
		}
		return "200"
	}
	fmt.Println(login("alice", "wonderland-2026"), login("alice", "guess"), login("mallory", "guess"))
	// Output:
	// budget MiB: 76
	// 200 401 401
}
