package session

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/internal/reqctx"
)

// Errors Save returns (besides the store's own, which match
// store.ErrUnavailable when it cannot answer).
var (
	// ErrConflict: another request changed or ended this session since
	// this one loaded it, so this request's changes were not stored (see
	// "Two requests at once" in the package documentation).
	ErrConflict = errors.New("session: changed by a concurrent request; changes not saved")
	// ErrCookieTooLarge: an encrypted-cookie session grew past
	// MaxCookieSize; store less in it, or use server-side sessions.
	ErrCookieTooLarge = errors.New("session: the encrypted session cookie would exceed 4096 bytes; store less in the session or use Options.Store")
	// ErrHeadersSent: a change that needs a new cookie came after the
	// response headers were sent.
	ErrHeadersSent = errors.New("session: the response headers were already sent; change the session before writing the response")
	// ErrNoSubject: Login was given an Identity without a Subject.
	ErrNoSubject = errors.New("session: Identity.Subject is required")
)

// Identity is who logs in: Session.Login records it in the session.
type Identity struct {
	// Subject identifies the user; required. The Principal's Subject.
	Subject string
	// Roles and Scopes grant access (package authz), as a token's do.
	Roles  []string
	Scopes []string
	// Remember makes a "remember me" session: a persistent cookie that
	// outlives the browser, with Options.RememberIdleTimeout and
	// RememberFor instead of IdleTimeout and AbsoluteTimeout.
	Remember bool
}

// Session is one request's view of the caller's session. Handler makes
// one for every request (read it with FromContext): loaded from the
// request's cookie when that names a live session, else new and empty —
// a new session is stored, and its cookie sent, only once something is
// written to it. Changes are saved when the handler starts its response
// (or explicitly with Save). A Session belongs to its request: do not use
// it from other goroutines.
type Session struct {
	m   *Manager
	r   *http.Request
	hdr http.Header // the response's, under Handler; nil otherwise

	// key is the stored session's store key (prefix, "s:", the ID's
	// reference: never the ID); "" when not stored yet (and in cookie
	// mode).
	key    string
	keyBuf [keyBufLen]byte // key's bytes when it was loaded (see keyOf)
	raw    []byte          // the record as stored: CompareAndSwap's old value
	rawBuf [rawBufLen]byte // raw's bytes when they fit (see loadInto)
	rec    record

	fail  string   // why the request's cookie is not a session (a reason code)
	err   error    // the store could not load the session
	ended *[]ended // sessions Logout ended, to delete at save (rare: behind a pointer)

	principal *authn.Principal

	// The flags together, so that a Session fits a smaller allocation.
	secure       bool
	hadCookie    bool
	loaded       bool // rec is a live session from the cookie
	sent         bool // the response headers are out
	refused      bool // the response is an error (status >= 400): no activity update
	dirty, renew bool
	login        bool // Login called since the last save (audit)
	endCookie    bool // the cookie is to be removed (unless a new one replaces it)
}

// cookieName returns the session cookie's name for this request: with
// Options.HostPrefix, the __Host- name over HTTPS.
func (s *Session) cookieName() string {
	if s.m.hostPrefix && s.secure {
		return s.m.hostName
	}
	return s.m.name
}

// ended is a session Logout ended: its store key and user.
type ended struct{ key, subject string }

// FromContext returns the session Handler attached to the request
// context; false when Handler did not run. Handler keeps it in the
// per-request state the guards share (package internal/reqctx), not in a
// context value of its own: no context or request copy per request when
// another guard made that state already.
func FromContext(ctx context.Context) (*Session, bool) {
	st := reqctx.From(ctx)
	if st == nil {
		return nil, false
	}
	s, ok := st.Session.(*Session)
	return s, ok
}

// isSecure reports whether r arrived over HTTPS: clientip's verdict when
// it ran (it trusts X-Forwarded-Proto from trusted proxies only), else
// whether the connection itself is TLS — the rule HSTS follows.
func isSecure(r *http.Request) bool {
	if st := reqctx.From(r.Context()); st != nil {
		return st.Secure
	}
	return r.TLS != nil
}

// Authenticated reports whether a user is logged in to the session.
func (s *Session) Authenticated() bool { return s.rec.subject != "" }

// Subject returns the logged-in user, "" when anonymous.
func (s *Session) Subject() string { return s.rec.subject }

// Roles returns the user's roles (read-only).
func (s *Session) Roles() []string {
	s.rec.materialize()
	return s.rec.roles
}

// Scopes returns the user's scopes (read-only).
func (s *Session) Scopes() []string {
	s.rec.materialize()
	return s.rec.scopes
}

// Persistent reports whether the session is a "remember me" session.
func (s *Session) Persistent() bool { return s.rec.persistent }

// IsNew reports whether the session is not stored yet: the request had
// no live session.
func (s *Session) IsNew() bool { return !s.loaded }

// AuthTime returns when the user logged in (zero when anonymous), for
// asking a returning "remember me" user to log in again before a
// sensitive action.
func (s *Session) AuthTime() time.Time {
	if s.rec.authAt == 0 {
		return time.Time{}
	}
	return time.Unix(0, s.rec.authAt)
}

// ExpiresAt returns when the session ends unless used again: the sooner
// of its idle and absolute timeouts. Zero for a session not stored yet.
func (s *Session) ExpiresAt() time.Time {
	if s.rec.deadline == 0 {
		return time.Time{}
	}
	idle, _ := s.m.lifetimes(s.rec.persistent)
	return time.Unix(0, min(s.rec.touched+int64(idle), s.rec.deadline))
}

// Err returns the store's error when it could not load the session (the
// session then looks new, and Save fails): for a handler that would
// rather answer 503 than treat the caller as anonymous.
func (s *Session) Err() error { return s.err }

// start makes a new session's record ready to be written.
func (s *Session) start(now int64) {
	if s.rec.deadline != 0 {
		return
	}
	_, abs := s.m.lifetimes(false)
	s.rec.created, s.rec.touched, s.rec.deadline = now, now, now+int64(abs)
	s.rec.binding = newBinding()
}

// Login logs id's user in: the session gets a new ID (the old one is
// destroyed, so an ID planted before login is worthless: session
// fixation), a new CSRF binding, fresh timeouts (Identity.Remember
// chooses which) and the user's roles and scopes. Its data is kept when
// an anonymous session logs in (a cart filled before login survives) or
// the same user logs in again; it is cleared when the subject changes
// (user A's session logged in as user B), so that B never sees A's data.
// The user's other sessions are listed with it, for LogoutEverywhere and
// Options.MaxSessionsPerUser. Saved with the response (audit reason
// session_created).
func (s *Session) Login(id Identity) error {
	if id.Subject == "" {
		return ErrNoSubject
	}
	now := s.m.now().UnixNano()
	s.rec.materialize()
	if s.rec.subject != "" && s.rec.subject != id.Subject {
		s.rec.data = nil // another user's data: never handed to this one
	}
	s.start(now)
	_, abs := s.m.lifetimes(id.Remember)
	s.rec.created, s.rec.touched, s.rec.authAt, s.rec.deadline = now, now, now, now+int64(abs)
	s.rec.persistent = id.Remember
	s.rec.subject = id.Subject
	s.rec.roles = slices.Clone(id.Roles)
	s.rec.scopes = slices.Clone(id.Scopes)
	s.principal = nil
	s.login = true
	s.renewID()
	return nil
}

// Renew gives the session a new ID and CSRF binding, destroying the old
// ID, and keeps everything else: call it when the user's privileges
// change (SetPrivileges does). Saved with the response (audit reason
// session_renewed).
func (s *Session) Renew() {
	s.start(s.m.now().UnixNano())
	s.renewID()
}

func (s *Session) renewID() {
	s.rec.binding = newBinding()
	s.renew, s.dirty = true, true
}

// SetPrivileges replaces the logged-in user's roles and scopes and renews
// the session ID (a privilege change is a login of its own).
func (s *Session) SetPrivileges(roles, scopes []string) {
	s.rec.materialize()
	s.rec.roles, s.rec.scopes = slices.Clone(roles), slices.Clone(scopes)
	s.principal = nil
	s.Renew()
}

// Logout ends the session: it is deleted from the store when the
// response starts (or at Save), and the cookie is removed (audit reason
// session_destroyed). In encrypted-cookie mode only the cookie is
// removed: a copy of it stays valid until it times out.
//
// After Logout the Session is new and empty: a value set afterwards (or a
// CSRFBinding asked for) starts a new anonymous session under a new ID.
func (s *Session) Logout() {
	if s.loaded || s.key != "" {
		if s.ended == nil {
			s.ended = new([]ended)
		}
		*s.ended = append(*s.ended, ended{s.key, s.rec.subject})
	}
	s.endCookie = s.endCookie || s.hadCookie || s.loaded || s.key != ""
	s.key, s.raw, s.rec, s.loaded, s.principal = "", nil, record{}, false, nil
	s.dirty, s.renew, s.login = false, false, false
}

// LogoutEverywhere ends every session of the logged-in user, this one
// included, at once (Manager.RevokeUser) and returns how many it ended.
func (s *Session) LogoutEverywhere() (int, error) {
	sub := s.Subject()
	if sub == "" {
		return 0, nil
	}
	n, err := s.m.revokeUser(s.r.Context(), s.r, sub)
	if err != nil {
		return n, err
	}
	s.Logout()
	return n, nil
}

// CSRFBinding returns a secret, stable for the session's ID, that a CSRF
// guard binds its tokens to: 32 random bytes (as a string), not derived
// from the ID and never sent to the client, so a token reveals nothing of
// the session. It changes whenever the ID does (Login, Renew,
// SetPrivileges), which invalidates tokens issued before. A session not
// stored yet is stored when asked (an anonymous "pre-session", so that a
// login form carries a token bound to something).
func (s *Session) CSRFBinding() string {
	if s.rec.binding == "" {
		s.start(s.m.now().UnixNano())
		s.dirty = true
	}
	return s.rec.binding
}

// Principal returns the logged-in user as an authn.Principal (Method
// "session", Source authn.SourceCookie), nil when anonymous.
func (s *Session) Principal() *authn.Principal {
	if !s.Authenticated() {
		return nil
	}
	if s.principal == nil {
		s.rec.materialize()
		s.principal = &authn.Principal{
			Subject: s.rec.subject, Method: "session", Roles: s.rec.roles, Scopes: s.rec.scopes,
			ExpiresAt: s.ExpiresAt(), ID: "session:" + s.rec.subject, Source: authn.SourceCookie,
		}
	}
	return s.principal
}

// Get returns the value stored under key as a T; false when there is
// none, or it was stored as another type (int and int64 are one type
// here).
func Get[T Value](s *Session, key string) (T, bool) {
	if v, ok := s.rec.value(key); ok {
		return decodeValue[T](v)
	}
	var zero T
	return zero, false
}

// Set stores v under key (saved with the response).
func Set[T Value](s *Session, key string, v T) {
	s.CSRFBinding() // a new session is started
	s.rec.materialize()
	enc := encodeValue(v)
	for i, f := range s.rec.data {
		if f.name == key {
			if f.val != enc {
				s.rec.data = slices.Clone(s.rec.data)
				s.rec.data[i].val = enc
				s.dirty = true
			}
			return
		}
	}
	s.rec.data = append(slices.Clip(s.rec.data), field{key, enc})
	s.dirty = true
}

// Delete removes key's value.
func (s *Session) Delete(key string) {
	s.rec.materialize()
	for i, f := range s.rec.data {
		if f.name == key {
			s.rec.data = slices.Delete(slices.Clone(s.rec.data), i, i+1)
			s.dirty = true
			return
		}
	}
}

// Keys returns the names of the stored values, in the order they were
// first set.
func (s *Session) Keys() []string {
	s.rec.materialize()
	ks := make([]string, len(s.rec.data))
	for i, f := range s.rec.data {
		ks[i] = f.name
	}
	return ks
}
