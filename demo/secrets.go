package demo

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// SecretEnv names, for each demo secret, the environment variable that
// supplies it (base64 of 32 random bytes, e.g. `openssl rand -base64
// 32`); the same name with the suffix _FILE names a file holding it
// instead. A secret supplied so is used as is and never written to Redis.
// Unset, the demo draws the secret from crypto/rand, and replicas sharing
// --redis agree on one through Redis — a demo-only fallback: whoever can
// read that Redis can read the fingerprint key, and with it brute-force
// the card fingerprints (last four × expiry, about 10^6 values), or the
// signing seed, and mint tokens.
var SecretEnv = map[string]string{
	"signing-seed":    "BULWARK_DEMO_SIGNING_SEED",    // the Ed25519 seed of the JWT signing key (exactly 32 bytes)
	"fingerprint-key": "BULWARK_DEMO_FINGERPRINT_KEY", // the HMAC key of the abuse guards' keys and fingerprints (32+ bytes)
	"csrf-key":        "BULWARK_DEMO_CSRF_KEY",        // the HMAC key of the /app CSRF tokens (32+ bytes)
}

// secretFromEnv returns the secret name from its environment variable or
// file (SecretEnv), false when neither is set.
func secretFromEnv(name string) ([]byte, bool, error) {
	env := SecretEnv[name]
	val, inline := os.LookupEnv(env)
	path, fromFile := os.LookupEnv(env + "_FILE")
	switch {
	case inline && fromFile:
		return nil, false, fmt.Errorf("demo: set %s or %s_FILE, not both", env, env)
	case fromFile:
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false, fmt.Errorf("demo: reading %s_FILE: %w", env, err)
		}
		val = string(b)
	case !inline:
		return nil, false, nil
	}
	val = strings.TrimSpace(val)
	var key []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(val); err == nil {
			key = b
			break
		}
	}
	if len(key) < 32 || name == "signing-seed" && len(key) != 32 {
		return nil, false, fmt.Errorf("demo: %s must be the base64 of 32 random bytes (`openssl rand -base64 32`)", env)
	}
	return key, true, nil
}

// secretsFromEnv reports whether every demo secret comes from the
// environment (or a file), none does, or some do.
func secretsFromEnv() (all, none bool) {
	n := 0
	for _, env := range SecretEnv {
		_, a := os.LookupEnv(env)
		_, b := os.LookupEnv(env + "_FILE")
		if a || b {
			n++
		}
	}
	return n == len(SecretEnv), n == 0
}
