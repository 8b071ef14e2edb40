// Package password hashes and verifies passwords with argon2id
// (golang.org/x/crypto/argon2), in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// bcrypt hashes ($2a$, $2b$, $2y$; golang.org/x/crypto/bcrypt) are
// accepted too, for user files migrated from elsewhere: they verify, take
// one check's share of a Verifier's budget, and always report needsRehash,
// so that an application moves them to argon2id on the next successful
// login. Keep one algorithm per user base: a missing user is checked
// against an argon2id stand-in, so while some users are still on bcrypt
// the time an answer takes tells those users apart from the rest.
//
// The default parameters follow the OWASP Password Storage Cheat Sheet
// (19 MiB of memory, 2 iterations, 1 lane). Verification compares in
// constant time and reports whether the stored hash used weaker parameters
// than the current ones, so an application can rehash on the next
// successful login.
//
// # Memory
//
// argon2id is memory-hard by design: every verification fills
// Params.Memory KiB (19 MiB by default), allocated afresh and left to the
// garbage collector. So N verifications at once take N × Params.Memory,
// and, at Go's default GOGC of 100, the heap may grow to about twice its
// live size before a collection returns it: plan for about
// 2 × N × Params.Memory plus the rest of the process. Unbounded, N is
// whatever an attacker sends: 120 simultaneous failed logins took the demo
// from 56 MB to 2.35 GB of RSS (50 took it to 1.0 GB).
//
// A server therefore checks passwords with one Verifier, shared by every
// authenticator that takes a password (JSON login, session login, HTTP
// Basic): it lets Options.MaxConcurrent verifications compute at once
// (default: half the cores, at least 1, at most 8 — on 2 cores one, 19 MiB;
// on 16 or more, 8 × 19 MiB = 152 MiB), lets a few more wait up to
// Options.MaxWait (default 250 ms) in arrival order, and refuses the rest
// with ErrBusy, which Verifier.Unavailable turns into a 503 with
// Retry-After. Peak memory is then about the rest of the process +
// 2 × MaxConcurrent × Params.Memory, whatever the load. Under the same 120
// logins the demo (2 cores, so 1 check at once) peaked at 82–100 MB and
// answered all of them within 0.5 s; with MaxConcurrent 4 (at worst
// 56 MB + 2 × 76 MiB ≈ 215 MB) it peaked at 122–141 MB, within 2.5 s. More
// checks than cores buy no throughput (each keeps one core busy), only
// memory; and checks on every core starve the rest of the process — the
// Redis round trips of the rate limits among them, which then time out.
//
// A missing user is checked against a stand-in hash of the same
// parameters, so it costs the same time and the same share of the budget:
// neither a slow answer nor a 503 tells which usernames exist. The
// package-level Verify has no budget; it suits tools and tests.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
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
	if err := checkParams(p); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against the PHC string encoded. It returns nil on a
// match, ErrMismatch on a wrong password, ErrMalformed on a bad hash.
// needsRehash is true on a match whose parameters are weaker than Default.
//
// Verify has no memory budget: every call takes Params.Memory of its own
// (see "Memory" in the package documentation). It suits tools and tests; a
// server checks passwords with a Verifier.
func Verify(pw, encoded string) (needsRehash bool, err error) {
	if isBcrypt(encoded) {
		return verifyBcrypt(pw, encoded)
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen || !check(pw, p, salt, want) {
		return false, ErrMismatch
	}
	return weaker(p, len(want), Default), nil
}

// CheckHash reports whether encoded is a hash Verify accepts — an argon2id
// PHC string within Limits, or a bcrypt hash within MaxBcryptCost —
// without computing anything: ErrMalformed when it is not. Loaders of user
// files call it, so that a bad line is found at start, not at a login.
func CheckHash(encoded string) error {
	if isBcrypt(encoded) {
		_, err := bcryptCost(encoded)
		return err
	}
	_, _, _, err := decode(encoded)
	return err
}

// MaxBcryptCost is the highest bcrypt cost Verify accepts from a stored
// hash (2^16 rounds, several seconds): a tampered hash cannot make a check
// run for minutes.
const MaxBcryptCost = 16

// isBcrypt reports whether encoded is in bcrypt's modular crypt format.
func isBcrypt(encoded string) bool {
	return len(encoded) == 60 && (strings.HasPrefix(encoded, "$2a$") ||
		strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$"))
}

// bcryptCost returns the cost of a bcrypt hash, ErrMalformed when it is not
// one within MaxBcryptCost.
func bcryptCost(encoded string) (int, error) {
	c, err := bcrypt.Cost([]byte(encoded))
	if err != nil || c > MaxBcryptCost {
		return 0, ErrMalformed
	}
	return c, nil
}

// verifyBcrypt checks pw against a bcrypt hash; a match always needs a
// rehash (to argon2id).
func verifyBcrypt(pw, encoded string) (bool, error) {
	if _, err := bcryptCost(encoded); err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen || !checkBcrypt(pw, encoded) {
		return false, ErrMismatch
	}
	return true, nil
}

// checkBcrypt is bcrypt's comparison; bcrypt refuses passwords over 72
// bytes, which count as a mismatch.
var checkBcrypt = func(pw, encoded string) bool {
	return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw)) == nil
}

// idKey is argon2.IDKey; tests replace it to count and hold verifications.
var idKey = argon2.IDKey

// check reports whether pw hashes to want under p and salt.
func check(pw string, p Params, salt, want []byte) bool {
	got := idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// weaker reports whether a hash of p with a key of keyLen bytes is weaker
// than cur.
func weaker(p Params, keyLen int, cur Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || keyLen < int(cur.KeyLen)
}

func checkParams(p Params) error {
	if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 || p.SaltLen < 16 || p.KeyLen < 16 {
		return errors.New("password: parameters too weak (need memory >= 8*threads KiB, time >= 1, salt and key >= 16 bytes)")
	}
	return nil
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
