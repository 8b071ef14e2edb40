package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// MinSecretLen is the shortest hashing secret New and NewHasher accept.
const MinSecretLen = 32

// hashScheme starts every stored hash: "hmac-sha256:<secret id>:<digest>".
const hashScheme = "hmac-sha256"

// A Hasher computes the stored form of keys: HMAC-SHA-256 under a server
// secret. It holds a list of secrets for rotation: the first (newest)
// hashes new keys, every one verifies the keys hashed under it. Each
// secret has a short public identifier (SecretID) that stored hashes
// name, so that verification computes one HMAC, not one per secret. A
// Hasher is immutable and safe for concurrent use.
type Hasher struct {
	secrets []*secret
}

type secret struct {
	id   string
	sid  uint32    // id's value
	pool sync.Pool // of *hmacState
}

type hmacState struct {
	h   hash.Hash
	in  [MaxKeyLen]byte
	out [sha256.Size]byte
}

// NewHasher returns a Hasher for secrets, newest first. Each must be at
// least MinSecretLen bytes (make one with `openssl rand -base64 48`); two
// equal secrets are refused.
func NewHasher(secrets ...[]byte) (*Hasher, error) {
	if len(secrets) == 0 {
		return nil, errors.New("apikey: a hashing secret is required (at least 32 random bytes, e.g. `openssl rand -base64 48`)")
	}
	h := &Hasher{}
	seen := map[string]bool{}
	for i, s := range secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("apikey: hashing secret %d is %d bytes; use at least %d random bytes (e.g. `openssl rand -base64 48`)", i, len(s), MinSecretLen)
		}
		id := SecretID(s)
		if seen[id] {
			return nil, fmt.Errorf("apikey: hashing secret %d repeats an earlier one", i)
		}
		seen[id] = true
		key := append([]byte(nil), s...)
		sc := &secret{id: id, sid: hexID(id)}
		sc.pool.New = func() any { return &hmacState{h: hmac.New(sha256.New, key)} }
		h.secrets = append(h.secrets, sc)
	}
	return h, nil
}

// SecretID returns the public identifier of a hashing secret: 8 hex
// digits of a SHA-256 of it, which stored hashes name. It tells nothing
// useful about the secret.
func SecretID(s []byte) string {
	sum := sha256.Sum256(append([]byte("bulwark apikey secret id\x00"), s...))
	return hex.EncodeToString(sum[:4])
}

// SecretIDs returns the identifiers of the Hasher's secrets, newest first.
func (h *Hasher) SecretIDs() []string {
	ids := make([]string, len(h.secrets))
	for i, s := range h.secrets {
		ids[i] = s.id
	}
	return ids
}

// Hash returns the stored form of key under the newest secret:
// "hmac-sha256:<secret id>:<base64url digest, unpadded>". key must be at
// most MaxKeyLen bytes.
func (h *Hasher) Hash(key string) (string, error) {
	if len(key) > MaxKeyLen || key == "" {
		return "", fmt.Errorf("apikey: a key must be 1 to %d bytes", MaxKeyLen)
	}
	var d [sha256.Size]byte
	h.secrets[0].sum(key, &d)
	return hashScheme + ":" + h.secrets[0].id + ":" + base64.RawURLEncoding.EncodeToString(d[:]), nil
}

// secretBySID returns the secret whose identifier's value is sid, or
// nil (a number, so that a check need not read the entry's identifier
// string).
func (h *Hasher) secretBySID(sid uint32) *secret {
	for _, s := range h.secrets {
		if s.sid == sid {
			return s
		}
	}
	return nil
}

// hexID returns the value of a secret identifier (8 lower-case hex
// digits, as parseHash and SecretID ensure).
func hexID(id string) uint32 {
	var v uint32
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		}
		v = v<<4 | uint32(c)
	}
	return v
}

// sum writes the HMAC of key (at most MaxKeyLen bytes) to out, without
// allocating.
func (s *secret) sum(key string, out *[sha256.Size]byte) {
	st := s.pool.Get().(*hmacState)
	st.h.Reset()
	n := copy(st.in[:], key)
	st.h.Write(st.in[:n])
	st.h.Sum(st.out[:0])
	*out = st.out
	s.pool.Put(st)
}

// parseHash splits a stored hash into its secret identifier and digest.
func parseHash(s string) (id string, digest [sha256.Size]byte, err error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme != hashScheme {
		return "", digest, fmt.Errorf("apikey: hash %q: want %s:<secret id>:<base64url digest>", truncate(s), hashScheme)
	}
	id, enc, ok := strings.Cut(rest, ":")
	if !ok || len(id) != 8 || !isHex(id) {
		return "", digest, fmt.Errorf("apikey: hash %q: the secret id must be 8 hex digits", truncate(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) != sha256.Size {
		return "", digest, fmt.Errorf("apikey: hash %q: the digest must be 32 bytes of unpadded base64url", truncate(s))
	}
	copy(digest[:], b)
	return id, digest, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
