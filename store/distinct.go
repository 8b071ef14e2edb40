package store

import (
	"context"
	"time"
)

// DistinctOp is one count of distinct members, for DistinctCounter: add
// Member to the set at Key (unless the set is already over Cap), restart or
// keep its expiry, and report the set's size.
//
// Key and Member may alias memory the caller reuses once the call returns:
// an implementation that keeps either must copy it.
type DistinctOp struct {
	// Key names the set.
	Key string
	// Member is added to the set; empty adds nothing (a touch: the size is
	// read and, when Sliding, the expiry restarted — a missing set is not
	// created).
	Member string
	// TTL is the set's retention window. Required, positive.
	TTL time.Duration
	// Sliding restarts the window with every call (touches included); else
	// the window is fixed when the set is created.
	Sliding bool
	// Cap stops growth: a set already holding more than Cap members takes no
	// new one (so a blocked key costs Cap+1 members at most). Zero or less:
	// no cap (an implementation's own bound still applies).
	Cap int64
	// Approximate allows an estimate instead of an exact count, for very
	// high cardinality: redisstore then keeps a HyperLogLog (12 KB at most
	// per key, a standard error of 0.81%) and ignores Cap; memstore counts
	// exactly.
	Approximate bool

	// Size is set by the call: the number of distinct members after it.
	Size int64
	// Added is set by the call: Member was new to the set and went in.
	Added bool
}

// DistinctCounter is implemented by stores that count distinct members
// with a sliding or fixed retention in one step per op (memstore, and
// redisstore with one atomic script per op, several ops pipelined in one
// round trip). It is optional: package abuse requires it.
type DistinctCounter interface {
	// CountDistinct runs ops, filling in their Size and Added. Each op is
	// atomic on its own; ops are independent (they may be applied even if
	// the call then fails, and applying one twice is harmless: adding a
	// member is idempotent). On error no Size is to be trusted.
	CountDistinct(ctx context.Context, ops []DistinctOp) error
}
