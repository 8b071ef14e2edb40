package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unsafe"

	"github.com/bulwark-go/bulwark/audit"
)

// Reason codes of a cookie that names no live session (the
// Authenticator's 401 reasons; the Handler treats all three as "no
// session").
const (
	ReasonInvalid = "session_invalid" // not a session cookie of this Manager: malformed, forged, or sealed with a retired key
	ReasonUnknown = "session_unknown" // a well-formed ID the store does not hold: ended, timed out, evicted, or made up
	ReasonExpired = "session_expired" // past its idle or absolute timeout
)

// Load returns r's session as Handler would, without saving anything:
// for code that reads a session outside Handler. Changes made to it are
// saved only by Save, which then needs w to set the cookie.
func (m *Manager) Load(r *http.Request) *Session { return m.load(r, nil) }

// load reads r's session; hdr is the response's header (nil when the
// session cannot set cookies).
func (m *Manager) load(r *http.Request, hdr http.Header) *Session {
	s := &Session{}
	m.loadInto(s, r, hdr)
	return s
}

// loadInto is load into a zero Session.
func (m *Manager) loadInto(s *Session, r *http.Request, hdr http.Header) {
	s.m, s.r, s.hdr = m, r, hdr
	s.secure = m.secureAlways || isSecure(r)
	v, ok := cookieValue(r, s.cookieName())
	if !ok {
		return
	}
	s.hadCookie = true
	var raw []byte
	var key string
	if m.aead != nil {
		if raw = m.open(v); raw == nil {
			s.fail = ReasonInvalid
			return
		}
	} else {
		var id [32]byte
		if !parseID(&id, v) {
			s.fail = ReasonInvalid
			return
		}
		key = s.keyOf(&id)
		var b []byte
		var found bool
		var err error
		if m.app != nil {
			// Into the Session's own memory: no allocation for a record
			// that fits. The bytes are written once, here (decodeRecord
			// keeps them).
			b, found, err = m.app.AppendValue(r.Context(), key, s.rawBuf[:0:rawBufLen])
		} else {
			b, found, err = m.kv.Get(r.Context(), key)
		}
		switch {
		case err != nil:
			s.err = err
			return
		case !found:
			s.fail = ReasonUnknown
			return
		}
		raw = b
	}
	rec, err := decodeRecord(raw)
	if err != nil {
		s.fail = ReasonInvalid
		return
	}
	now := m.now().UnixNano()
	idle, _ := m.lifetimes(rec.persistent)
	if now >= rec.deadline || now >= rec.touched+int64(idle) {
		s.fail = ReasonExpired
		if m.aead == nil {
			// Gone now rather than when the store expires it (its clock
			// may differ); only if nobody rewrote it meanwhile.
			m.cas(r.Context(), key, raw, nil, 0)
		}
		m.event(r, audit.Allow, ReasonExpired, rec.subject)
		return
	}
	if m.aead == nil {
		s.key, s.raw = key, raw
	}
	s.rec, s.loaded = rec, true
}

// rawBufLen bounds the stored records read into a Session's own memory
// (a logged-in session with a few roles and values is about 120 bytes);
// a larger one is read into memory of its own.
const rawBufLen = 128

// keyBufLen bounds the store keys built in a Session's own memory.
const keyBufLen = 64

// keyOf returns the store key of the ID id: built in s's own memory when
// it fits (the load path allocates no key), else allocated. The bytes
// are written once, here, and never changed.
func (s *Session) keyOf(id *[32]byte) string {
	var ref [refLen]byte
	refOf(&ref, id)
	p := s.m.sPrefix
	if len(p)+refLen > keyBufLen {
		return p + string(ref[:])
	}
	n := copy(s.keyBuf[:], p)
	n += copy(s.keyBuf[n:], ref[:])
	return unsafe.String(&s.keyBuf[0], n)
}

// refIn returns the reference in a session's store key ("" for "").
func (m *Manager) refIn(key string) string {
	if key == "" {
		return ""
	}
	return key[len(m.sPrefix):]
}

// cookieValue returns the value of the first cookie named name in r's
// Cookie headers, without parsing the others. A quoted value is
// unquoted.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = trimLeftOWS(part)
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				v := trimRightOWS(part[len(name)+1:])
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}

// trimLeftOWS and trimRightOWS drop spaces and tabs from one end of s:
// strings.TrimLeft(s, " \t") without the cutset's generic path.
func trimLeftOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func trimRightOWS(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// expiryGrace is how long the store keeps a record past its timeout.
const expiryGrace = time.Minute

// nonceLen is AES-GCM's standard nonce length.
const nonceLen = 12

// open decrypts an encrypted-cookie value with each key in turn; nil when
// none opens it.
func (m *Manager) open(v string) []byte {
	if len(v) > MaxCookieSize {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < nonceLen+16 {
		return nil
	}
	for _, g := range m.aead {
		if p, err := g.Open(nil, b[:nonceLen], b[nonceLen:], m.aad); err == nil {
			return p
		}
	}
	return nil
}

// seal encrypts plain with the newest key.
func (m *Manager) seal(plain []byte) string {
	g := m.aead[0]
	b := make([]byte, nonceLen, nonceLen+len(plain)+g.Overhead())
	_, _ = rand.Read(b)
	b = g.Seal(b, b, plain, m.aad)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cas swaps old for next at key through the store's CompareAndSwap, or,
// for a store without one, sets (or deletes) unconditionally.
func (m *Manager) cas(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	if m.swap != nil {
		return m.swap.CompareAndSwap(ctx, key, old, next, ttl)
	}
	if next == nil {
		return true, m.kv.Delete(ctx, key)
	}
	if old == nil {
		return m.kv.SetNX(ctx, key, next, ttl)
	}
	return true, m.kv.Set(ctx, key, next, ttl)
}

// event records a lifecycle event about r (r may be nil: no request).
func (m *Manager) event(r *http.Request, d audit.Decision, reason, subject string, attrs ...slog.Attr) {
	if m.audit == audit.Nop {
		return
	}
	var e *audit.Event
	if r != nil {
		e = audit.FromRequest(r, guardName, d, reason)
	} else {
		e = &audit.Event{Time: m.now(), Guard: guardName, Decision: d, Reason: reason}
	}
	if subject != "" {
		e.Principal = "session:" + subject
	}
	e.Attrs = append(e.Attrs, attrs...)
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	m.audit.Record(ctx, e)
}

// Save stores the session's changes now and puts its cookie in the
// response headers: what Handler does when the response starts. Call it
// to handle ErrConflict (or a store failure) yourself, or outside
// Handler (with w, the response writer, for the cookie). Saving nothing
// changed costs nothing.
func (s *Session) Save(w ...http.ResponseWriter) error {
	if len(w) > 0 && w[0] != nil && s.hdr == nil {
		s.hdr = w[0].Header()
	}
	return s.save()
}

// save writes the session's changes.
func (s *Session) save() error {
	m := s.m
	ctx := s.r.Context()
	if s.err != nil {
		if s.dirty || s.pendingEnds() {
			return s.err
		}
		return nil
	}
	for s.pendingEnds() {
		e := (*s.ended)[0]
		if e.key != "" {
			if err := m.kv.Delete(ctx, e.key); err != nil {
				return err
			}
			if e.subject != "" {
				if _, err := m.updateIndex(ctx, e.subject, nil, m.refIn(e.key)); err != nil {
					slog.Default().Warn("session: could not update a user's session list at logout", "error", err)
				}
			}
		}
		m.event(s.r, audit.Allow, "session_destroyed", e.subject)
		*s.ended = (*s.ended)[1:]
	}
	now := m.now().UnixNano()
	// Activity alone is not written for an error response: a refused
	// request (a CSRF 403, a 401, a 429) changes no state, not even the
	// idle deadline. Explicit changes (Login, Logout, Set) still save.
	touch := s.loaded && !s.refused && now-s.rec.touched >= int64(m.touchEvery)
	if !s.dirty && !touch {
		if s.endCookie || (s.fail != "" && s.hdr != nil) {
			s.setCookie("", 0) // remove a cookie that names nothing
		}
		return nil
	}
	rec := s.rec
	rec.version++
	rec.touched = now
	idle, _ := m.lifetimes(rec.persistent)
	// The store keeps the record a little past its end, so that a late
	// request is told "expired" (and audited) rather than "unknown".
	ttl := time.Duration(min(rec.touched+int64(idle), rec.deadline)-now) + expiryGrace
	enc := appendRecord(make([]byte, 0, 128), &rec)
	if m.aead != nil {
		v := m.seal(enc)
		if len(s.cookieName())+len(v)+len(m.path)+len(m.domain)+96 > MaxCookieSize {
			return ErrCookieTooLarge
		}
		if err := s.setCookie(v, rec.deadline-now); err != nil {
			return err
		}
		s.afterWrite(rec, enc)
		return nil
	}
	if s.key != "" && !s.renew {
		ok, err := m.cas(ctx, s.key, s.raw, enc, ttl)
		switch {
		case err != nil:
			if !s.dirty {
				return nil // a missed activity update only shortens the idle timeout
			}
			return err
		case !ok && s.dirty:
			m.event(s.r, audit.Flag, "session_conflict", s.rec.subject)
			return ErrConflict
		case !ok:
			return nil // another request recorded activity first
		}
		s.raw = enc
		s.afterWrite(rec, enc)
		return nil
	}
	// A new ID: for a new session, at login, at renewal.
	if s.hdr == nil || s.sent {
		return ErrHeadersSent
	}
	oldKey, oldSubject := s.key, s.rec.subject
	if oldKey != "" {
		// The old ID ends here, unless another request changed the
		// session since this one read it: then that request's change and
		// this one's renewal conflict.
		ok, err := m.cas(ctx, oldKey, s.raw, nil, 0)
		if err != nil {
			return err
		}
		if !ok {
			m.event(s.r, audit.Flag, "session_conflict", oldSubject)
			return ErrConflict
		}
	}
	id, ref := newID()
	key := m.sPrefix + ref
	ok, err := m.kv.SetNX(ctx, key, enc, ttl)
	if err == nil && !ok {
		err = errors.New("session: a new session ID is already taken (the random source is broken)")
	}
	if err != nil {
		return err
	}
	s.key, s.raw = key, enc
	if err := s.setCookie(id, rec.deadline-now); err != nil {
		return err
	}
	var evicted int
	if rec.subject != "" || (oldKey != "" && oldSubject != "") {
		var add *indexEntry
		if rec.subject != "" {
			add = &indexEntry{ref: ref, created: rec.created, deadline: rec.deadline}
		}
		sub := rec.subject
		if sub == "" {
			sub = oldSubject
		}
		evicted, err = m.updateIndex(ctx, sub, add, m.refIn(oldKey))
		if err != nil {
			// The session works; the list misses it (LogoutEverywhere
			// will not reach it until it times out).
			slog.Default().Warn("session: could not update a user's session list", "error", err)
		}
	}
	switch {
	case s.login:
		m.event(s.r, audit.Allow, "session_created", rec.subject, slog.Bool("persistent", rec.persistent))
	case oldKey != "":
		m.event(s.r, audit.Allow, "session_renewed", rec.subject)
	}
	if evicted > 0 {
		m.event(s.r, audit.Allow, "session_evicted", rec.subject, slog.Int("sessions", evicted), slog.Int("max", m.maxPerUser))
	}
	s.afterWrite(rec, enc)
	return nil
}

// pendingEnds reports whether sessions Logout ended remain to delete.
func (s *Session) pendingEnds() bool { return s.ended != nil && len(*s.ended) > 0 }

// afterWrite records a successful write.
func (s *Session) afterWrite(rec record, _ []byte) {
	s.rec, s.loaded = rec, true
	s.dirty, s.renew, s.login, s.endCookie, s.fail = false, false, false, false, ""
}

// setCookie puts the session cookie in the response: value v, persistent
// for maxAge nanoseconds when the session is; an empty v removes it.
func (s *Session) setCookie(v string, maxAge int64) error {
	if s.hdr == nil || s.sent {
		return ErrHeadersSent
	}
	m := s.m
	c := http.Cookie{Name: s.cookieName(), Value: v, Path: m.path, Domain: m.domain,
		HttpOnly: true, Secure: s.secure, SameSite: m.sameSite}
	switch {
	case v == "":
		c.MaxAge = -1
	case s.rec.persistent: // Login has set it already; the write is on its way
		c.MaxAge = int((maxAge + int64(time.Second) - 1) / int64(time.Second))
	}
	// One Set-Cookie for the session cookie per response: the last word.
	prefix := s.cookieName() + "="
	cs := s.hdr["Set-Cookie"]
	for i := 0; i < len(cs); i++ {
		if strings.HasPrefix(cs[i], prefix) {
			cs = append(cs[:i], cs[i+1:]...)
			i--
		}
	}
	s.hdr["Set-Cookie"] = append(cs, c.String())
	if v == "" {
		s.endCookie = false
		s.fail = ""
	}
	return nil
}
