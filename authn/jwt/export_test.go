package jwt

// Test hooks: the primitive-level Wycheproof vectors sign and verify raw
// messages, not JWS signing inputs.

// VerifyRaw checks sig over msg with k.
func VerifyRaw(k *Key, msg, sig []byte) bool { return k.verifySignature(string(msg), sig) }

// SignRaw signs input with k.
func SignRaw(k *Key, input string) ([]byte, error) { return k.sign(input) }

// CacheSlots returns the size of v's token cache (0 when disabled).
func CacheSlots(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return len(v.cache.slots)
}

// RefusalDetails returns the client-facing detail of each audit reason.
func RefusalDetails() map[string]string { return refusalDetails }
