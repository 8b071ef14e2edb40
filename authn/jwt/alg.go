package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"sort"
	"strings"
	"sync"
	"unsafe"

	gjwt "github.com/golang-jwt/jwt/v5"
)

// The algorithms Bulwark verifies and signs (RFC 7518 §3, RFC 8037 §3.1).
// Every key is bound to exactly one of them.
const (
	HS256 = "HS256"
	HS384 = "HS384"
	HS512 = "HS512"
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	PS256 = "PS256"
	PS384 = "PS384"
	PS512 = "PS512"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	EdDSA = "EdDSA"
)

type keyKind uint8

const (
	kindHMAC keyKind = iota + 1
	kindRSA
	kindEC
	kindEd25519
)

func (k keyKind) kty() string {
	switch k {
	case kindHMAC:
		return "oct"
	case kindRSA:
		return "RSA"
	case kindEC:
		return "EC"
	case kindEd25519:
		return "OKP"
	}
	return ""
}

// algorithm binds an alg name to its key kind and to the golang-jwt signing
// method that does the cryptography.
type algorithm struct {
	name   string
	kind   keyKind
	method gjwt.SigningMethod
	hash   crypto.Hash
	curve  elliptic.Curve // EC only
	crv    string         // EC only: JWK curve name
	minKey int            // HMAC: minimum secret bytes (RFC 7518 §3.2)
}

// pss returns a PS* method that verifies with the salt length RFC 7518
// §3.5 requires (equal to the hash size). golang-jwt's stock PS* methods
// verify with rsa.PSSSaltLengthAuto, which accepts any salt length.
func pss(name string, h crypto.Hash) gjwt.SigningMethod {
	return &gjwt.SigningMethodRSAPSS{
		SigningMethodRSA: &gjwt.SigningMethodRSA{Name: name, Hash: h},
		Options:          &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash},
	}
}

var algorithms = map[string]*algorithm{
	HS256: {name: HS256, kind: kindHMAC, method: gjwt.SigningMethodHS256, hash: crypto.SHA256, minKey: 32},
	HS384: {name: HS384, kind: kindHMAC, method: gjwt.SigningMethodHS384, hash: crypto.SHA384, minKey: 48},
	HS512: {name: HS512, kind: kindHMAC, method: gjwt.SigningMethodHS512, hash: crypto.SHA512, minKey: 64},
	RS256: {name: RS256, kind: kindRSA, method: gjwt.SigningMethodRS256, hash: crypto.SHA256},
	RS384: {name: RS384, kind: kindRSA, method: gjwt.SigningMethodRS384, hash: crypto.SHA384},
	RS512: {name: RS512, kind: kindRSA, method: gjwt.SigningMethodRS512, hash: crypto.SHA512},
	PS256: {name: PS256, kind: kindRSA, method: pss(PS256, crypto.SHA256), hash: crypto.SHA256},
	PS384: {name: PS384, kind: kindRSA, method: pss(PS384, crypto.SHA384), hash: crypto.SHA384},
	PS512: {name: PS512, kind: kindRSA, method: pss(PS512, crypto.SHA512), hash: crypto.SHA512},
	ES256: {name: ES256, kind: kindEC, method: gjwt.SigningMethodES256, hash: crypto.SHA256, curve: elliptic.P256(), crv: "P-256"},
	ES384: {name: ES384, kind: kindEC, method: gjwt.SigningMethodES384, hash: crypto.SHA384, curve: elliptic.P384(), crv: "P-384"},
	ES512: {name: ES512, kind: kindEC, method: gjwt.SigningMethodES512, hash: crypto.SHA512, curve: elliptic.P521(), crv: "P-521"},
	EdDSA: {name: EdDSA, kind: kindEd25519, method: gjwt.SigningMethodEdDSA},
}

// Algorithms returns the names of the algorithms Bulwark supports, sorted.
func Algorithms() []string {
	out := make([]string, 0, len(algorithms))
	for name := range algorithms {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func lookupAlg(name string) (*algorithm, error) {
	a, ok := algorithms[name]
	if !ok {
		if strings.EqualFold(name, "none") {
			return nil, errors.New(`jwt: alg "none" is never accepted (unsecured JWTs carry no signature)`)
		}
		return nil, errors.New("jwt: unsupported algorithm " + quoteForError(name) + " (supported: " + strings.Join(Algorithms(), ", ") + ")")
	}
	return a, nil
}

func quoteForError(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s) + `"`
}

// macPool pools HMAC states for one secret: hmac.New costs several
// allocations per token, Reset none.
type macPool struct {
	pool sync.Pool
	size int
}

type macState struct {
	h   hash.Hash
	buf [64]byte
}

func newMacPool(a *algorithm, secret []byte) *macPool {
	var fn func() hash.Hash
	switch a.hash {
	case crypto.SHA256:
		fn = sha256.New
	case crypto.SHA384:
		fn = sha512.New384
	default:
		fn = sha512.New
	}
	key := append([]byte(nil), secret...)
	mp := &macPool{size: a.hash.Size()}
	mp.pool.New = func() any { return &macState{h: hmac.New(fn, key)} }
	return mp
}

// verify reports whether sig is the MAC of msg, in constant time.
func (mp *macPool) verify(msg string, sig []byte) bool {
	if len(sig) != mp.size {
		return false
	}
	st := mp.pool.Get().(*macState)
	st.h.Reset()
	st.h.Write(unsafe.Slice(unsafe.StringData(msg), len(msg))) // read-only use
	ok := hmac.Equal(st.h.Sum(st.buf[:0]), sig)
	mp.pool.Put(st)
	return ok
}

// verifySignature checks sig over signingInput with k. HMAC keys use a
// pooled MAC (same construction as golang-jwt's, without its per-call
// allocations); every other algorithm is verified by golang-jwt.
func (k *Key) verifySignature(signingInput string, sig []byte) bool {
	if k.mac != nil {
		return k.mac.verify(signingInput, sig)
	}
	return k.alg.method.Verify(signingInput, sig, k.verifyKey) == nil
}

// sign returns the signature of signingInput with k's private key.
func (k *Key) sign(signingInput string) ([]byte, error) {
	if k.signKey == nil {
		return nil, errors.New("jwt: key " + quoteForError(k.id) + " holds no private key and cannot sign")
	}
	return k.alg.method.Sign(signingInput, k.signKey)
}

// ecKeyMatches reports whether pub is on the curve alg requires.
func ecKeyMatches(a *algorithm, pub *ecdsa.PublicKey) bool {
	return pub != nil && pub.Curve != nil && pub.Curve.Params().Name == a.curve.Params().Name
}
