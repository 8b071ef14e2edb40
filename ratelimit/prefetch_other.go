//go:build !amd64

package ratelimit

// prefetch is a hint that does nothing on this architecture.
func prefetch(*int64) {}
