package jwt

import (
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/authn"
)

// DefaultCacheSize is the default number of verified tokens remembered.
const DefaultCacheSize = 4096

// cacheEntry is one verified token. It is immutable once published, but
// for alt, which fills in lazily.
type cacheEntry struct {
	token    string
	p        *authn.Principal // as first verified, with that request's Source
	deadline int64            // on the verifier's cache clock: the entry is dead from then on
	gen      uint64           // key set generation when verified
	jtiKey   string           // revocation store keys, precomputed ("" when none)
	sidKey   string
	iat      time.Time // for the state-reset check
	// alt holds the principal for the other sources the same token was
	// presented from (a token sent in a header once and in a cookie
	// later): the principal records its source, and cached principals are
	// shared, so each source gets its own copy, made once.
	alt [numSources]atomic.Pointer[authn.Principal]
}

// numSources bounds the authn.CredentialSource values a cache entry
// keeps principals for (unknown, header, cookie, query).
const numSources = 4

// principal returns the entry's principal for a request whose token came
// from src. It allocates only the first time a token is seen from a
// second source.
func (e *cacheEntry) principal(src authn.CredentialSource) *authn.Principal {
	if e.p.Source == src {
		return e.p
	}
	if int(src) >= numSources {
		c := *e.p
		c.Source = src
		return &c
	}
	slot := &e.alt[src]
	if p := slot.Load(); p != nil {
		return p
	}
	c := *e.p
	c.Source = src
	if slot.CompareAndSwap(nil, &c) {
		return &c
	}
	return slot.Load()
}

// tokenCache is a direct-mapped cache of verified tokens: a fixed array of
// slots indexed by a seeded hash of the whole token. It is bounded by
// construction (a colliding insert replaces the slot), lock-free (one
// atomic load per lookup) and allocation-free on a hit.
//
// A hit is confirmed by comparing the full token. The comparison is not
// constant-time, deliberately: the slot depends on a per-process random
// seed and on every byte of the presented token, so an attacker cannot aim
// repeated guesses at one cached entry to learn it byte by byte.
type tokenCache struct {
	seed  maphash.Seed
	mask  uint64
	slots []atomic.Pointer[cacheEntry]
}

func newTokenCache(size int) *tokenCache {
	n := 1
	for n < size {
		n <<= 1
	}
	return &tokenCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), slots: make([]atomic.Pointer[cacheEntry], n)}
}

func (c *tokenCache) get(token string) *cacheEntry {
	e := c.slots[maphash.String(c.seed, token)&c.mask].Load()
	if e == nil || e.token != token {
		return nil
	}
	return e
}

func (c *tokenCache) put(e *cacheEntry) {
	c.slots[maphash.String(c.seed, e.token)&c.mask].Store(e)
}

// drop removes token's entry if it is cached.
func (c *tokenCache) drop(token string) {
	slot := &c.slots[maphash.String(c.seed, token)&c.mask]
	if e := slot.Load(); e != nil && e.token == token {
		slot.CompareAndSwap(e, nil)
	}
}
