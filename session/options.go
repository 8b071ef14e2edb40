package session

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/fastclock"
	"github.com/bulwark-go/bulwark/internal/origin"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// Defaults for Options.
const (
	DefaultCookieName          = "session"
	DefaultIdleTimeout         = 30 * time.Minute
	DefaultAbsoluteTimeout     = 12 * time.Hour
	DefaultRememberIdleTimeout = 7 * 24 * time.Hour
	DefaultRememberFor         = 30 * 24 * time.Hour
	DefaultKeyPrefix           = "session:"
	// MaxCookieSize bounds the Set-Cookie value an encrypted-cookie
	// session may need (name, value and attributes): browsers keep at
	// least 4096 bytes per cookie (RFC 6265 §6.1) and drop larger ones
	// silently, so Save refuses them with ErrCookieTooLarge instead.
	MaxCookieSize = 4096
	// MinKeySize is the shortest cookie key New accepts (AES-256).
	MinKeySize = 32
)

// Options configure a Manager. The zero value of every field but Store (or
// CookieKeys) is a secure default.
type Options struct {
	// Store keeps sessions server-side (memstore in one process,
	// redisstore shared by replicas); the cookie carries only a random ID.
	// A store that implements store.Swapper (both do) detects two
	// concurrent writes of one session; see the package documentation.
	// The value Get returns is kept, not copied: a store must return a
	// fresh slice it never changes again (both do). Exactly one of Store
	// and CookieKeys is required.
	Store store.KV `json:"-" yaml:"-"`
	// CookieKeys selects the encrypted-cookie mode: no server state, the
	// session sealed with AES-256-GCM in the cookie. The first key seals,
	// every key opens (rotation: put the new key first, drop the old one
	// once every cookie it sealed has expired). Each key must be at least
	// 32 bytes, and no two alike; the AES-256 key is derived from the
	// whole key with HKDF-SHA256, and a sealed cookie is bound to the
	// cookie's name, Path and Domain, so it opens in no Manager configured
	// otherwise. See the package documentation for what this mode gives
	// up.
	CookieKeys [][]byte `json:"-" yaml:"-"`

	// CookieName names the cookie. Default "session". Under HTTPS with
	// Path "/" and no Domain the cookie is named "__Host-" + CookieName
	// (see NoHostPrefix).
	CookieName string `json:"cookie_name" yaml:"cookie_name"`
	// Path is the cookie's Path. Default "/".
	Path string `json:"path" yaml:"path"`
	// Domain is the cookie's Domain; empty (the default) sends the cookie
	// to the exact host only, which is safer: a Domain shares it with every
	// subdomain, and rules out the __Host- prefix. A public suffix ("com",
	// "co.uk", "github.io") or a single label is refused: browsers drop
	// such a cookie, or would share it with every site under the suffix.
	Domain string `json:"domain" yaml:"domain"`
	// SameSite is "lax" (default), "strict" or "none". Lax keeps the
	// cookie off cross-site subrequests and POSTs; Strict also off
	// cross-site top-level navigations (a link from another site lands
	// logged out). "none" needs SecureAlways.
	SameSite string `json:"same_site" yaml:"same_site"`
	// SecureAlways marks the cookie Secure on every response. By default
	// it is Secure when the request arrived over HTTPS: directly, or
	// through a trusted proxy as package clientip resolved it (the same
	// verdict HSTS follows). Set it in production behind TLS.
	SecureAlways bool `json:"secure_always" yaml:"secure_always"`
	// NoHostPrefix keeps the plain CookieName under HTTPS. The __Host-
	// prefix makes browsers refuse the cookie unless it is Secure, has
	// Path=/ and no Domain, so a sibling subdomain or a plain-HTTP
	// man in the middle cannot plant a session cookie; keep it.
	NoHostPrefix bool `json:"no_host_prefix" yaml:"no_host_prefix"`

	// IdleTimeout ends a browser-session login after this long without a
	// request. Default 30 minutes.
	IdleTimeout time.Duration `json:"idle_timeout" yaml:"idle_timeout"`
	// AbsoluteTimeout ends a browser-session login this long after it
	// began, however active. Default 12 hours.
	AbsoluteTimeout time.Duration `json:"absolute_timeout" yaml:"absolute_timeout"`
	// RememberIdleTimeout is IdleTimeout for a "remember me" login
	// (Identity.Remember). Default 7 days.
	RememberIdleTimeout time.Duration `json:"remember_idle_timeout" yaml:"remember_idle_timeout"`
	// RememberFor is AbsoluteTimeout for a "remember me" login, and the
	// persistent cookie's lifetime. Default 30 days.
	RememberFor time.Duration `json:"remember_for" yaml:"remember_for"`

	// MaxSessionsPerUser caps one user's concurrent logins: a login
	// beyond the cap ends the user's oldest sessions (audit reason
	// session_evicted). 0 (the default) means no cap. Store mode only.
	MaxSessionsPerUser int `json:"max_sessions_per_user" yaml:"max_sessions_per_user"`
	// KeyPrefix prefixes the session's store keys. Default "session:".
	KeyPrefix string `json:"key_prefix" yaml:"key_prefix"`

	// Audit receives session lifecycle events and denials. Default none.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes the Handler's refusals (409 on a conflicting
	// write, 503 when the store fails a write). Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
	// Now is the clock. Default: the system clock read cheaply (a
	// monotonic read added to a wall-clock anchor refreshed every
	// second, so a step of the system clock shows within a second).
	Now func() time.Time `json:"-" yaml:"-"`
}

// Manager issues, loads, saves and ends sessions. It is immutable after
// New and safe for concurrent use.
type Manager struct {
	kv   store.KV
	app  store.Appender // nil when kv cannot copy into a session's buffer
	swap store.Swapper  // nil when kv cannot swap: last writer wins
	aead []cipher.AEAD  // encrypted-cookie mode; first seals
	aad  []byte         // the GCM additional data: the cookie's name, Path and Domain

	name, hostName string
	path, domain   string
	sameSite       http.SameSite
	secureAlways   bool
	hostPrefix     bool // the __Host- prefix applies when secure

	idle, absolute           time.Duration
	rememberIdle, rememberAb time.Duration
	touchEvery               time.Duration
	maxPerUser               int
	prefix                   string
	sPrefix                  string // prefix + "s:": a session's store key is sPrefix + its reference

	audit audit.Sink
	deny  problem.Denier
	now   func() time.Time
	clock fastclock.Clock // now's default
}

// New validates opts and returns a Manager.
func New(opts Options) (*Manager, error) {
	m := &Manager{
		kv: opts.Store, name: opts.CookieName, path: opts.Path, domain: opts.Domain,
		secureAlways: opts.SecureAlways, hostPrefix: !opts.NoHostPrefix,
		idle: opts.IdleTimeout, absolute: opts.AbsoluteTimeout,
		rememberIdle: opts.RememberIdleTimeout, rememberAb: opts.RememberFor,
		maxPerUser: opts.MaxSessionsPerUser, prefix: opts.KeyPrefix,
		audit: audit.OrNop(opts.Audit), now: opts.Now,
	}
	switch {
	case opts.Store == nil && len(opts.CookieKeys) == 0:
		return nil, errors.New("session: set Options.Store (server-side sessions, e.g. a memstore or redisstore) or Options.CookieKeys (encrypted cookies)")
	case opts.Store != nil && len(opts.CookieKeys) > 0:
		return nil, errors.New("session: set either Options.Store or Options.CookieKeys, not both")
	}
	if opts.Store != nil {
		m.swap, _ = opts.Store.(store.Swapper)
		m.app, _ = opts.Store.(store.Appender)
	}
	for i, k := range opts.CookieKeys {
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("session: Options.CookieKeys[%d] is %d bytes; use at least %d random bytes (e.g. from crypto/rand)", i, len(k), MinKeySize)
		}
		for j := range i {
			if bytes.Equal(opts.CookieKeys[j], k) {
				return nil, fmt.Errorf("session: Options.CookieKeys[%d] repeats CookieKeys[%d]; list each key once (rotation: the new key first, then the old one)", i, j)
			}
		}
		dk, err := cookieKey(k)
		if err != nil {
			return nil, fmt.Errorf("session: Options.CookieKeys[%d]: %w", i, err)
		}
		block, err := aes.NewCipher(dk)
		if err != nil {
			return nil, fmt.Errorf("session: Options.CookieKeys[%d]: %w", i, err)
		}
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: Options.CookieKeys[%d]: %w", i, err)
		}
		m.aead = append(m.aead, g)
	}
	if m.aead != nil && m.maxPerUser != 0 {
		return nil, errors.New("session: Options.MaxSessionsPerUser needs server-side sessions (Options.Store): encrypted cookies keep no list of a user's sessions")
	}
	if m.maxPerUser < 0 {
		return nil, errors.New("session: Options.MaxSessionsPerUser must not be negative (0: no cap)")
	}
	if m.name == "" {
		m.name = DefaultCookieName
	}
	if !validCookieName(m.name) || strings.HasPrefix(strings.ToLower(m.name), "__host-") || strings.HasPrefix(strings.ToLower(m.name), "__secure-") {
		return nil, fmt.Errorf("session: Options.CookieName %q must be a plain cookie token without a __Host- or __Secure- prefix (the prefix is added when it applies)", m.name)
	}
	m.hostName = "__Host-" + m.name
	if m.path == "" {
		m.path = "/"
	}
	if !strings.HasPrefix(m.path, "/") || strings.ContainsAny(m.path, ";\r\n\x00") {
		return nil, fmt.Errorf("session: Options.Path %q must start with / and hold no ';' or control characters", m.path)
	}
	if strings.ContainsAny(m.domain, "; \t\r\n\x00") {
		return nil, fmt.Errorf("session: Options.Domain %q is not a host name", m.domain)
	}
	if d := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(m.domain, "."), ".")); m.domain != "" {
		if section, ok := origin.PublicSuffix(d); ok {
			return nil, fmt.Errorf("session: Options.Domain %q is a public suffix (%s): browsers refuse the cookie, or share it with every site under it; leave Domain empty (the exact host, safest) or name a domain you own, e.g. \"example.com\"", m.domain, section)
		}
		if !strings.Contains(d, ".") {
			return nil, fmt.Errorf("session: Options.Domain %q is a single label: browsers refuse such a cookie; leave Domain empty (the exact host, safest) or name a domain you own, e.g. \"example.com\"", m.domain)
		}
	}
	m.aad = fmt.Appendf(nil, "bulwark session v2\x00%s\x00%s\x00%s", m.name, m.path, strings.ToLower(m.domain))
	if m.path != "/" || m.domain != "" {
		m.hostPrefix = false // the prefix requires Path=/ and no Domain
	}
	switch strings.ToLower(opts.SameSite) {
	case "", "lax":
		m.sameSite = http.SameSiteLaxMode
	case "strict":
		m.sameSite = http.SameSiteStrictMode
	case "none":
		if !m.secureAlways {
			return nil, errors.New("session: Options.SameSite \"none\" sends the session cookie on cross-site requests, and browsers accept it only on a Secure cookie: set Options.SecureAlways too (or use \"lax\")")
		}
		m.sameSite = http.SameSiteNoneMode
	default:
		return nil, fmt.Errorf("session: Options.SameSite %q: use \"lax\" (default), \"strict\" or \"none\"", opts.SameSite)
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&m.idle, DefaultIdleTimeout, "IdleTimeout"},
		{&m.absolute, DefaultAbsoluteTimeout, "AbsoluteTimeout"},
		{&m.rememberIdle, DefaultRememberIdleTimeout, "RememberIdleTimeout"},
		{&m.rememberAb, DefaultRememberFor, "RememberFor"},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Second:
			return nil, fmt.Errorf("session: Options.%s %v is too short: at least a second (0 for the default %v)", d.name, *d.v, d.def)
		}
	}
	if m.idle > m.absolute {
		m.idle = m.absolute
	}
	if m.rememberIdle > m.rememberAb {
		m.rememberIdle = m.rememberAb
	}
	// Activity is written at most every tenth of the idle timeout (at
	// most every minute): a session read by many concurrent requests is
	// not rewritten by each.
	m.touchEvery = min(m.idle/10, time.Minute)
	if m.prefix == "" {
		m.prefix = DefaultKeyPrefix
	}
	m.sPrefix = m.prefix + "s:"
	if m.now == nil {
		m.now = m.clock.Now // see package internal/fastclock: a step of the system clock shows within a second
	}
	m.deny = problem.Denier{Guard: guardName, Audit: opts.Audit, Handler: opts.ErrorHandler}
	return m, nil
}

// cookieKey derives the AES-256 key from a whole Options.CookieKeys
// entry, so that every byte of it counts.
func cookieKey(k []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, k, nil, "bulwark session cookie AES-256-GCM", 32)
}

// guardName names the package in audit events.
const guardName = "session"

// validCookieName reports whether s is an RFC 6265 cookie-name token.
func validCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return s != ""
}

// lifetimes returns the idle and absolute timeouts of a session.
func (m *Manager) lifetimes(persistent bool) (idle, absolute time.Duration) {
	if persistent {
		return m.rememberIdle, m.rememberAb
	}
	return m.idle, m.absolute
}
