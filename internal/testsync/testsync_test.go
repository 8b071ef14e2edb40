package testsync_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/internal/testsync"
)

func TestFirstError(t *testing.T) {
	var f testsync.FirstError
	if err := f.Err(); err != nil {
		t.Fatalf("zero value: %v", err)
	}
	first := errors.New("first")
	f.Set(nil) // not an error: does not count as the first
	f.Set(first)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { f.Set(fmt.Errorf("later %d", i)) })
	}
	wg.Wait()
	if err := f.Err(); err != first {
		t.Fatalf("Err() = %v, want %v", err, first)
	}
}
