// Package prefetch asks the CPU to start loading a cache line that a hot
// path will read shortly, so that the load's memory latency overlaps
// other work (an HMAC, say) instead of stalling it. It is a hint: it
// reads nothing, cannot fault, and does nothing on architectures without
// an implementation.
package prefetch
