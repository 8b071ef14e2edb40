package ratelimit

import "time"

// The algorithms, as pure functions of a key's state, the current time and
// the cost of the request. Times are int64 nanoseconds on one clock (the
// Unix epoch for the memory store); "now" may go backwards (a clock step):
// none of the functions then yields negative usage or a free burst — the
// state simply looks fuller until the clock catches up.

// gcraCheck decides a take of cost units from a GCRA (token bucket) state
// with theoretical arrival time tat, refill interval T and capacity
// C = limit × T: allowed iff max(tat, now) + cost×T − now ≤ C.
func gcraCheck(tat, now, T, C, cost int64, r *Result) {
	t0 := max(tat, now)
	ntat := t0 + cost*T
	if ntat-now <= C {
		r.Allowed = true
		r.RetryAfter = 0
		return
	}
	r.Allowed = false
	r.RetryAfter = time.Duration(ntat - now - C)
	gcraState(tat, now, T, C, r)
}

// gcraState reports the units available and the time until the bucket is
// full again.
func gcraState(tat, now, T, C int64, r *Result) {
	d := max(tat-now, 0)
	r.Remaining = int(max((C-d)/T, 0))
	r.ResetAfter = time.Duration(d)
}

// fixedCheck decides a take of cost units from a fixed window ending at
// end that has admitted count units.
func fixedCheck(end, count, now, limit, cost int64, r *Result) {
	if count+cost <= limit {
		r.Allowed = true
		r.RetryAfter = 0
		return
	}
	r.Allowed = false
	r.RetryAfter = time.Duration(end - now)
	r.Remaining = int(max(limit-count, 0))
	r.ResetAfter = time.Duration(end - now)
}

// slidingCheck decides a take of cost units from a sliding log: ring holds
// the timestamps of the last len(ring) admitted units, oldest at head
// (never for empty entries). The take is allowed iff the cost oldest of
// them have left the window (ts ≤ now − w), i.e. at most len(ring) units
// would lie in (now − w, now].
func slidingCheck(ring []int64, head int, now, w, cost int64, r *Result) {
	L := len(ring)
	k := ring[(head+int(cost)-1)%L]
	if k <= now-w {
		r.Allowed = true
		r.RetryAfter = 0
		return
	}
	r.Allowed = false
	r.RetryAfter = time.Duration(k + w - now)
	slidingState(ring, head, now, w, r)
}

// slidingState counts the units still in the window (binary search: the
// ring is sorted from head) and the time until all have left it.
func slidingState(ring []int64, head int, now, w int64, r *Result) {
	L := len(ring)
	lo, hi := 0, L // first position whose entry is still in the window
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ring[(head+m)%L] <= now-w {
			lo = m + 1
		} else {
			hi = m
		}
	}
	r.Remaining = lo
	newest := ring[(head+L-1)%L]
	r.ResetAfter = time.Duration(max(newest+w-now, 0))
}
