package storetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/storetest"
)

// The suite drives time through a Clock that the store under test reads,
// so that expiry is tested without sleeping: here by hand, as Run does
// for each of its cases (in a test: storetest.Run(t, storetest.Factory{…})).
func ExampleClock() {
	clock := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := memstore.New(memstore.Options{Now: clock.Now})
	defer st.Close()
	ctx := context.Background()

	_ = st.Set(ctx, "k", []byte("v"), time.Second)
	clock.Advance(999 * time.Millisecond)
	_, found, _ := st.Get(ctx, "k")
	fmt.Println("after 999ms:", found)
	clock.Advance(time.Millisecond)
	_, found, _ = st.Get(ctx, "k")
	fmt.Println("after 1s:", found)
	// Output:
	// after 999ms: true
	// after 1s: false
}
