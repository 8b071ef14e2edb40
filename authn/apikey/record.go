package apikey

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/internal/prefetch"
)

// Record is what a store keeps for one key: never the key, only its hash.
// It is the record format of the package documentation, one JSON object
// per key (`bulwark apikey new` prints one; the gateway's config and
// LoadStatic read them).
type Record struct {
	// ID identifies the key. For a key in Bulwark's format it is the
	// key's identifier part (IDLen base62 characters), by which stores
	// look it up; for a legacy key, a label of the operator's choosing
	// (letters, digits, '.', '_', '-'; at most 64 bytes).
	ID string `json:"id" yaml:"id"`
	// Hash is the key's HMAC: "hmac-sha256:<secret id>:<digest>" (see
	// Hasher.Hash). Required.
	Hash string `json:"hash" yaml:"hash"`
	// Owner is who the key acts for (a user, a service); the principal's
	// Subject, or the ID when empty. One owner may hold several keys
	// (rotation: issue a new key, deploy it, revoke the old one).
	Owner string `json:"owner,omitempty" yaml:"owner,omitempty"`
	// Name is a free-form note ("ci deploys").
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Scopes and Roles are granted to the principal; see package authz.
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	Roles  []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	// CreatedAt is when the key was made.
	CreatedAt time.Time `json:"created_at,omitzero" yaml:"created_at,omitempty"`
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt time.Time `json:"expires_at,omitzero" yaml:"expires_at,omitempty"`
	// RevokedAt, when set, is when the key was revoked: it is refused
	// (reason apikey_revoked) and kept for the record.
	RevokedAt time.Time `json:"revoked_at,omitzero" yaml:"revoked_at,omitempty"`
	// LastUsedAt is when the key last authenticated a request, as far as
	// the store knows (writes are coalesced: see the package doc).
	LastUsedAt time.Time `json:"last_used_at,omitzero" yaml:"last_used_at,omitempty"`
	// Legacy marks a key that is not in Bulwark's format — one migrated
	// from an existing system — which is found by its hash, not its ID.
	// Accepted only when Options.Legacy is set.
	Legacy bool `json:"legacy,omitempty" yaml:"legacy,omitempty"`
}

// Entry is a validated, immutable Record ready for verification: its
// hash decoded, its principals built once. Stores hold and return
// entries; make them with NewEntry. Safe for concurrent use.
type Entry struct {
	// The fields a verification reads come first, within the first
	// cache line or two of the entry (stores hold many entries; a check
	// of a cold one is bound by memory latency).
	digest     [sha256.Size]byte
	expires    int64        // Unix nanoseconds; 0: never
	touched    atomic.Int64 // Unix seconds of the last last-used report
	sid        uint32       // secretID's value
	revoked    bool
	legacy     bool
	principals [4]*authn.Principal // by authn.CredentialSource

	secretID string
	rec      Record
}

// prefetch starts loading the cache lines of the fields a check reads —
// those up to legacy (at most two lines) and the principal for src — so
// that the CPU fetches them while it computes the HMAC. Entries are
// allocated wherever the heap had room (a cache fills in the order keys
// are used), so a check of a cold key would otherwise wait for memory.
//
// The addresses are computed with unsafe.Add, not as &e.field: taking a
// field's address makes the compiler check e for nil with a load of it —
// the very wait the prefetch is to avoid.
func (e *Entry) prefetch(src authn.CredentialSource) {
	p := unsafe.Pointer(e)
	prefetch.Line(p) // digest first
	prefetch.Line(unsafe.Add(p, unsafe.Offsetof(e.legacy)))
	if int(src) < len(e.principals) {
		prefetch.Line(unsafe.Add(p, unsafe.Offsetof(e.principals)+uintptr(src)*unsafe.Sizeof(e.principals[0])))
	}
}

// KeyInfo is what a principal authenticated by an API key carries in
// CredentialInfo; read it with InfoOf.
type KeyInfo struct {
	ID     string // the record's ID
	Owner  string
	Name   string
	Legacy bool
}

// InfoOf returns the API key that authenticated p, if it was one.
func InfoOf(p *authn.Principal) (*KeyInfo, bool) {
	if p == nil {
		return nil, false
	}
	k, ok := p.CredentialInfo.(*KeyInfo)
	return k, ok
}

// ValidGrant reports whether s can be a scope or role of a record: 1 to
// 128 bytes, none of them a space, a control character, a quote or a
// backslash (so that grants read back unambiguously from the record
// format and from RFC 6750 scope strings).
func ValidGrant(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '"' || c == '\\' })
}

// NewEntry validates r and returns its Entry.
func NewEntry(r Record) (*Entry, error) {
	if err := validID(r.ID, r.Legacy); err != nil {
		return nil, err
	}
	id, digest, err := parseHash(r.Hash)
	if err != nil {
		return nil, fmt.Errorf("apikey: record %s: %w", r.ID, err)
	}
	for _, list := range [][]string{r.Scopes, r.Roles} {
		for _, s := range list {
			if !ValidGrant(s) {
				return nil, fmt.Errorf("apikey: record %s: scope or role %q must be 1 to 128 printable characters without spaces, quotes or backslashes", r.ID, s)
			}
		}
	}
	if len(r.Owner) > 256 || len(r.Name) > 256 {
		return nil, fmt.Errorf("apikey: record %s: owner and name are at most 256 bytes", r.ID)
	}
	r.Scopes = slices.Clone(r.Scopes)
	r.Roles = slices.Clone(r.Roles)
	e := &Entry{rec: r, secretID: id, sid: hexID(id), digest: digest, revoked: !r.RevokedAt.IsZero(), legacy: r.Legacy}
	if !r.ExpiresAt.IsZero() {
		e.expires = r.ExpiresAt.UnixNano()
	}
	subject := r.Owner
	if subject == "" {
		subject = r.ID
	}
	info := &KeyInfo{ID: r.ID, Owner: r.Owner, Name: r.Name, Legacy: r.Legacy}
	claims := map[string]any{"apikey.id": r.ID}
	for src := range e.principals {
		e.principals[src] = &authn.Principal{
			Subject: subject, Method: "apikey", Roles: r.Roles, Scopes: r.Scopes,
			TokenID: r.ID, ExpiresAt: r.ExpiresAt, Claims: claims, ID: "apikey:" + subject,
			Source: authn.CredentialSource(src), CredentialInfo: info,
		}
	}
	return e, nil
}

func validID(id string, legacy bool) error {
	if !legacy {
		if len(id) != IDLen || !isBase62(id) {
			return fmt.Errorf("apikey: record id %q: a key in Bulwark's format has an id of %d base62 characters (set legacy for a migrated key)", truncate(id), IDLen)
		}
		return nil
	}
	ok := id != "" && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = isBase62(id[i:i+1]) || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("apikey: record id %q: use 1 to 64 letters, digits, '.', '_' or '-'", truncate(id))
	}
	return nil
}

// Record returns a copy of the entry's record.
func (e *Entry) Record() Record {
	r := e.rec
	r.Scopes = slices.Clone(r.Scopes)
	r.Roles = slices.Clone(r.Roles)
	return r
}

// ID returns the record's ID.
func (e *Entry) ID() string { return e.rec.ID }

// Legacy reports whether the entry is a legacy key, found by its hash.
func (e *Entry) Legacy() bool { return e.rec.Legacy }

// SecretID returns the identifier of the hashing secret the entry's hash
// was made with (after a rotation, entries under retired secrets are the
// keys to reissue).
func (e *Entry) SecretID() string { return e.secretID }

// Digest returns the entry's HMAC digest, by which legacy keys are found.
func (e *Entry) Digest() [sha256.Size]byte { return e.digest }

// Spec describes a key to generate.
type Spec struct {
	// Prefix is the key's prefix. Default DefaultPrefix.
	Prefix string
	// Owner, Name, Scopes, Roles: as in Record.
	Owner  string
	Name   string
	Scopes []string
	Roles  []string
	// TTL, when positive, sets ExpiresAt that long after now.
	TTL time.Duration
	// Now stamps CreatedAt. Default time.Now.
	Now func() time.Time
}

// Generate makes a new key in Bulwark's format, with at least 128 bits
// from crypto/rand, and the record to store: its hash under h's newest
// secret. Show the key to its holder once; keep only the record.
func Generate(h *Hasher, spec Spec) (key string, rec Record, err error) {
	if h == nil {
		return "", Record{}, errors.New("apikey: Generate needs a Hasher")
	}
	prefix := spec.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := ValidatePrefix(prefix); err != nil {
		return "", Record{}, err
	}
	if spec.TTL < 0 {
		return "", Record{}, errors.New("apikey: a negative TTL; use 0 for a key that does not expire")
	}
	now := time.Now
	if spec.Now != nil {
		now = spec.Now
	}
	key, id, err := newKey(prefix)
	if err != nil {
		return "", Record{}, err
	}
	hash, err := h.Hash(key)
	if err != nil {
		return "", Record{}, err
	}
	t := now().UTC().Truncate(time.Second)
	rec = Record{ID: id, Hash: hash, Owner: spec.Owner, Name: spec.Name,
		Scopes: slices.Clone(spec.Scopes), Roles: slices.Clone(spec.Roles), CreatedAt: t}
	if spec.TTL > 0 {
		rec.ExpiresAt = t.Add(spec.TTL)
	}
	if _, err := NewEntry(rec); err != nil {
		return "", Record{}, err
	}
	return key, rec, nil
}

// LegacyRecord returns the record of key, an existing key not in
// Bulwark's format that is being migrated: its hash under h's newest
// secret, marked Legacy, under the label id.
func LegacyRecord(h *Hasher, id, key string, scopes ...string) (Record, error) {
	if h == nil {
		return Record{}, errors.New("apikey: LegacyRecord needs a Hasher")
	}
	hash, err := h.Hash(key)
	if err != nil {
		return Record{}, err
	}
	r := Record{ID: id, Hash: hash, Scopes: slices.Clone(scopes), Legacy: true}
	if _, err := NewEntry(r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// MaxRecordsSize bounds what ReadRecords reads: 64 MiB.
const MaxRecordsSize = 64 << 20

// ReadRecords decodes records: a JSON array of records, or JSON Lines
// (one record per line, blank lines and lines starting with '#' ignored).
// Unknown fields are errors, so a misspelt field is never silently
// dropped.
func ReadRecords(r io.Reader) ([]Record, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxRecordsSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRecordsSize {
		return nil, fmt.Errorf("apikey: records exceed %d bytes", MaxRecordsSize)
	}
	decode := func(data []byte, v any) error {
		d := json.NewDecoder(bytes.NewReader(data))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return err
		}
		if d.More() {
			return errors.New("trailing data")
		}
		return nil
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var recs []Record
		if err := decode(t, &recs); err != nil {
			return nil, fmt.Errorf("apikey: records: %w", err)
		}
		return recs, nil
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var rec Record
		if err := decode(line, &rec); err != nil {
			return nil, fmt.Errorf("apikey: records line %d: %w", n, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("apikey: records: %w", err)
	}
	return recs, nil
}
