package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch of any address, even one never mapped, neither faults nor
// changes memory.
func TestLine(t *testing.T) {
	x := [128]byte{1, 2, 3}
	Line(unsafe.Pointer(&x))
	Line(unsafe.Pointer(&x[127]))
	Line(nil)
	if x[0] != 1 || x[2] != 3 {
		t.Fatal("memory changed")
	}
}
