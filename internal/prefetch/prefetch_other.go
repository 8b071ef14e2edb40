//go:build !amd64

package prefetch

import "unsafe"

// Line is a hint that does nothing on this architecture.
func Line(unsafe.Pointer) {}
