package basic

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/internal/credential"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/password"
	"github.com/bulwark-go/bulwark/problem"
)

// MaxHeaderLen bounds the Authorization header value Basic decodes, in
// bytes: 4 KiB holds a MaxUserLen name and a password.MaxPasswordLen
// password, base64-encoded, with room to spare.
const MaxHeaderLen = 4096

// MaxUserLen bounds a user name, in bytes.
const MaxUserLen = 256

// MaxUsers bounds the users a file or Options.Users may hold.
const MaxUsers = 1 << 20

// User is one account: its password hash and what it may do.
type User struct {
	// Hash is the password's argon2id PHC string (or a bcrypt hash).
	Hash string `json:"hash" yaml:"hash"`
	// Roles become the principal's Roles. Default none.
	Roles []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	// Scopes become the principal's Scopes. Default none.
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
}

// Options configure an Authenticator. One of Users or File is required.
type Options struct {
	// Users maps user names to accounts. Default none.
	Users map[string]User `json:"users,omitempty" yaml:"users,omitempty"`
	// File names a user file (see the package documentation for its
	// format), read once by New; its users are added to Users, and a name
	// in both is refused. Default none.
	File string `json:"file,omitempty" yaml:"file,omitempty"`
	// Verifier checks passwords within a concurrency budget. Share the
	// process's one Verifier between every authenticator that checks
	// passwords (login routes, sessions, Basic). Default: a Verifier of
	// this Authenticator's own, with password.Options{} (its stand-in hash
	// then uses password.Default: give the shared one if your hashes use
	// other parameters, so that unknown users cost what real ones do).
	Verifier *password.Verifier `json:"-" yaml:"-"`
}

// Authenticator checks HTTP Basic credentials. It is an authn.Authenticator
// and an authn.Challenger; immutable after New and safe for concurrent
// use.
type Authenticator struct {
	users    map[string]*account
	verifier *password.Verifier
}

type account struct {
	hash      string
	principal *authn.Principal // shared by every request of the user: read-only
}

// New validates opts, reads Options.File, checks the form of every hash,
// and returns an Authenticator.
func New(opts Options) (*Authenticator, error) {
	users := make(map[string]User, len(opts.Users))
	for name, u := range opts.Users {
		users[name] = u
	}
	if opts.File != "" {
		f, err := os.Open(opts.File)
		if err != nil {
			return nil, fmt.Errorf("basic: reading the user file: %w", err)
		}
		fileUsers, err := ParseUsers(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("basic: %s: %w", opts.File, err)
		}
		for name, u := range fileUsers {
			if _, dup := users[name]; dup {
				return nil, fmt.Errorf("basic: user %q is both in Options.Users and in %s; keep one", name, opts.File)
			}
			users[name] = u
		}
	}
	if len(users) == 0 {
		return nil, errors.New("basic: no users: set Options.Users or Options.File (lines of user:hash, hashes from `bulwark hash-password`)")
	}
	if len(users) > MaxUsers {
		return nil, fmt.Errorf("basic: %d users, more than %d; use a database-backed authenticator", len(users), MaxUsers)
	}
	a := &Authenticator{users: make(map[string]*account, len(users)), verifier: opts.Verifier}
	for name, u := range users {
		if err := checkUser(name); err != nil {
			return nil, fmt.Errorf("basic: user %q: %w", name, err)
		}
		if err := password.CheckHash(u.Hash); err != nil {
			return nil, fmt.Errorf("basic: user %q: the hash is neither an argon2id PHC string nor a bcrypt hash (make one with `bulwark hash-password`)", name)
		}
		a.users[name] = &account{hash: u.Hash, principal: &authn.Principal{
			Subject: name,
			Method:  "basic",
			Roles:   append([]string(nil), u.Roles...),
			Scopes:  append([]string(nil), u.Scopes...),
			ID:      "basic:" + name,
			Source:  authn.SourceHeader,
		}}
	}
	if a.verifier == nil {
		v, err := password.NewVerifier(password.Options{})
		if err != nil {
			return nil, err
		}
		a.verifier = v
	}
	return a, nil
}

// checkUser reports whether name may be a user name.
func checkUser(name string) error {
	switch {
	case name == "":
		return errors.New("empty user name")
	case len(name) > MaxUserLen:
		return fmt.Errorf("user name longer than %d bytes", MaxUserLen)
	case !utf8.ValidString(name):
		return errors.New("user name is not UTF-8")
	case hasControl(name):
		return errors.New("user name contains a control character")
	case strings.Contains(name, ":"):
		return errors.New("user name contains ':' (RFC 7617 forbids it)")
	}
	return nil
}

// ParseUsers reads a user file (see the package documentation): lines of
// user:hash[:roles[:scopes]]. It checks names, fields and the form of each
// hash, and refuses a name given twice.
func ParseUsers(r io.Reader) (map[string]User, error) {
	users := map[string]User{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 || len(f) > 4 {
			return nil, fmt.Errorf("line %d: want user:hash[:roles[:scopes]]", n)
		}
		name := f[0]
		if err := checkUser(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if _, dup := users[name]; dup {
			return nil, fmt.Errorf("line %d: user %q appears twice", n, name)
		}
		if err := password.CheckHash(f[1]); err != nil {
			return nil, fmt.Errorf("line %d: user %q: the hash is neither an argon2id PHC string nor a bcrypt hash", n, name)
		}
		u := User{Hash: f[1]}
		if len(f) > 2 {
			u.Roles = list(f[2])
		}
		if len(f) > 3 {
			u.Scopes = list(f[3])
		}
		users[name] = u
		if len(users) > MaxUsers {
			return nil, fmt.Errorf("more than %d users", MaxUsers)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return users, nil
}

func list(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// Challenge returns the RFC 7617 challenge: Basic realm="…", charset="UTF-8".
func (a *Authenticator) Challenge(realm string) string {
	return problem.Challenge("Basic", realm, "charset", "UTF-8")
}

// AuthorizationSchemes implements authn.AuthorizationReader: Basic.
func (a *Authenticator) AuthorizationSchemes() []string { return []string{"Basic"} }

// Authenticate reads the request's Basic credentials and checks them. It
// returns the user's principal (Method "basic", Source header); ErrNoCredentials
// when the request has no Authorization header or one of another scheme;
// a 401 problem for a malformed header or bad credentials; a 503 problem
// (password_busy) when the verification budget stayed full.
func (a *Authenticator) Authenticate(r *http.Request) (*authn.Principal, error) {
	user, pw, err := Credentials(r)
	if err != nil {
		return nil, err
	}
	return a.Verify(r.Context(), user, pw)
}

// Verify checks user and pw, the credentials Credentials read, and returns
// the user's principal; a 401 problem (bad_credentials) for an unknown user
// or a wrong password, after the same work for both; a 503 problem
// (password_busy) when the budget stayed full. Use it with Credentials
// where something must happen between reading and checking (the demo
// checks a credential-stuffing detector there).
func (a *Authenticator) Verify(ctx context.Context, user, pw string) (*authn.Principal, error) {
	acc := a.users[user]
	hash := ""
	if acc != nil {
		hash = acc.hash
	}
	_, err := a.verifier.Verify(ctx, pw, hash) // "" : the stand-in hash, the same work
	if p := a.verifier.Unavailable(err); p != nil {
		return nil, p
	}
	if err != nil || acc == nil {
		cause := err
		if acc == nil {
			cause = errors.New("unknown user")
		}
		return nil, refuse("bad_credentials", "invalid username or password").WithErr(cause)
	}
	return acc.principal, nil
}

// Credentials reads r's Basic credentials (RFC 7617): the user-id and
// password, each valid UTF-8 without control characters. It returns
// authn.ErrNoCredentials when r has no Authorization header or one of
// another scheme, and a 401 problem with a specific reason (see the
// package documentation) for a malformed one.
func Credentials(r *http.Request) (user, pw string, err error) {
	v, n := credential.Field(r.Header, "Authorization")
	switch {
	case n == 0:
		return "", "", authn.ErrNoCredentials
	case n > 1:
		return "", "", refuse("authorization_malformed", "the request carries several Authorization headers")
	}
	return parse(v)
}

// parse decodes one Authorization header value.
func parse(v string) (user, pw string, err error) {
	scheme, rest := credential.Split(v)
	if !httpsyntax.IsToken(scheme) {
		return "", "", refuse("authorization_malformed", "the Authorization header has no authentication scheme")
	}
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", authn.ErrNoCredentials // another scheme: not ours
	}
	if len(v) > MaxHeaderLen {
		return "", "", refuse("basic_too_long", "the Basic credentials are too long")
	}
	rest = httpsyntax.TrimOWS(rest) // Split leaves tabs after the spaces
	if rest == "" {
		return "", "", refuse("basic_malformed", "the Basic credentials are empty")
	}
	raw, err := decode64(rest)
	if err != nil {
		return "", "", refuse("basic_malformed", "the Basic credentials are not base64")
	}
	user, pw, ok := strings.Cut(string(raw), ":")
	switch {
	case !ok:
		return "", "", refuse("basic_no_colon", "the Basic credentials lack the colon between user and password")
	case !utf8.ValidString(user) || !utf8.ValidString(pw):
		return "", "", refuse("basic_not_utf8", "the Basic credentials are not UTF-8")
	case hasControl(user) || hasControl(pw):
		return "", "", refuse("basic_control_chars", "the Basic credentials contain control characters")
	case len(user) > MaxUserLen:
		return "", "", refuse("basic_user_too_long", "the user name is too long")
	}
	return user, pw, nil
}

// decode64 decodes standard base64, padded or not (RFC 7617 asks for
// padded; some clients leave it out).
func decode64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// hasControl reports whether s contains a control character (C0, DEL or
// C1), which RFC 7617 §2 forbids in the user-id and password.
func hasControl(s string) bool {
	for _, c := range s {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return true
		}
	}
	return false
}

// refuse is a 401 without a challenge: authn.Guard adds its own (the Basic
// one, or every scheme of an authn.AnyOf).
func refuse(reason, detail string) *problem.Problem {
	return problem.Unauthorized(problem.TypeInvalidCredentials, "", detail).WithReason(reason)
}
