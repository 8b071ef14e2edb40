package password

// SetIDKey replaces the argon2id function for a test and returns a func
// that restores it.
func SetIDKey(f func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte) (restore func()) {
	old := idKey
	idKey = f
	return func() { idKey = old }
}

// IDKey is the real argon2id function, for hooks that wrap it.
var IDKey = idKey
