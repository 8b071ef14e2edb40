package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"time"
)

// A token, before masking, is 57 bytes:
//
//	version (1) | issued-at, Unix seconds, big-endian (8) | binding tag (16) | MAC (32)
//
// tag = HMAC-SHA-256(key, "bulwark-csrf-bind\x00" | kind | binding)[:16]
// MAC = HMAC-SHA-256(key, "bulwark-csrf-token\x00" | version | issued-at | tag)
//
// The MAC says the token is ours and unaltered (else csrf_token_invalid);
// the tag, checked next, that it belongs to this session (else
// csrf_session_mismatch); the time, last, that it is fresh (else
// csrf_token_expired). kind separates session bindings ('s') from
// pre-session ones ('p'), so a pre-session ID can never stand for a
// session's binding value. The masked token sent to clients is
// mask (57) | token XOR mask (57), base64url without padding: 152
// characters, different on every response (BREACH).
const (
	tokenVersion = 1
	tagLen       = 16
	macLen       = 32
	rawLen       = 1 + 8 + tagLen + macLen
	maskedLen    = 2 * rawLen
	encodedLen   = (maskedLen*8 + 5) / 6 // 152
	maxSkew      = 5 * 60                // seconds a token's time may lie ahead (replica clocks)

	kindSession    = 's'
	kindPreSession = 'p'

	preSessionBytes = 32
	preSessionLen   = (preSessionBytes*8 + 5) / 6 // 43
)

var (
	bindLabel  = []byte("bulwark-csrf-bind\x00")
	tokenLabel = []byte("bulwark-csrf-token\x00")
)

// mac is a pooled keyed hash with scratch space, so that signing and
// verifying allocate nothing.
type mac struct {
	h   hash.Hash
	in  [encodedLen]byte
	dec [maskedLen]byte
	raw [rawLen]byte
	sum [macLen]byte
	tag [macLen]byte
}

func (k *keyState) getMac() *mac  { return k.pool.Get().(*mac) }
func (k *keyState) putMac(m *mac) { k.pool.Put(m) }

// writeString feeds s to h through m's scratch buffer, without the
// allocation a []byte(s) conversion would cost.
func (m *mac) writeString(s string) {
	for len(s) > 0 {
		n := copy(m.in[:], s)
		m.h.Write(m.in[:n])
		s = s[n:]
	}
}

// bindTag computes the binding tag into m.tag[:tagLen].
func (m *mac) bindTag(kind byte, binding string) {
	m.h.Reset()
	m.h.Write(bindLabel)
	m.in[0] = kind
	m.h.Write(m.in[:1])
	m.writeString(binding)
	m.h.Sum(m.tag[:0])
}

// tokenMAC computes the MAC of raw's first 1+8+tagLen bytes into m.sum.
func (m *mac) tokenMAC(raw []byte) {
	m.h.Reset()
	m.h.Write(tokenLabel)
	m.h.Write(raw[:1+8+tagLen])
	m.h.Sum(m.sum[:0])
}

// sign returns a fresh masked token bound to (kind, binding), issued at
// now.
func (g *Guard) sign(kind byte, binding string, now time.Time) string {
	k := g.keys[0]
	m := k.getMac()
	var buf [maskedLen]byte
	mask, raw := buf[:rawLen], buf[rawLen:]
	raw[0] = tokenVersion
	binary.BigEndian.PutUint64(raw[1:9], uint64(now.Unix()))
	m.bindTag(kind, binding)
	copy(raw[9:9+tagLen], m.tag[:tagLen])
	m.tokenMAC(raw)
	copy(raw[9+tagLen:], m.sum[:])
	k.putMac(m)
	rand.Read(mask)
	for i := range raw {
		raw[i] ^= mask[i]
	}
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// verify checks a masked token against (kind, binding) at now and returns
// "" or the reason code of its refusal. hasBinding false means the request
// has neither session nor pre-session: a genuine token then belongs to
// a session the request does not carry.
func (g *Guard) verify(tok string, kind byte, binding string, hasBinding bool, now time.Time) string {
	if len(tok) != encodedLen {
		return ReasonTokenInvalid
	}
	reason := ReasonTokenInvalid
	for _, k := range g.keys {
		m := k.getMac()
		r, done := g.verifyWith(m, tok, kind, binding, hasBinding, now)
		k.putMac(m)
		if done {
			reason = r
			break
		}
	}
	return reason
}

// verifyWith tries one key. done reports that the token's MAC matched
// this key (or that the token cannot be decoded at all), so that no other
// key need be tried.
func (g *Guard) verifyWith(m *mac, tok string, kind byte, binding string, hasBinding bool, now time.Time) (reason string, done bool) {
	copy(m.in[:], tok)
	n, err := base64.RawURLEncoding.Decode(m.dec[:], m.in[:])
	if err != nil || n != maskedLen {
		return ReasonTokenInvalid, true
	}
	raw := m.raw[:]
	for i := range raw {
		raw[i] = m.dec[i] ^ m.dec[rawLen+i]
	}
	if raw[0] != tokenVersion {
		return ReasonTokenInvalid, true
	}
	m.tokenMAC(raw)
	if !hmac.Equal(m.sum[:], raw[9+tagLen:]) {
		return ReasonTokenInvalid, false
	}
	if !hasBinding {
		return ReasonSessionMismatch, true
	}
	m.bindTag(kind, binding)
	if !hmac.Equal(m.tag[:tagLen], raw[9:9+tagLen]) {
		return ReasonSessionMismatch, true
	}
	issued := int64(binary.BigEndian.Uint64(raw[1:9]))
	switch t := now.Unix(); {
	case issued > t+maxSkew:
		return ReasonTokenInvalid, true
	case t-issued >= g.timeoutSec:
		return ReasonTokenExpired, true
	}
	return "", true
}

// newPreSessionID returns a fresh pre-session ID: 256 bits from
// crypto/rand, base64url.
func newPreSessionID() string {
	var b [preSessionBytes]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validPreSessionID reports whether s has the form newPreSessionID
// produces; any other cookie value is ignored (and replaced when a token
// is issued).
func validPreSessionID(s string) bool {
	if len(s) != preSessionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
