package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// The contract every store keeps: a miss is not an error, a TTL is
// required where a method says so, and errors say whether the store could
// not answer (ErrUnavailable: fail open, fail closed or fall back) or the
// call was wrong.
func Example() {
	var st store.Store = memstore.New(memstore.Options{})
	defer st.Close()
	ctx := context.Background()

	_, found, err := st.Get(ctx, "session:none")
	fmt.Println("miss:", found, err)

	err = st.Set(ctx, "session:1", []byte("alice"), 0)
	fmt.Println("no TTL:", errors.Is(err, store.ErrInvalidTTL), errors.Is(err, store.ErrUnavailable))

	stored, _ := st.SetNX(ctx, "session:1", []byte("alice"), time.Minute)
	again, _ := st.SetNX(ctx, "session:1", []byte("mallory"), time.Minute)
	v, _, _ := st.Get(ctx, "session:1")
	fmt.Println("first wins:", stored, again, string(v))
	// Output:
	// miss: false <nil>
	// no TTL: true false
	// first wins: true false alice
}
