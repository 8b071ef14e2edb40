package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, clock *storetest.Clock) store.Store {
			return memstore.New(memstore.Options{Now: clock.Now})
		},
	})
}

// TestConformanceSmall runs the suite on a single small shard, where every
// eviction path is exercised by the suite's own keys.
func TestConformanceSmall(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, clock *storetest.Clock) store.Store {
			return memstore.New(memstore.Options{MaxKeys: 64, Now: clock.Now, SweepInterval: -1})
		},
	})
}
