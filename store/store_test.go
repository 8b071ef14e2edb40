package store_test

import (
	"bytes"
	"testing"

	"github.com/bulwark-go/bulwark/store"
)

// FuzzSplitNote: SplitNote undoes JoinNote for any note and value, and
// never panics on strings it did not make.
func FuzzSplitNote(f *testing.F) {
	f.Add([]byte("started 17"), []byte(`{"sub":"alice"}`))
	f.Add([]byte(""), []byte("12:x"))
	f.Add([]byte("9:"), []byte(""))
	f.Fuzz(func(t *testing.T, note, value []byte) {
		v, n, ok := store.SplitNote(store.JoinNote(note, value))
		if !ok || !bytes.Equal(v, value) || !bytes.Equal(n, note) {
			t.Fatalf("SplitNote(JoinNote(%q, %q)) = %q, %q, %v", note, value, v, n, ok)
		}
		store.SplitNote(value) // arbitrary input: must not panic
	})
}
