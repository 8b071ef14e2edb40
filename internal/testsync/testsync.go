// Package testsync holds what tests that run many goroutines share to
// report back.
package testsync

import (
	"bytes"
	"sync"
)

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

// Buffer is a bytes.Buffer that several goroutines may write at once —
// a server's log output that a test reads. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
