package abuse

import (
	"hash/maphash"
	"sync/atomic"
)

// The client cache: a guard computes HMAC(secret, client) once per client
// rather than once per request, keeping the digest in a small bounded
// table (see the package documentation, "Secrets and privacy"). Only
// sources derived from the client's address use it (Client, ClientPrefix,
// Global); card numbers, usernames, emails, API keys and principals are
// HMAC'd on every request and never cached.

const (
	// keyCacheSlots is the table's size: direct-mapped, one entry per
	// slot, a new client replacing whichever shared its slot. 16,384 slots
	// hold most of a working set of 10,000 clients; the table costs 128 KiB
	// of pointers plus 80 bytes per filled slot (under 1.5 MiB in all).
	keyCacheSlots = 1 << 14
	// keyCacheMaxRaw is the longest raw value cached ("ffff:...::/64" is
	// 24 bytes; an IPv6 prefix of other length at most 43).
	keyCacheMaxRaw = 47
)

// keyCacheEntry is immutable once published: a raw client value and the
// hex of its HMAC.
type keyCacheEntry struct {
	n   uint8
	raw [keyCacheMaxRaw]byte
	hex [32]byte
}

type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[keyCacheEntry]
}

func newKeyCache() *keyCache { return &keyCache{seed: maphash.MakeSeed()} }

func (c *keyCache) slot(raw []byte) *atomic.Pointer[keyCacheEntry] {
	return &c.slots[maphash.Bytes(c.seed, raw)&(keyCacheSlots-1)]
}

// hmacOf returns prefix + the hex HMAC of raw, aliasing sc's arena: from
// the client cache when src allows it and raw is there, else computed (and,
// when src allows it, cached).
func (g *Guard) hmacOf(sc *scratch, prefix string, raw []byte, src *Source) string {
	if !src.cache || g.cache == nil || len(raw) > keyCacheMaxRaw {
		return sc.sum(prefix, raw)
	}
	slot := g.cache.slot(raw)
	if e := slot.Load(); e != nil && string(e.raw[:e.n]) == string(raw) {
		return sc.appendHex(prefix, e.hex[:])
	}
	s := sc.sum(prefix, raw)
	e := &keyCacheEntry{n: uint8(len(raw))}
	copy(e.raw[:], raw)
	copy(e.hex[:], s[len(prefix):])
	slot.Store(e)
	return s
}
