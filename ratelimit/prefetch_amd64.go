package ratelimit

// prefetch asks the CPU to bring the cache line holding p into its cache
// (PREFETCHT0) and returns at once. It is a hint: it reads nothing and
// cannot fault.
//
//go:noescape
func prefetch(p *int64)
