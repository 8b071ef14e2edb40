package memstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/store/memstore"
)

// TestAppendValue: AppendValue returns what Get returns, appended to the
// caller's buffer; the caller's copy is its own (a later Set does not
// change it); an expired or missing key, and a set, are not values.
func TestAppendValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := memstore.New(memstore.Options{})
		defer s.Close()
		s.Set(ctx, "v", []byte("hello"), time.Minute)
		s.Incr(ctx, "n", 42, time.Minute)
		s.Set(ctx, "empty", nil, time.Minute)
		s.AddToSet(ctx, "set", "m", time.Minute)
		buf := make([]byte, 0, 64)
		got, ok, err := s.AppendValue(ctx, "v", append(buf, "x:"...))
		if err != nil || !ok || string(got) != "x:hello" || &got[0] != &buf[:1][0] {
			t.Fatalf("value: %q %v %v; want x:hello in the caller's buffer", got, ok, err)
		}
		s.Set(ctx, "v", []byte("HELLO"), time.Minute) // reuses the store's buffer
		if string(got) != "x:hello" {
			t.Fatalf("a later Set changed the caller's copy: %q", got)
		}
		if got, ok, _ := s.AppendValue(ctx, "n", nil); !ok || string(got) != "42" {
			t.Fatalf("counter: %q %v", got, ok)
		}
		if got, ok, _ := s.AppendValue(ctx, "empty", nil); !ok || got == nil || len(got) != 0 {
			t.Fatalf("empty value: %#v %v; want found, empty, not nil", got, ok)
		}
		if got, ok, err := s.AppendValue(ctx, "missing", buf[:0]); ok || err != nil || len(got) != 0 {
			t.Fatalf("missing: %q %v %v", got, ok, err)
		}
		if _, _, err := s.AppendValue(ctx, "set", nil); !errors.Is(err, memstore.ErrWrongType) {
			t.Fatalf("set: %v; want ErrWrongType", err)
		}
		time.Sleep(time.Minute)
		if _, ok, _ := s.AppendValue(ctx, "v", nil); ok {
			t.Fatal("an expired value was returned")
		}
		s.Close()
		if _, _, err := s.AppendValue(ctx, "v", nil); err == nil {
			t.Fatal("no error from a closed store")
		}
	})
}

func TestAppendValueDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{})
	defer s.Close()
	val := bytes.Repeat([]byte("x"), 100)
	s.Set(ctx, "v", val, time.Minute)
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(1000, func() {
		if got, ok, _ := s.AppendValue(ctx, "v", buf[:0]); !ok || len(got) != 100 {
			t.Fatal("not found")
		}
	}); n != 0 {
		t.Fatalf("AppendValue into a large enough buffer: %v allocs/op; want 0", n)
	}
}
