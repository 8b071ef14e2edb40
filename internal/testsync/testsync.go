// Package testsync holds what tests that run many goroutines share to
// report back.
package testsync

import "sync"

// FirstError keeps the first error reported from several goroutines, so
// that a test fails once, with the first cause, rather than once per
// goroutine. The zero value is ready to use.
type FirstError struct {
	mu  sync.Mutex
	err error
}

// Set records err unless an error was recorded already.
func (f *FirstError) Set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

// Err returns the first error recorded, or nil.
func (f *FirstError) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
