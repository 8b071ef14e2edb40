package jwt

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// A KeySet finds the keys that may verify a token. Implementations must be
// safe for concurrent use; StaticKeySet and jwks.Remote are provided.
type KeySet interface {
	// Lookup returns the candidate keys for a token naming kid (possibly
	// "") and alg. It may return keys bound to another algorithm: the
	// verifier refuses those, so a set never has to filter. A miss is an
	// empty result with a nil error; an error means the set could not
	// answer (a remote set that cannot refresh). An error that is a
	// *problem.Problem (jwks answers a 503 with Retry-After) is the
	// Verifier's answer as it is; any other refuses the token as invalid.
	Lookup(ctx context.Context, kid, alg string) ([]*Key, error)
	// Generation changes whenever keys are added or removed, so that
	// tokens verified with a withdrawn key drop out of the cache.
	Generation() uint64
}

// StaticKeySet is a fixed set of keys, for keys from configuration, files
// and the environment. Several keys may be active at once: during a
// rotation, the old key keeps verifying tokens it signed while the new one
// signs, each found by its kid.
type StaticKeySet struct {
	keys      []*Key
	byID      map[string][]*Key
	anonymous map[string][]*Key // keys without an ID, by alg: they serve any kid
	byAlg     map[string][]*Key // every key, by alg: for tokens without a kid
}

// NewKeySet returns a set of keys. Two keys with the same non-empty ID are
// refused: a kid must name one key.
func NewKeySet(keys ...*Key) (*StaticKeySet, error) {
	s := &StaticKeySet{byID: map[string][]*Key{}, anonymous: map[string][]*Key{}, byAlg: map[string][]*Key{}}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("jwt: key %d is nil", i)
		}
		if k.id != "" {
			if len(s.byID[k.id]) > 0 {
				return nil, fmt.Errorf("jwt: two keys have kid %s; give each key its own ID", quoteForError(k.id))
			}
			s.byID[k.id] = []*Key{k}
		} else {
			s.anonymous[k.alg.name] = append(s.anonymous[k.alg.name], k)
		}
		s.byAlg[k.alg.name] = append(s.byAlg[k.alg.name], k)
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// Lookup implements KeySet: the key named kid, else the keys without an ID
// bound to alg; for a token without a kid, every key bound to alg.
func (s *StaticKeySet) Lookup(_ context.Context, kid, alg string) ([]*Key, error) {
	if kid == "" {
		return s.byAlg[alg], nil
	}
	if ks := s.byID[kid]; ks != nil {
		return ks, nil
	}
	return s.anonymous[alg], nil
}

// lookupBytes is Lookup without converting kid to a string.
func (s *StaticKeySet) lookupBytes(kid []byte, alg string) []*Key {
	if len(kid) == 0 {
		return s.byAlg[alg]
	}
	if ks := s.byID[string(kid)]; ks != nil {
		return ks
	}
	return s.anonymous[alg]
}

// Generation implements KeySet; a static set never changes.
func (s *StaticKeySet) Generation() uint64 { return 0 }

// Keys returns the keys of the set.
func (s *StaticKeySet) Keys() []*Key { return append([]*Key(nil), s.keys...) }

// Describe returns the keys' descriptions, without secrets.
func (s *StaticKeySet) Describe() []KeyDescription {
	out := make([]KeyDescription, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.Describe()
	}
	return out
}

// LoadJWKSFile reads a local JWKS file into a static set. HMAC (oct) keys
// are allowed in a local file, but not mixed with public keys.
func LoadJWKSFile(path string, opts JWKSOptions) (*StaticKeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt: reading JWKS file: %w", err)
	}
	opts.AllowSymmetric = true
	keys, skipped, err := ParseJWKSSkipped(data, opts)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwt: the JWKS file holds no usable signature key%s", skipSummary(skipped))
	}
	for i, k := range keys {
		keys[i] = k.WithSource("jwks-file:" + path)
	}
	return NewKeySet(keys...)
}

// skipSummary formats skipped keys for an error message: "" when there
// are none, else " (skipped: key 0 (...): reason; ...)".
func skipSummary(skipped []SkippedKey) string {
	if len(skipped) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" (skipped: ")
	for i, s := range skipped {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.String())
	}
	b.WriteString(")")
	return b.String()
}

// describer is implemented by key sets that can describe their keys.
type describer interface {
	Describe() []KeyDescription
}
