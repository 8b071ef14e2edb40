package prefetch

import "unsafe"

// Line asks for the cache line holding p (PREFETCHT0) and returns at
// once. Software prefetches are not ordered by fences or locked
// instructions, so a lock taken after it does not wait for the line.
//
//go:noescape
func Line(p unsafe.Pointer)
