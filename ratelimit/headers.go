package ratelimit

import (
	"net/http"
	"strconv"
	"time"
	"unsafe"
)

// SetHeaders writes the RateLimit-Policy and RateLimit headers for d (and
// the legacy X-RateLimit-* ones if enabled) into h, whatever
// Options.Headers says. It writes nothing for a decision without a policy
// (FailOpen).
//
// Both headers are Structured Field lists, so SetHeaders adds to them
// rather than replacing them: when limiters are nested (a login limit
// inside a site-wide bucket) the response lists every policy and each one's
// state. A limiter's own members are never repeated: its policies are
// added once, and its RateLimit member replaces an earlier one of the same
// policy name. The legacy headers are not lists; they describe the most
// restrictive limit, the one with the fewest units remaining. For a
// decision with CostTooHigh only the policy (and the legacy limit) is
// written: the request can never pass, so no RateLimit member invites a
// retry.
func (l *Limiter) SetHeaders(h http.Header, d Decision) {
	if d.index < 0 || d.Policy == "" {
		return
	}
	own := addPolicy(h, l.policyHdr)
	if d.CostTooHigh {
		if l.legacy {
			h["X-Ratelimit-Limit"] = l.limitHdr[d.index]
		}
		return
	}
	// One allocation holds every value written: the RateLimit member, and
	// the legacy remaining and reset, which are parts of it.
	buf := new(headerValues)
	v := append(buf.b[:0], '"')
	v = append(v, d.Policy...)
	v = append(v, `";r=`...)
	r0 := len(v)
	v = strconv.AppendInt(v, int64(d.Remaining), 10)
	r1 := len(v)
	v = append(v, ";t="...)
	t0 := len(v)
	v = strconv.AppendInt(v, seconds(d.ResetAfter), 10)
	s := unsafe.String(&v[0], len(v)) // v is never written again
	buf.vals = [3]string{s, s[r0:r1], s[t0:]}
	addMember(h, "Ratelimit", d.Policy, buf.vals[0:1:1], own)
	if l.legacy && !moreRestrictive(h, d.Remaining) {
		h["X-Ratelimit-Limit"] = l.limitHdr[d.index]
		h["X-Ratelimit-Remaining"] = buf.vals[1:2:2]
		h["X-Ratelimit-Reset"] = buf.vals[2:3:3]
	}
}

// headerValues is the one allocation behind a response's rate-limit
// header values.
type headerValues struct {
	vals [3]string // RateLimit member, X-RateLimit-Remaining, X-RateLimit-Reset
	b    [96]byte  // their bytes: a quoted name of ≤ 64 bytes and two numbers
}

// addPolicy adds a limiter's RateLimit-Policy members (one value, built
// once) to h, unless they are there already. It reports whether they were:
// then an earlier RateLimit member of the same name is this policy's own
// (written again), not another limiter's that happens to share the name.
func addPolicy(h http.Header, p []string) (present bool) {
	old := h["Ratelimit-Policy"]
	if len(old) == 0 {
		h["Ratelimit-Policy"] = p // the common case: shared, never written to
		return false
	}
	for _, v := range old {
		if v == p[0] {
			return true
		}
	}
	h["Ratelimit-Policy"] = append(old[:len(old):len(old)], p[0]) // a copy: old may be shared
	return false
}

// addMember adds the RateLimit member of policy name to h. With replace,
// an earlier member of the same name is this limiter's own and is dropped;
// otherwise a member of another limiter that shares the name (two unnamed
// limiters are both "default") is kept beside it, never silently lost.
func addMember(h http.Header, key, name string, item []string, replace bool) {
	old := h[key]
	if len(old) == 0 {
		h[key] = item
		return
	}
	out := make([]string, 0, len(old)+1)
	for _, v := range old {
		if !replace || !(len(v) > len(name)+1 && v[0] == '"' && v[1:1+len(name)] == name && v[1+len(name)] == '"') {
			out = append(out, v)
		}
	}
	h[key] = append(out, item[0])
}

// moreRestrictive reports whether h's legacy headers already describe a
// limit with at most remaining units left.
func moreRestrictive(h http.Header, remaining int) bool {
	old := h["X-Ratelimit-Remaining"]
	if len(old) == 0 {
		return false
	}
	n, err := strconv.Atoi(old[0])
	return err == nil && n <= remaining
}

// seconds rounds d up to whole seconds (0 stays 0).
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
