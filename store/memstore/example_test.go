package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bulwark-go/bulwark/store/memstore"
)

// A fixed-window login limit: five attempts per client IP per five minutes.
func Example() {
	s := memstore.New(memstore.Options{MaxKeys: 50_000})
	defer s.Close()
	ctx := context.Background()

	for attempt := 1; attempt <= 6; attempt++ {
		n, err := s.Incr(ctx, "login:203.0.113.7", 1, 5*time.Minute)
		if err != nil {
			panic(err) // memstore only fails once closed
		}
		fmt.Printf("attempt %d allowed: %v\n", attempt, n <= 5)
	}
	// Output:
	// attempt 1 allowed: true
	// attempt 2 allowed: true
	// attempt 3 allowed: true
	// attempt 4 allowed: true
	// attempt 5 allowed: true
	// attempt 6 allowed: false
}

// One-time tokens: Take hands a value to exactly one caller.
func ExampleStore_Take() {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx := context.Background()

	_ = s.Set(ctx, "reset-token:abc123", []byte("alice"), 15*time.Minute)
	user, ok, _ := s.Take(ctx, "reset-token:abc123")
	fmt.Println(string(user), ok)
	_, ok, _ = s.Take(ctx, "reset-token:abc123")
	fmt.Println(ok)
	// Output:
	// alice true
	// false
}

// Counting distinct items: usernames tried from one IP within an hour that
// restarts with every attempt.
func ExampleStore_AddToSet() {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx := context.Background()

	for _, user := range []string{"alice", "bob", "alice", "carol"} {
		n, _ := s.AddToSet(ctx, "failed-users:198.51.100.2", user, time.Hour)
		fmt.Println(user, n)
	}
	// Output:
	// alice 1
	// bob 2
	// alice 2
	// carol 3
}
