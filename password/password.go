// Package password hashes and verifies passwords with argon2id
// (golang.org/x/crypto/argon2), in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// The default parameters follow the OWASP Password Storage Cheat Sheet
// (19 MiB of memory, 2 iterations, 1 lane). Verify compares in constant
// time and reports whether the stored hash used weaker parameters than the
// current ones, so an application can rehash on the next successful login.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Default is the parameter set Hash uses.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits bound the parameters Verify accepts from a stored hash, so that a
// tampered hash cannot make verification exhaust memory or CPU.
var Limits = Params{Memory: 256 * 1024, Time: 16, Threads: 16, SaltLen: 64, KeyLen: 64}

// ErrMismatch is returned by Verify when the password is wrong.
var ErrMismatch = errors.New("password: mismatch")

// ErrMalformed is returned for a stored hash that is not a valid argon2id
// PHC string within Limits.
var ErrMalformed = errors.New("password: malformed hash")

// MaxPasswordLen bounds the password length accepted, in bytes: Hash and
// HashWith refuse a longer password with an error, and Verify reports
// ErrMismatch for it.
const MaxPasswordLen = 1024

var b64 = base64.RawStdEncoding

// Hash returns the PHC string for pw with the Default parameters.
func Hash(pw string) (string, error) { return HashWith(pw, Default) }

// HashWith returns the PHC string for pw with p.
func HashWith(pw string, p Params) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", fmt.Errorf("password: longer than %d bytes", MaxPasswordLen)
	}
	if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 || p.SaltLen < 16 || p.KeyLen < 16 {
		return "", errors.New("password: parameters too weak (need memory >= 8*threads KiB, time >= 1, salt and key >= 16 bytes)")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against the PHC string encoded. It returns nil on a
// match, ErrMismatch on a wrong password, ErrMalformed on a bad hash.
// needsRehash is true on a match whose parameters are weaker than Default.
func Verify(pw, encoded string) (needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, ErrMismatch
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return p.Memory < Default.Memory || p.Time < Default.Time || len(want) < int(Default.KeyLen), nil
}

func decode(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 {
		return p, nil, nil, ErrMalformed
	}
	if p.Memory > Limits.Memory || p.Time > Limits.Time || p.Threads > Limits.Threads ||
		p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, ErrMalformed
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > int(Limits.SaltLen) {
		return p, nil, nil, ErrMalformed
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > int(Limits.KeyLen) {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
