package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// errNotSigning marks a JWK that is well formed but not a signature key we
// use (use "enc", key_ops without sign/verify, an algorithm or curve we do
// not support): a JWKS skips it instead of failing.
var errNotSigning = errors.New("jwt: not a supported signature key")

// errNoAlg marks a well-formed RSA or oct JWK without an "alg" member when
// no default algorithm is configured: it cannot be bound to one algorithm
// (RFC 7517 §4.4 makes alg optional; Microsoft Entra and others omit it), so
// a JWKS skips it instead of failing.
var errNoAlg = errors.New("jwt: the key names no algorithm")

// maxJWKSize bounds one JWK document; maxJWKSKeys the keys of a set.
const (
	maxJWKSize  = 1 << 20
	maxJWKSKeys = 100
)

// ParseJWK reads one JSON Web Key (RFC 7517) and binds it to its "alg"
// member, or to defaultAlg when it has none (EC and Ed25519 keys imply
// theirs; RSA and oct keys need one). A JWK whose "use" is not "sig", whose
// "key_ops" allow neither sign nor verify, or whose alg disagrees with its
// key type or curve is refused. Member names are matched exactly (JOSE
// names are case-sensitive) and base64url values must be canonical and
// unpadded.
func ParseJWK(data []byte, defaultAlg string) (*Key, error) {
	if len(data) > maxJWKSize {
		return nil, errors.New("jwt: JWK too large")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, fmt.Errorf("jwt: invalid JWK JSON: %v", err)
	}
	return parseJWKMembers(m, defaultAlg)
}

// JWKSOptions control ParseJWKS.
type JWKSOptions struct {
	// DefaultAlg is used for RSA and oct keys without an "alg" member (some
	// identity providers, Microsoft Entra among them, omit it). Default:
	// none; ParseJWKS then skips such keys (EC and Ed25519 keys imply their
	// algorithm) and ParseJWK refuses them.
	DefaultAlg string
	// AllowSymmetric admits "oct" (HMAC) keys. Leave it false for sets
	// fetched from a URL: a secret key in a published document is no
	// secret.
	AllowSymmetric bool
}

// ParseJWKS reads a JSON Web Key Set ({"keys":[...]}). Keys that are not
// signature keys we support (use "enc", RSA-OAEP keys, unknown curves) and
// RSA or oct keys without an "alg" member when opts.DefaultAlg is empty
// (they cannot be bound to one algorithm) are skipped; ParseJWKSSkipped
// also says which and why. A malformed signature key (bad point, short or
// ROCA-weak RSA modulus, short secret), two keys with one kid, a set mixing
// HMAC secrets with public keys, or an HMAC signing secret in a set that
// does not allow them fail the whole set, which is then ambiguous or
// suspect. A set whose every key was skipped is not an error here: the
// result is empty, and callers that need a key (LoadJWKSFile, jwks.Remote)
// refuse it.
func ParseJWKS(data []byte, opts JWKSOptions) ([]*Key, error) {
	keys, _, err := ParseJWKSSkipped(data, opts)
	return keys, err
}

// SkippedKey describes a JWK that ParseJWKSSkipped left out of the set.
type SkippedKey struct {
	Index  int    `json:"index"`         // position in the "keys" array
	ID     string `json:"kid,omitempty"` // its kid, if it has one
	Type   string `json:"kty,omitempty"` // its kty
	Reason string `json:"reason"`        // why it was skipped
}

// String describes the skipped key and the reason, for logs.
func (s SkippedKey) String() string {
	return fmt.Sprintf("key %d (kty %s, kid %s): %s", s.Index, quoteForError(s.Type), quoteForError(s.ID), s.Reason)
}

// ParseJWKSSkipped is ParseJWKS that also returns the keys it skipped, with
// the reason for each, so that a caller can log them: a provider whose RSA
// keys carry no "alg" (set DefaultAlg), or which publishes encryption keys
// beside its signature keys.
func ParseJWKSSkipped(data []byte, opts JWKSOptions) ([]*Key, []SkippedKey, error) {
	if len(data) > maxJWKSize {
		return nil, nil, errors.New("jwt: JWKS too large")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
		return nil, nil, fmt.Errorf("jwt: invalid JWKS JSON: %v", err)
	}
	rawKeys, ok := doc["keys"]
	if !ok {
		return nil, nil, errors.New(`jwt: JWKS has no "keys" member`)
	}
	var members []map[string]json.RawMessage
	if err := json.Unmarshal(rawKeys, &members); err != nil {
		return nil, nil, fmt.Errorf(`jwt: JWKS "keys" must be an array of objects: %v`, err)
	}
	if len(members) > maxJWKSKeys {
		return nil, nil, fmt.Errorf("jwt: JWKS holds %d keys; at most %d are accepted", len(members), maxJWKSKeys)
	}
	var keys []*Key
	var skipped []SkippedKey
	seen := map[string]bool{}
	symmetric, asymmetric := false, false
	for i, m := range members {
		if m == nil {
			return nil, nil, fmt.Errorf("jwt: JWKS key %d is not an object", i)
		}
		k, err := parseJWKMembers(m, opts.DefaultAlg)
		if errors.Is(err, errNoAlg) && !opts.AllowSymmetric && jwkString(m, "kty") == "oct" {
			// A signing secret in a set that may be published is refused
			// whether or not it names its algorithm.
			return nil, nil, errors.New("jwt: JWKS holds an HMAC (oct) key; secret keys are never accepted from a key set that may be published")
		}
		if errors.Is(err, errNotSigning) || errors.Is(err, errNoAlg) {
			skipped = append(skipped, SkippedKey{Index: i, ID: jwkString(m, "kid"), Type: jwkString(m, "kty"), Reason: strings.TrimPrefix(err.Error(), "jwt: ")})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("jwt: JWKS key %d: %w", i, err)
		}
		if k.Symmetric() {
			if !opts.AllowSymmetric {
				return nil, nil, errors.New("jwt: JWKS holds an HMAC (oct) key; secret keys are never accepted from a key set that may be published")
			}
			symmetric = true
		} else {
			asymmetric = true
		}
		if k.id != "" {
			if seen[k.id] {
				return nil, nil, fmt.Errorf("jwt: JWKS holds two keys with kid %s; the set is ambiguous", quoteForError(k.id))
			}
			seen[k.id] = true
		}
		keys = append(keys, k)
	}
	if symmetric && asymmetric {
		return nil, nil, errors.New("jwt: JWKS mixes HMAC secrets with public keys; keep them in separate sets")
	}
	return keys, skipped, nil
}

// jwkString reads a string member of a JWK for a skip report ("" when it
// is absent or not a string).
func jwkString(m map[string]json.RawMessage, name string) string {
	var s string
	if raw, ok := m[name]; ok && json.Unmarshal(raw, &s) == nil && len(s) <= jose.MaxKidLen {
		return s
	}
	return ""
}

func parseJWKMembers(m map[string]json.RawMessage, defaultAlg string) (*Key, error) {
	str := func(name string) (string, bool, error) {
		raw, ok := m[name]
		if !ok {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, fmt.Errorf("jwt: JWK member %q must be a string", name)
		}
		return s, true, nil
	}
	kty, _, err := str("kty")
	if err != nil {
		return nil, err
	}
	kid, _, err := str("kid")
	if err != nil {
		return nil, err
	}
	if len(kid) > jose.MaxKidLen {
		return nil, fmt.Errorf("jwt: JWK kid is %d bytes; at most %d are allowed", len(kid), jose.MaxKidLen)
	}
	if use, ok, err := str("use"); err != nil {
		return nil, err
	} else if ok && use != "sig" {
		return nil, fmt.Errorf("%w: use is %q, not \"sig\"", errNotSigning, use)
	}
	_, hasD := m["d"]
	if raw, ok := m["key_ops"]; ok {
		var ops []string
		if err := json.Unmarshal(raw, &ops); err != nil {
			return nil, errors.New(`jwt: JWK "key_ops" must be an array of strings`)
		}
		if !slices.Contains(ops, "verify") && !slices.Contains(ops, "sign") {
			return nil, fmt.Errorf("%w: key_ops %v allow neither sign nor verify", errNotSigning, ops)
		}
	}
	alg, hasAlg, err := str("alg")
	if err != nil {
		return nil, err
	}
	if hasAlg {
		if _, ok := algorithms[alg]; !ok {
			return nil, fmt.Errorf("%w: alg %s", errNotSigning, quoteForError(alg))
		}
	}
	b64member := func(name string, required bool) ([]byte, error) {
		s, ok, err := str(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			if required {
				return nil, fmt.Errorf("jwt: %s JWK lacks %q", kty, name)
			}
			return nil, nil
		}
		b, err := decodeB64Member(s)
		if err != nil {
			return nil, fmt.Errorf("jwt: JWK member %q: %w", name, err)
		}
		return b, nil
	}
	var material any
	switch kty {
	case "oct":
		k, err := b64member("k", true)
		if err != nil {
			return nil, err
		}
		if !hasAlg {
			if defaultAlg == "" {
				if len(k) < algorithms[HS256].minKey {
					return nil, fmt.Errorf("jwt: oct JWK secret is %d bytes; at least %d are required (RFC 7518 §3.2)", len(k), algorithms[HS256].minKey)
				}
				return nil, fmt.Errorf(`%w: an oct JWK needs an "alg" (HS256, HS384 or HS512), or set DefaultAlg`, errNoAlg)
			}
			alg = defaultAlg
		}
		material = k
	case "RSA":
		n, err := b64member("n", true)
		if err != nil {
			return nil, err
		}
		e, err := b64member("e", true)
		if err != nil {
			return nil, err
		}
		if len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 || len(e) > 4 {
			return nil, errors.New("jwt: RSA JWK n and e must be minimal non-empty big-endian integers (RFC 7518 §6.3.1)")
		}
		eInt := new(big.Int).SetBytes(e)
		if !eInt.IsInt64() || eInt.Int64() > 1<<31-1 {
			return nil, errors.New("jwt: RSA JWK exponent is too large")
		}
		pub := rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eInt.Int64())}
		if hasD {
			priv, err := rsaPrivateFromJWK(pub, b64member)
			if err != nil {
				return nil, err
			}
			material = priv
		} else {
			material = &pub
		}
		if !hasAlg {
			if defaultAlg == "" {
				// Still refuse a weak key outright, as if it were bound.
				if err := checkRSA(&pub); err != nil {
					return nil, err
				}
				return nil, fmt.Errorf(`%w: an RSA JWK needs an "alg" (RS256, RS384, RS512, PS256, PS384 or PS512), or set DefaultAlg`, errNoAlg)
			}
			alg = defaultAlg
		}
	case "EC":
		crv, _, err := str("crv")
		if err != nil {
			return nil, err
		}
		implied, err := algForCurve(crv)
		if err != nil {
			return nil, fmt.Errorf("%w: curve %s", errNotSigning, quoteForError(crv))
		}
		if !hasAlg {
			alg = implied
		} else if alg != implied {
			return nil, fmt.Errorf("jwt: EC JWK on %s cannot be used with alg %s (it needs %s)", crv, alg, implied)
		}
		a := algorithms[alg]
		size := (a.curve.Params().BitSize + 7) / 8
		x, err := b64member("x", true)
		if err != nil {
			return nil, err
		}
		y, err := b64member("y", true)
		if err != nil {
			return nil, err
		}
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("jwt: EC JWK coordinates must be %d bytes on %s", size, crv)
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(a.curve, point)
		if err != nil {
			return nil, fmt.Errorf("jwt: EC JWK is not a point on %s: %w", crv, err)
		}
		material = pub
		if hasD {
			d, err := b64member("d", true)
			if err != nil {
				return nil, err
			}
			if len(d) != size {
				return nil, fmt.Errorf("jwt: EC JWK d must be %d bytes", size)
			}
			priv, err := ecdsa.ParseRawPrivateKey(a.curve, d)
			if err != nil {
				return nil, fmt.Errorf("jwt: invalid EC private key: %w", err)
			}
			if !priv.PublicKey.Equal(pub) {
				return nil, errors.New("jwt: EC JWK d does not match x and y")
			}
			material = priv
		}
	case "OKP":
		crv, _, err := str("crv")
		if err != nil {
			return nil, err
		}
		if crv != "Ed25519" {
			return nil, fmt.Errorf("%w: OKP curve %s", errNotSigning, quoteForError(crv))
		}
		if !hasAlg {
			alg = EdDSA
		} else if alg != EdDSA {
			return nil, fmt.Errorf("jwt: Ed25519 JWK cannot be used with alg %s", alg)
		}
		x, err := b64member("x", true)
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, errors.New("jwt: Ed25519 JWK x must be 32 bytes")
		}
		material = ed25519.PublicKey(x)
		if hasD {
			d, err := b64member("d", true)
			if err != nil {
				return nil, err
			}
			if len(d) != ed25519.SeedSize {
				return nil, errors.New("jwt: Ed25519 JWK d must be 32 bytes")
			}
			priv := ed25519.NewKeyFromSeed(d)
			if !bytes.Equal(priv.Public().(ed25519.PublicKey), x) {
				return nil, errors.New("jwt: Ed25519 JWK d does not match x")
			}
			material = priv
		}
	case "":
		return nil, errors.New(`jwt: JWK lacks "kty"`)
	default:
		return nil, fmt.Errorf("%w: kty %s", errNotSigning, quoteForError(kty))
	}
	if a := algorithms[alg]; a != nil && a.kind.kty() != kty {
		return nil, fmt.Errorf("jwt: JWK of type %s cannot be used with alg %s", kty, alg)
	}
	k, err := NewKey(kid, alg, material)
	if err != nil {
		return nil, err
	}
	return k.WithSource("jwk"), nil
}

func rsaPrivateFromJWK(pub rsa.PublicKey, b64member func(string, bool) ([]byte, error)) (*rsa.PrivateKey, error) {
	d, err := b64member("d", true)
	if err != nil {
		return nil, err
	}
	p, err := b64member("p", true)
	if err != nil {
		return nil, errors.New("jwt: RSA private JWK must include p and q")
	}
	q, err := b64member("q", true)
	if err != nil {
		return nil, errors.New("jwt: RSA private JWK must include p and q")
	}
	priv := &rsa.PrivateKey{
		PublicKey: pub,
		D:         new(big.Int).SetBytes(d),
		Primes:    []*big.Int{new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)},
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("jwt: invalid RSA private JWK: %w", err)
	}
	return priv, nil
}

// decodeB64Member decodes a JWK member: unpadded, canonical base64url.
func decodeB64Member(s string) ([]byte, error) {
	if !jose.Base64URL(s) {
		return nil, errors.New("not unpadded base64url")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not canonical base64url")
	}
	return b, nil
}
