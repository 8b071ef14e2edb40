package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// Key is a signing or verification key bound to one algorithm and, usually,
// one key ID (kid). A Key is immutable and safe for concurrent use.
//
// Binding is what stops algorithm confusion: a token is verified only with
// a key whose algorithm is the token's alg, so an RS256 public key can never
// be used as an HS256 secret, and an HMAC secret never verifies an RS256
// signature.
//
// A Key never prints or marshals its secret material: String, GoString,
// LogValue and MarshalJSON all describe it without secrets.
type Key struct {
	id         string
	alg        *algorithm
	verifyKey  any // []byte | *rsa.PublicKey | *ecdsa.PublicKey | ed25519.PublicKey
	signKey    any // []byte | *rsa.PrivateKey | *ecdsa.PrivateKey | ed25519.PrivateKey | nil
	mac        *macPool
	source     string
	thumbprint string // RFC 7638 (public keys only)
	bits       int
	vk         *verifiedKey // what a principal records about this key
}

// verifiedKey is what a principal records about the key that verified its
// token (authn.Principal.CredentialInfo): a description without material,
// for KeyOf, and the key itself, unreachable outside this package, for
// identity checks (sliding expiry renews only its own Issuer's tokens).
type verifiedKey struct {
	key  *Key
	desc KeyDescription
}

// finish records k's description for principals; call it whenever a Key
// is made or copied with other fields.
func (k *Key) finish() *Key {
	k.vk = &verifiedKey{key: k, desc: k.Describe()}
	return k
}

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// maxRSABits bounds the cost of one verification.
const maxRSABits = 16384

// hmacHelp tells an operator how to make a secret that is good enough.
const hmacHelp = "generate one with `openssl rand -base64 48` (or `head -c 48 /dev/urandom | base64`) and pass it through an environment variable or a secret file, never in source code"

// NewKey binds material to alg under key ID id. material is:
//
//   - []byte: an HMAC secret (HS256/384/512), at least as long as the hash
//     (32, 48 or 64 bytes, RFC 7518 §3.2);
//   - *rsa.PrivateKey or *rsa.PublicKey (RS* and PS*), at least 2048 bits,
//     with a sane public exponent, not a ROCA-vulnerable (CVE-2017-15361)
//     modulus;
//   - *ecdsa.PrivateKey or *ecdsa.PublicKey on the alg's curve (ES256: P-256,
//     ES384: P-384, ES512: P-521);
//   - ed25519.PrivateKey or ed25519.PublicKey (EdDSA).
//
// A private key can sign and verify; a public key or a secret only what its
// kind allows. id may be empty (tokens then name no kid).
func NewKey(id, alg string, material any) (*Key, error) {
	a, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	if len(id) > jose.MaxKidLen {
		return nil, fmt.Errorf("jwt: key ID is %d bytes; at most %d are allowed", len(id), jose.MaxKidLen)
	}
	k := &Key{id: id, alg: a}
	mismatch := func(kind string) error {
		return fmt.Errorf("jwt: key %s is %s, which cannot be used with %s (it needs %s)", quoteForError(id), kind, alg, describeKind(a.kind))
	}
	switch m := material.(type) {
	case []byte:
		if a.kind != kindHMAC {
			return nil, mismatch("an HMAC secret")
		}
		if len(m) < a.minKey {
			return nil, fmt.Errorf("jwt: %s secret for key %s is %d bytes; at least %d random bytes are required (RFC 7518 §3.2): %s", alg, quoteForError(id), len(m), a.minKey, hmacHelp)
		}
		secret := append([]byte(nil), m...)
		k.verifyKey, k.signKey = secret, secret
		k.mac = newMacPool(a, secret)
		k.bits = len(m) * 8
	case string:
		return nil, errors.New("jwt: pass an HMAC secret as []byte, not string")
	case *rsa.PrivateKey:
		if a.kind != kindRSA {
			return nil, mismatch("an RSA key")
		}
		if m == nil {
			return nil, errors.New("jwt: nil RSA key")
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("jwt: invalid RSA private key %s: %w", quoteForError(id), err)
		}
		if err := checkRSA(&m.PublicKey); err != nil {
			return nil, err
		}
		m.Precompute()
		k.verifyKey, k.signKey = &m.PublicKey, m
		k.bits = m.N.BitLen()
	case *rsa.PublicKey:
		if a.kind != kindRSA {
			return nil, mismatch("an RSA key")
		}
		if err := checkRSA(m); err != nil {
			return nil, err
		}
		k.verifyKey = m
		k.bits = m.N.BitLen()
	case *ecdsa.PrivateKey:
		if a.kind != kindEC {
			return nil, mismatch("an ECDSA key")
		}
		if m == nil || !ecKeyMatches(a, &m.PublicKey) {
			return nil, fmt.Errorf("jwt: %s needs a key on curve %s", alg, a.crv)
		}
		if _, err := m.ECDH(); err != nil {
			return nil, fmt.Errorf("jwt: invalid ECDSA private key %s: %w", quoteForError(id), err)
		}
		if _, err := m.PublicKey.ECDH(); err != nil {
			return nil, fmt.Errorf("jwt: invalid ECDSA public key %s: %w", quoteForError(id), err)
		}
		k.verifyKey, k.signKey = &m.PublicKey, m
		k.bits = a.curve.Params().BitSize
	case *ecdsa.PublicKey:
		if a.kind != kindEC {
			return nil, mismatch("an ECDSA key")
		}
		if m == nil || !ecKeyMatches(a, m) {
			return nil, fmt.Errorf("jwt: %s needs a key on curve %s", alg, a.crv)
		}
		if _, err := m.ECDH(); err != nil { // checks the point is on the curve
			return nil, fmt.Errorf("jwt: invalid ECDSA public key %s: %w", quoteForError(id), err)
		}
		k.verifyKey = m
		k.bits = a.curve.Params().BitSize
	case ed25519.PrivateKey:
		if a.kind != kindEd25519 {
			return nil, mismatch("an Ed25519 key")
		}
		if len(m) != ed25519.PrivateKeySize {
			return nil, errors.New("jwt: invalid Ed25519 private key size")
		}
		k.verifyKey, k.signKey = m.Public().(ed25519.PublicKey), m
		k.bits = 256
	case ed25519.PublicKey:
		if a.kind != kindEd25519 {
			return nil, mismatch("an Ed25519 key")
		}
		if len(m) != ed25519.PublicKeySize {
			return nil, errors.New("jwt: invalid Ed25519 public key size")
		}
		k.verifyKey = m
		k.bits = 256
	default:
		return nil, fmt.Errorf("jwt: unsupported key material %T", material)
	}
	if a.kind != kindHMAC {
		k.thumbprint = thumbprint(k.verifyKey)
	}
	return k.finish(), nil
}

// NewHMACKey binds an HMAC secret to alg (HS256, HS384 or HS512). Secrets
// shorter than the hash (32, 48 or 64 bytes) are refused.
func NewHMACKey(id, alg string, secret []byte) (*Key, error) {
	if a, ok := algorithms[alg]; ok && a.kind != kindHMAC {
		return nil, fmt.Errorf("jwt: NewHMACKey needs an HS* algorithm, not %s", alg)
	}
	return NewKey(id, alg, secret)
}

func describeKind(k keyKind) string {
	switch k {
	case kindHMAC:
		return "an HMAC secret ([]byte)"
	case kindRSA:
		return "an RSA key"
	case kindEC:
		return "an ECDSA key"
	case kindEd25519:
		return "an Ed25519 key"
	}
	return "a key"
}

func checkRSA(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return errors.New("jwt: nil RSA key")
	}
	bits := pub.N.BitLen()
	if bits < MinRSABits {
		return fmt.Errorf("jwt: RSA key is %d bits; at least %d are required", bits, MinRSABits)
	}
	if bits > maxRSABits {
		return fmt.Errorf("jwt: RSA key is %d bits; at most %d are accepted", bits, maxRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return fmt.Errorf("jwt: RSA public exponent %d is invalid (it must be odd and at least 3; 65537 is usual)", pub.E)
	}
	if pub.N.Bit(0) == 0 {
		return errors.New("jwt: RSA modulus is even")
	}
	if rocaVulnerable(pub.N) {
		return errors.New("jwt: RSA key has the ROCA fingerprint (CVE-2017-15361) and can be factored; replace it")
	}
	return nil
}

// sameKey reports whether a and b hold the same verification material for
// the same algorithm (a key and its public half are the same key).
func sameKey(a, b *Key) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	if a.alg != b.alg {
		return false
	}
	if a.Symmetric() {
		x, _ := a.verifyKey.([]byte)
		y, _ := b.verifyKey.([]byte)
		return len(x) > 0 && subtle.ConstantTimeCompare(x, y) == 1
	}
	return a.thumbprint != "" && a.thumbprint == b.thumbprint
}

// ID returns the key ID (kid), possibly empty.
func (k *Key) ID() string { return k.id }

// Alg returns the algorithm the key is bound to.
func (k *Key) Alg() string { return k.alg.name }

// Type returns the JWK key type: "oct", "RSA", "EC" or "OKP".
func (k *Key) Type() string { return k.alg.kind.kty() }

// CanSign reports whether the key holds private (or secret) material.
func (k *Key) CanSign() bool { return k.signKey != nil }

// Symmetric reports whether the key is an HMAC secret.
func (k *Key) Symmetric() bool { return k.alg.kind == kindHMAC }

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key
// (base64url), or "" for an HMAC secret.
func (k *Key) Thumbprint() string { return k.thumbprint }

// Public returns the key without its private material (k itself when it has
// none). For an HMAC secret, which has no public half, it returns nil.
func (k *Key) Public() *Key {
	if k.Symmetric() {
		return nil
	}
	if k.signKey == nil {
		return k
	}
	c := *k
	c.signKey = nil
	return c.finish()
}

// WithSource returns a copy of k that records where it came from (a file
// path, an environment variable name), for Describe. It never records the
// material itself.
func (k *Key) WithSource(source string) *Key {
	c := *k
	c.source = source
	return c.finish()
}

// KeyDescription describes a key without secrets, for /config/security.
type KeyDescription struct {
	ID         string `json:"kid"`                  // key ID
	Alg        string `json:"alg"`                  // the algorithm it is bound to
	Type       string `json:"kty"`                  // oct, RSA, EC, OKP
	Bits       int    `json:"bits"`                 // key size
	Private    bool   `json:"private"`              // holds an asymmetric private key
	Thumbprint string `json:"thumbprint,omitempty"` // RFC 7638, public keys only
	Source     string `json:"source,omitempty"`     // file:PATH, env:NAME, config, jwk, jwks:URL
	Secret     string `json:"secret,omitempty"`     // "[redacted]" for HMAC keys
}

// Describe returns k's description.
func (k *Key) Describe() KeyDescription {
	d := KeyDescription{ID: k.id, Alg: k.alg.name, Type: k.Type(), Bits: k.bits, Private: k.signKey != nil && !k.Symmetric(), Thumbprint: k.thumbprint, Source: k.source}
	if k.Symmetric() {
		d.Secret = "[redacted]"
	}
	return d
}

// String describes k without secrets.
func (k Key) String() string {
	if k.alg == nil {
		return "jwt.Key{}"
	}
	s := "jwt.Key{kid=" + quoteForError(k.id) + ", alg=" + k.alg.name + ", kty=" + k.alg.kind.kty()
	if k.alg.kind == kindHMAC {
		s += ", secret=[redacted]"
	} else if k.thumbprint != "" {
		s += ", thumbprint=" + k.thumbprint
	}
	return s + "}"
}

// GoString describes k without secrets.
func (k Key) GoString() string { return k.String() }

// LogValue describes k for log/slog without secrets.
func (k Key) LogValue() slog.Value {
	if k.alg == nil {
		return slog.StringValue("jwt.Key{}")
	}
	return slog.GroupValue(slog.String("kid", k.id), slog.String("alg", k.alg.name), slog.String("kty", k.alg.kind.kty()))
}

// MarshalJSON writes k's description, never its material.
func (k Key) MarshalJSON() ([]byte, error) {
	if k.alg == nil {
		return []byte("null"), nil
	}
	return json.Marshal(k.Describe())
}

// PublicJWK returns the public JWK of an asymmetric key (RFC 7517), with
// kid, alg and use "sig". It fails for HMAC secrets, which have no public
// half and must never be published.
func (k *Key) PublicJWK() (map[string]any, error) {
	if k.Symmetric() {
		return nil, errors.New("jwt: an HMAC secret has no public key and must never be published in a JWKS")
	}
	m := jwkParams(k.verifyKey)
	m["use"] = "sig"
	m["alg"] = k.alg.name
	if k.id != "" {
		m["kid"] = k.id
	}
	return m, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkParams returns the public members of a key.
func jwkParams(pub any) map[string]any {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, _ := p.Bytes() // validated at construction
		if len(raw) != 1+2*size {
			return map[string]any{"kty": "EC"}
		}
		return map[string]any{"kty": "EC", "crv": p.Curve.Params().Name, "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(p)}
	}
	return map[string]any{}
}

// thumbprint computes the RFC 7638 thumbprint: the SHA-256 of the required
// members in lexicographic order, without whitespace.
func thumbprint(pub any) string {
	m := jwkParams(pub)
	var b bytes.Buffer
	switch m["kty"] {
	case "RSA":
		fmt.Fprintf(&b, `{"e":%q,"kty":"RSA","n":%q}`, m["e"], m["n"])
	case "EC":
		fmt.Fprintf(&b, `{"crv":%q,"kty":"EC","x":%q,"y":%q}`, m["crv"], m["x"], m["y"])
	case "OKP":
		fmt.Fprintf(&b, `{"crv":"Ed25519","kty":"OKP","x":%q}`, m["x"])
	default:
		return ""
	}
	sum := sha256.Sum256(b.Bytes())
	return b64(sum[:])
}

// GenerateSecret returns n random bytes (at least 32; 64 when n is
// smaller), for an HMAC key that lives only as long as the process (the
// demo) or to print for an operator.
func GenerateSecret(n int) []byte {
	if n < 32 {
		n = 64
	}
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// GenerateKey returns a new random key for alg: an HMAC secret of 64 bytes,
// an RSA-2048 key, or an EC / Ed25519 key. It suits tests, the demo and
// ephemeral deployments; production keys usually come from files.
func GenerateKey(kid, alg string) (*Key, error) {
	a, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	switch a.kind {
	case kindHMAC:
		return NewKey(kid, alg, GenerateSecret(64))
	case kindRSA:
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return NewKey(kid, alg, priv)
	case kindEC:
		priv, err := ecdsa.GenerateKey(a.curve, rand.Reader)
		if err != nil {
			return nil, err
		}
		return NewKey(kid, alg, priv)
	default:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return NewKey(kid, alg, priv)
	}
}
