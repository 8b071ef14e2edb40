package apikey

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/authn/apikey/internal/idtable"
)

// Store finds key records. A miss is (nil, nil); an error means the store
// could not answer, and when its backend is unreachable it matches
// store.ErrUnavailable (errors.Is): the authenticator then answers 503,
// never 401. Lookups must be safe for concurrent use and should not
// allocate for a hit (the entry is shared and immutable).
type Store interface {
	// Lookup returns the entry of the key in Bulwark's format whose
	// identifier is id.
	Lookup(ctx context.Context, id string) (*Entry, error)
}

// LegacyStore is a Store that also holds legacy keys, found by the HMAC
// digest of the whole key under the secret secretID. The authenticator
// asks it (once per configured secret) only with Options.Legacy.
type LegacyStore interface {
	Store
	LookupDigest(ctx context.Context, secretID string, digest *[sha256.Size]byte) (*Entry, error)
}

// Toucher is a Store that records when keys were last used. The
// authenticator calls Touch from a background goroutine with the keys
// used since the last call (by record ID), at most once per key per
// Options.LastUsedInterval: never on a request's path, never once per
// request.
type Toucher interface {
	Touch(ctx context.Context, used map[string]time.Time) error
}

// Static is an in-memory Store of records — from configuration or a file
// (LoadStatic), hashes only. It holds keys in Bulwark's format (by ID)
// and legacy keys (by hash), and records last-used times in memory. Put
// and Revoke change it at run time; the source file is the operator's to
// update. Lookups take a read lock and allocate nothing. Safe for
// concurrent use.
type Static struct {
	mu       sync.RWMutex
	byID     map[string]*Entry
	fast     *idtable.Table[*Entry] // the entries of keys in Bulwark's format, by ID
	byDigest map[digestKey]*Entry
	used     map[string]time.Time
}

// The identifier length the table holds is the package's.
var _ [IDLen - idtable.Len]struct{}
var _ [idtable.Len - IDLen]struct{}

// idKey returns the table key of id, the ID of a valid record in
// Bulwark's format (IDLen base62 bytes).
func idKey(id string) idtable.Key {
	k, _ := idtable.KeyOf(id)
	return k
}

type digestKey struct {
	secret string
	digest [sha256.Size]byte
}

// prefetcher is a Store that takes hints of the lookups to come (Static,
// rediskeys' Store): see Static.Prefetch.
type prefetcher interface {
	Prefetch(id string)
}

var (
	_ LegacyStore = (*Static)(nil)
	_ Toucher     = (*Static)(nil)
	_ prefetcher  = (*Static)(nil)
)

// NewStatic validates records and returns a Static store holding them.
// Two records with one ID, or one hash, are refused.
func NewStatic(records ...Record) (*Static, error) {
	s := &Static{byID: make(map[string]*Entry, len(records)), fast: idtable.New[*Entry](len(records)), byDigest: map[digestKey]*Entry{}, used: map[string]time.Time{}}
	for _, r := range records {
		if _, dup := s.byID[r.ID]; dup {
			return nil, fmt.Errorf("apikey: two records have the id %q", r.ID)
		}
		if err := s.put(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// LoadStatic reads a Static store from a file in the record format (see
// ReadRecords: a JSON array or JSON Lines).
func LoadStatic(path string) (*Static, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("apikey: %w", err)
	}
	defer f.Close()
	recs, err := ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return NewStatic(recs...)
}

func (s *Static) put(r Record) error {
	e, err := NewEntry(r)
	if err != nil {
		return err
	}
	dk := digestKey{e.secretID, e.digest}
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, dup := s.byDigest[dk]; dup && other.rec.ID != r.ID {
		return fmt.Errorf("apikey: records %q and %q have the same hash", other.rec.ID, r.ID)
	}
	if old := s.byID[r.ID]; old != nil {
		delete(s.byDigest, digestKey{old.secretID, old.digest})
		if !old.legacy {
			s.fast.Delete(idKey(r.ID))
		}
	}
	s.byID[r.ID] = e
	if !e.legacy {
		s.fast.Put(idKey(r.ID), e) // NewEntry checked the ID
	}
	s.byDigest[dk] = e
	return nil
}

// Put adds or replaces a record.
func (s *Static) Put(r Record) error { return s.put(r) }

// Revoke marks the record id revoked (at the time at): its key is
// refused from now on. It reports whether the record existed.
func (s *Static) Revoke(id string, at time.Time) bool {
	s.mu.RLock()
	e := s.byID[id]
	s.mu.RUnlock()
	if e == nil {
		return false
	}
	r := e.rec
	r.RevokedAt = at
	return s.put(r) == nil
}

// Lookup implements Store.
// Legacy keys are found by hash only.
func (s *Static) Lookup(_ context.Context, id string) (*Entry, error) {
	k, ok := idtable.KeyOf(id)
	if !ok {
		return nil, nil
	}
	s.mu.RLock()
	e, _ := s.fast.Get(k)
	s.mu.RUnlock()
	return e, nil
}

// Prefetch is a hint that a Lookup of id follows shortly: it starts
// loading the memory that lookup reads, so that the CPU fetches it while
// the caller does other work (the authenticator calls it before it
// checks the key's format). It takes no lock and changes nothing.
func (s *Static) Prefetch(id string) {
	if k, ok := idtable.KeyOf(id); ok {
		s.fast.Prefetch(k)
	}
}

// LookupDigest implements LegacyStore.
func (s *Static) LookupDigest(_ context.Context, secretID string, digest *[sha256.Size]byte) (*Entry, error) {
	s.mu.RLock()
	e := s.byDigest[digestKey{secretID, *digest}]
	s.mu.RUnlock()
	if e != nil && !e.legacy {
		return nil, nil
	}
	return e, nil
}

// Touch implements Toucher, in memory.
func (s *Static) Touch(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range used {
		if _, ok := s.byID[id]; ok && t.After(s.used[id]) {
			s.used[id] = t
		}
	}
	return nil
}

// Records returns the store's records (LastUsedAt filled in from Touch),
// for display; owner, when not empty, selects that owner's keys.
func (s *Static) Records(owner string) []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Record, 0, len(s.byID))
	for _, e := range s.byID {
		if owner != "" && e.rec.Owner != owner {
			continue
		}
		r := e.Record()
		if t, ok := s.used[r.ID]; ok {
			r.LastUsedAt = t
		}
		out = append(out, r)
	}
	return out
}
