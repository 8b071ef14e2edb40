package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
)

// The HTML app's limits.
const (
	maxNotes       = 20                  // notes kept per user: the newest
	maxNoteRunes   = 500                 // characters in one note
	notesTTL       = 30 * 24 * time.Hour // a user's notes outlive any session
	maxSessionsPer = 50                  // concurrent sessions per user (the demo's accounts are public)
)

// webApp is the browser-facing half of the demo: GET /app, the form login
// and logout under /session/*, and the notes. Sessions and notes live in
// the app's state store (memory, or Redis shared by replicas).
type webApp struct {
	a        *App
	sessions *session.Manager
	user     *authn.Guard // the session alone: /session/me, /app/notes
	either   *authn.Guard // a bearer token first, else the session (for admin pages)
	csrf     *csrf.Guard  // both layers on /session/* and /app/*
	limit    *ratelimit.Limiter
	html     *headers.Profile
	page     *template.Template
}

// newWebApp builds the sessions, the CSRF guard (origin check and tokens),
// the form login's own limit and the HTML header profile.
func (a *App) newWebApp() (*webApp, error) {
	x := a.auth
	wa := &webApp{a: a, page: appPage}
	var err error
	if wa.sessions, err = session.New(session.Options{
		Store:              a.store,
		MaxSessionsPerUser: maxSessionsPer,
		Audit:              a.audit,
		Now:                a.cfg.Now,
	}); err != nil {
		return nil, err
	}
	if wa.user, err = authn.New(authn.Options{Authenticator: wa.sessions, Realm: demoRealm, Audit: a.audit}); err != nil {
		return nil, err
	}
	if wa.either, err = authn.New(authn.Options{Authenticator: authn.AnyOf(x.verifier, wa.sessions), Realm: demoRealm, Audit: a.audit}); err != nil {
		return nil, err
	}
	// Tokens are bound to the logged-in session; an anonymous visitor's
	// to the guard's pre-session cookie, so that a page view stores
	// nothing server-side until someone logs in.
	if wa.csrf, err = csrf.New(csrf.Options{
		Keys:           [][]byte{x.csrfKey},
		Binding:        sessionBinding,
		TrustedOrigins: a.cfg.CORSOrigins,
		SessionRoutes:  []string{"/session/login"},
		IssuePaths:     []string{"/app"},
		XSRFCookie:     true,
		Audit:          a.audit,
	}); err != nil {
		return nil, err
	}
	if wa.limit, err = ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{ratelimit.SlidingWindow(5, 5*time.Minute).Named("session-login").By(ratelimit.ByIP())},
		Store:  x.limits, Outage: ratelimit.FailClosed, Now: a.cfg.Now, Audit: a.audit,
	}); err != nil {
		return nil, err
	}
	if wa.html, err = headers.New(headers.HTML()); err != nil {
		return nil, err
	}
	return wa, nil
}

// sessionBinding is the CSRF guard's Binding: the session's secret once
// it holds a login (or anything else), else none (the pre-session).
func sessionBinding(r *http.Request) (string, bool) {
	s, ok := session.FromContext(r.Context())
	if !ok || (s.IsNew() && !s.Authenticated()) {
		return "", false
	}
	return s.CSRFBinding(), true
}

// pageData is what the page template shows.
type pageData struct {
	Nonce    string
	Token    string
	User     string
	Roles    []string
	Notes    []note
	Username string // the login form's last value
	Error    string
}

type note struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// render answers with the page: the login form for anonymous visitors,
// the user's notes otherwise. It renders into a buffer, so that a failure
// is a clean 500 problem, and asks for the CSRF token before anything is
// written.
//
// Headers: every response of the app's routes carries the site-wide API
// profile (its problems and redirects included); render alone switches
// the response to the HTML profile, whose CSP nonce the page's inline
// style carries, and back to the API profile if it answers with a problem
// after all. This is the one place an HTML page is written.
func (wa *webApp) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	if s, ok := session.FromContext(r.Context()); ok && s.Authenticated() {
		d.User, d.Roles = s.Subject(), s.Roles()
		notes, err := wa.notes(r.Context(), d.User)
		if err != nil {
			wa.a.deny("app").Deny(w, r, storeProblem(err))
			return
		}
		d.Notes = notes
	}
	r = wa.html.Apply(w, r) // the HTML profile, with this response's nonce
	d.Nonce = csp.Nonce(r.Context())
	d.Token = csrf.Token(r)
	var buf bytes.Buffer
	if err := wa.page.Execute(&buf, d); err != nil {
		r = wa.a.headers.Apply(w, r) // a problem: the API profile again
		wa.a.deny("app").Deny(w, r, problem.New(http.StatusInternalServerError, problem.TypeInternal, "the page could not be rendered").WithReason("render_failed").WithErr(err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// app is GET /app.
func (wa *webApp) app(w http.ResponseWriter, r *http.Request) {
	wa.render(w, r, http.StatusOK, pageData{})
}

// login is POST /session/login, the form login. The session-login limit has
// counted this attempt, the credential-stuffing guard (shared with
// /api/login) has let it through, and the CSRF guard has checked the
// origin and the token even without cookies (login CSRF). Bad credentials
// re-render the form with 401; success renews the session ID (Login) and
// answers 303 to /app.
func (wa *webApp) login(w http.ResponseWriter, r *http.Request) {
	s, _ := session.FromContext(r.Context())
	name, pw := r.PostFormValue("username"), r.PostFormValue("password")
	if name == "" || pw == "" || len(name) > 128 || len(pw) > 1024 {
		abuse.Report(w, r, abuse.Succeeded) // no password was tried: nothing to count
		wa.render(w, r, http.StatusUnprocessableEntity, pageData{Username: clip(name), Error: "Enter a username and a password."})
		return
	}
	user, err := wa.a.data.checkPassword(r.Context(), wa.a.auth.passwords, name, pw)
	if p := wa.a.auth.passwords.Unavailable(err); p != nil {
		wa.a.deny("login").Deny(w, r, p) // the password was not checked: nothing to count
		return
	}
	if err != nil {
		if abuse.Report(w, r, abuse.Failed) {
			return // the guard answered 403
		}
		w.Header().Set("WWW-Authenticate", wa.sessions.Challenge(demoRealm))
		wa.render(w, r, http.StatusUnauthorized, pageData{Username: clip(name), Error: "Wrong username or password."})
		return
	}
	if err := s.Login(session.Identity{Subject: user.Username, Roles: []string{user.Role}, Scopes: user.Scopes}); err != nil {
		wa.a.deny("login").Deny(w, r, problem.New(http.StatusInternalServerError, problem.TypeInternal, "could not log in").WithReason("login_failed").WithErr(err))
		return
	}
	abuse.Report(w, r, abuse.Succeeded)
	csrf.Token(r) // a token (and XSRF-TOKEN cookie) bound to the new session
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// clip keeps a re-displayed username short and valid UTF-8.
func clip(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.ToValidUTF8(s, "")
}

// logout is POST /session/logout: the session is deleted from the store
// (a copy of the cookie is worthless from now on) and the cookie removed,
// with the CSRF guard's pre-session and XSRF-TOKEN cookies (bound to what
// has ended); the next GET /app hands out fresh ones.
func (wa *webApp) logout(w http.ResponseWriter, r *http.Request) {
	if s, ok := session.FromContext(r.Context()); ok {
		s.Logout()
	}
	csrf.Clear(r)
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// me is GET /session/me, behind the session guard (401 without a login).
func (wa *webApp) me(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"authenticated": true,
		"user":          map[string]any{"subject": p.Subject, "roles": p.Roles, "scopes": p.Scopes, "method": p.Method},
		"expires_at":    p.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

// addNote is POST /app/notes: logged in (the session guard), CSRF-checked
// (both layers); the note is validated, stored under the user, and the
// browser sent back to /app. An invalid note re-renders the page with 422.
func (wa *webApp) addNote(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.FromContext(r.Context())
	text, msg := validNote(r.PostFormValue("text"))
	if msg != "" {
		wa.render(w, r, http.StatusUnprocessableEntity, pageData{Error: msg})
		return
	}
	if err := wa.appendNote(r.Context(), p.Subject, note{Text: text, At: wa.a.cfg.Now().UTC()}); err != nil {
		wa.a.deny("app").Deny(w, r, storeProblem(err))
		return
	}
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// validNote trims a note and checks it: 1 to maxNoteRunes characters of
// valid UTF-8, no control characters but line breaks and tabs. The page
// escapes it on output (html/template); this keeps the store clean.
func validNote(s string) (string, string) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case s == "":
		return "", "Write something first: the note is empty."
	case !utf8.ValidString(s):
		return "", "The note is not valid UTF-8."
	case utf8.RuneCountInString(s) > maxNoteRunes:
		return "", "A note holds at most 500 characters."
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "", "The note contains control characters."
	}
	return s, ""
}

func notesKey(user string) string { return "notes:" + user }

// notes returns the user's notes, newest first.
func (wa *webApp) notes(ctx context.Context, user string) ([]note, error) {
	raw, ok, err := wa.a.store.Get(ctx, notesKey(user))
	if err != nil || !ok {
		return nil, err
	}
	var list []note
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, nil // unreadable: start again
	}
	return list, nil
}

// errNoteConflict: the notes kept changing under a write (many concurrent
// writers); the client may retry.
var errNoteConflict = errors.New("demo: notes changed concurrently; try again")

// appendNote puts n first in the user's list, keeping the newest
// maxNotes. Two requests adding notes at once both land: each write is a
// compare-and-swap against what it read (memstore and redisstore both
// swap atomically), retried a few times.
func (wa *webApp) appendNote(ctx context.Context, user string, n note) error {
	swapper, _ := wa.a.store.(store.Swapper)
	for range 8 {
		old, ok, err := wa.a.store.Get(ctx, notesKey(user))
		if err != nil {
			return err
		}
		var list []note
		if ok {
			_ = json.Unmarshal(old, &list)
		} else {
			old = nil
		}
		list = append([]note{n}, list...)
		if len(list) > maxNotes {
			list = list[:maxNotes]
		}
		next, err := json.Marshal(list)
		if err != nil {
			return err
		}
		if swapper == nil {
			return wa.a.store.Set(ctx, notesKey(user), next, notesTTL)
		}
		swapped, err := swapper.CompareAndSwap(ctx, notesKey(user), old, next, notesTTL)
		if err != nil || swapped {
			return err
		}
	}
	return errNoteConflict
}

func storeProblem(err error) *problem.Problem {
	if errors.Is(err, errNoteConflict) {
		return problem.New(http.StatusConflict, session.TypeConflict, "the notes changed while saving; try again").WithReason("notes_conflict")
	}
	return problem.Unavailable(5*time.Second, "the notes store is temporarily unavailable").WithReason("store_unavailable").WithErr(err)
}

// describe reports the sessions and the CSRF guard for /config/security.
func (wa *webApp) describe() map[string]any {
	return map[string]any{
		"sessions": map[string]any{
			"store":                 "the state store (memory, or Redis with --redis): server-side, the cookie carries a 256-bit random ID only",
			"cookie":                "session (__Host-session over HTTPS): HttpOnly, SameSite=Lax, Secure under TLS, Path=/",
			"idle_timeout":          session.DefaultIdleTimeout.String(),
			"absolute_timeout":      session.DefaultAbsoluteTimeout.String(),
			"max_sessions_per_user": maxSessionsPer,
			"renewal":               "a new ID at login; logout deletes the session server-side",
		},
		"session_login_limit": "sliding window, 5 attempts of any outcome per client IP per 5 minutes, on POST /session/login (its own window; the credential-stuffing detector is shared with /api/login); it runs before the CSRF check, so CSRF-refused attempts count too; fails closed",
		"notes":               "at most 20 per user, 500 characters each, in the state store",
	}
}
