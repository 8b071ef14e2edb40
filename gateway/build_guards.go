package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/csrf"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/session"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

// ParseSource reads an abuse source in the configuration's text form:
// "client", "client/24/64", "principal", "global", "basic-user",
// "header:NAME", "apikey:HEADER", "json:a,b", "card:NUMBER,MONTH,YEAR",
// and "A | B" for the first of several that has a value. It is the
// inverse of abuse.Source.String for these sources.
func ParseSource(s string) (abuse.Source, error) {
	s = strings.TrimSpace(s)
	if alts := strings.Split(s, "|"); len(alts) > 1 {
		var srcs []abuse.Source
		for _, a := range alts {
			src, err := ParseSource(a)
			if err != nil {
				return abuse.Source{}, err
			}
			srcs = append(srcs, src)
		}
		return abuse.FirstOf(srcs...), nil
	}
	kind, arg, hasArg := strings.Cut(s, ":")
	noArg := func(src abuse.Source) (abuse.Source, error) {
		if hasArg {
			return abuse.Source{}, fmt.Errorf("source %q takes no argument", kind)
		}
		return src, nil
	}
	list := func(n int) ([]string, error) {
		parts := strings.Split(arg, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
			if parts[i] == "" {
				return nil, fmt.Errorf("source %q: an empty name", s)
			}
		}
		if !hasArg || n > 0 && len(parts) != n {
			return nil, fmt.Errorf("source %q: want %s:%s", s, kind, map[int]string{0: "NAME[,NAME…]", 1: "NAME", 3: "NUMBER,MONTH,YEAR"}[n])
		}
		return parts, nil
	}
	switch kind {
	case "client":
		return noArg(abuse.Client())
	case "principal":
		return noArg(abuse.Principal())
	case "global":
		return noArg(abuse.Global())
	case "basic-user":
		return noArg(abuse.BasicAuthUser())
	case "header", "apikey":
		p, err := list(1)
		if err != nil {
			return abuse.Source{}, err
		}
		if kind == "apikey" {
			return abuse.APIKey(p[0]), nil
		}
		return abuse.Header(p[0]), nil
	case "json":
		p, err := list(0)
		if err != nil {
			return abuse.Source{}, err
		}
		return abuse.JSONField(p...), nil
	case "card":
		p, err := list(3)
		if err != nil {
			return abuse.Source{}, err
		}
		return abuse.Card(p[0], p[1], p[2]), nil
	}
	if rest, ok := strings.CutPrefix(s, "client/"); ok {
		v4s, v6s, ok := strings.Cut(rest, "/")
		v4, err1 := strconv.Atoi(v4s)
		v6, err2 := strconv.Atoi(v6s)
		if !ok || err1 != nil || err2 != nil || v4 < 0 || v4 > 32 || v6 < 0 || v6 > 128 {
			return abuse.Source{}, fmt.Errorf("source %q: want client/V4BITS/V6BITS, e.g. client/24/64", s)
		}
		return abuse.ClientPrefix(v4, v6), nil
	}
	return abuse.Source{}, fmt.Errorf("unknown source %q: want client, client/24/64, principal, global, basic-user, header:NAME, apikey:HEADER, json:NAME[,NAME], card:NUMBER,MONTH,YEAR, or A | B", s)
}

// keyedByPrincipal reports whether a detector counts under the caller's
// identity, known only after authentication.
func (d AbuseDetector) keyedByPrincipal() bool {
	has := func(s string) bool { return strings.Contains(s, "principal") }
	if has(d.Key) || has(d.Fingerprint) {
		return true
	}
	for _, v := range d.Views {
		if has(v.Key) || has(v.Value) {
			return true
		}
	}
	return false
}

// buildAbuse builds a named abuse detector, keeping the previous one (and
// its in-memory counts) when its definition is unchanged.
func (b *builder) buildAbuse(name string, def AbuseDetector) (*abuse.Guard, error) {
	hashed := struct {
		Def   AbuseDetector
		Redis *Redis
	}{def, nil}
	if def.Store == "redis" {
		hashed.Redis = b.g.cfg.Redis
	}
	v, err := b.reuse("abuse/"+name, hashed, func() (any, func(), error) {
		o := def.Options
		if o.Name == "" {
			o.Name = name
		}
		var err error
		key := def.Key
		if key == "" {
			key = "client"
		}
		if o.Key, err = ParseSource(key); err != nil {
			return nil, nil, fmt.Errorf("key: %w", err)
		}
		if def.Fingerprint == "" {
			return nil, nil, errors.New(`fingerprint is required, e.g. "card:card_number,exp_month,exp_year" or "json:username"`)
		}
		if o.Fingerprint, err = ParseSource(def.Fingerprint); err != nil {
			return nil, nil, fmt.Errorf("fingerprint: %w", err)
		}
		o.Views = nil
		for i, vd := range def.Views {
			view := vd.View
			if view.Key, err = ParseSource(vd.Key); err != nil {
				return nil, nil, fmt.Errorf("views[%d].key: %w", i, err)
			}
			if view.Value, err = ParseSource(vd.Value); err != nil {
				return nil, nil, fmt.Errorf("views[%d].value: %w", i, err)
			}
			o.Views = append(o.Views, view)
		}
		if def.Secret != "" {
			s, err := b.o.Resolve.expand("secret", def.Secret)
			if err != nil {
				return nil, nil, err
			}
			o.Secret = []byte(s)
		}
		o.Audit = b.g.tel.Audit
		var closer func()
		switch def.Store {
		case "", "memory":
			ms := memstore.New(memstore.Options{})
			o.Store, closer = ms, func() { ms.Close() }
		case "redis":
			if b.g.redis == nil {
				return nil, nil, errors.New(`store "redis" needs the top-level redis section`)
			}
			o.Store = b.g.redis.store("abuse:", b.g.tel.Audit)
		default:
			return nil, nil, fmt.Errorf("store %q: want memory or redis", def.Store)
		}
		g, err := abuse.New(o)
		if err != nil {
			if closer != nil {
				closer()
			}
			return nil, nil, err
		}
		return g, closer, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*abuse.Guard), nil
}

// buildCSRF builds the CSRF guard a route uses: the named definition with
// its tokens bound to the route's session (when it has one) and the
// route's login path among its session routes. Guards are stateless but
// for their keys, so one is built per distinct use.
func (b *builder) buildCSRF(name string, def CSRF, sess *session.Manager, loginPath string) (*csrf.Guard, error) {
	key := name + "\x00" + loginPath
	if sess != nil {
		key += "\x00session"
	}
	for k, g := range b.csrfs {
		if k.key == key && k.sess == sess {
			return g, nil
		}
	}
	o := def.Options
	keys, err := b.secrets("keys", def.Keys, def.KeyFiles)
	if err != nil {
		return nil, err
	}
	o.Keys = keys
	o.Audit = b.g.tel.Audit
	if loginPath != "" {
		o.SessionRoutes = append(append([]string(nil), o.SessionRoutes...), loginPath)
	}
	if sess != nil {
		o.Binding = func(r *http.Request) (string, bool) {
			// Sessions already stored bind their tokens; a visitor
			// without one gets the guard's pre-session cookie, so
			// that browsing stores no anonymous session.
			s, ok := session.FromContext(r.Context())
			if !ok || s.IsNew() {
				return "", false
			}
			return s.CSRFBinding(), true
		}
	}
	g, err := csrf.New(o)
	if err != nil {
		return nil, err
	}
	b.csrfs[csrfUse{key: key, sess: sess}] = g
	return g, nil
}

type csrfUse struct {
	key  string
	sess *session.Manager
}

// upstreamToken sends a fresh CSRF token for the request's session
// upstream in header (the client's copies removed), for pages rendered
// there.
func upstreamToken(header string) func(http.Handler) http.Handler {
	header = http.CanonicalHeaderKey(header)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del(header)
			if t := csrf.Token(r); t != "" {
				r.Header.Set(header, t)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// patternPath returns the path of a ServeMux pattern without wildcards
// ("POST /login" → "/login"), or "" when it has wildcards or a host.
func patternPath(pattern string) string {
	p := strings.TrimSpace(pattern)
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimSpace(p[i+1:])
	}
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "{}") {
		return ""
	}
	return p
}

// verifyFunc checks a login's credentials.
type verifyFunc func(r *http.Request, user, pw string) (*authn.Principal, error)

// loginHandler answers a form login: the credentials checked against a
// basic authenticator's users, the session logged in (a new ID) and a 303
// to the redirect. Bad credentials are a 401 problem.
func (b *builder) loginHandler(ep SessionEndpoint, verify verifyFunc) http.Handler {
	deny := problem.Denier{Guard: "session", Audit: b.g.tel.Audit}
	redirect := ep.Redirect
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := session.FromContext(r.Context())
		if !ok {
			deny.Deny(w, r, problem.Unavailable(time.Second, "sessions are unavailable").WithReason("session_unavailable"))
			return
		}
		if err := s.Err(); err != nil {
			deny.Deny(w, r, problem.Unavailable(time.Second, "sessions are unavailable").WithReason("session_unavailable"))
			return
		}
		if r.Method != http.MethodPost {
			deny.Deny(w, r, problem.MethodNotAllowed([]string{http.MethodPost}).WithReason("method_not_allowed"))
			return
		}
		ct := r.Header.Get("Content-Type")
		if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
			deny.Deny(w, r, problem.New(http.StatusUnsupportedMediaType, problem.TypeUnsupportedMediaType, "the login form must be application/x-www-form-urlencoded").WithReason("login_media_type"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			deny.Deny(w, r, problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the login form could not be read").WithReason("login_malformed"))
			return
		}
		user, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
		if user == "" || pw == "" {
			deny.Deny(w, r, problem.Unauthorized(problem.TypeInvalidCredentials, `Cookie realm="login"`, "username and password are required").WithReason("login_incomplete"))
			return
		}
		p, err := verify(r, user, pw)
		if err != nil {
			if abuse.Report(w, r, abuse.Failed) {
				return
			}
			var pr *problem.Problem
			if errors.As(err, &pr) && pr.Status != http.StatusUnauthorized {
				deny.Deny(w, r, pr)
				return
			}
			deny.Deny(w, r, problem.Unauthorized(problem.TypeInvalidCredentials, `Cookie realm="login"`, "wrong username or password").WithReason("bad_credentials"))
			return
		}
		abuse.Report(w, r, abuse.Succeeded)
		id := session.Identity{Subject: p.Subject, Roles: p.Roles, Scopes: p.Scopes,
			Remember: ep.Remember && r.PostForm.Get("remember") == "on"}
		if err := s.Login(id); err != nil {
			deny.Deny(w, r, problem.Unavailable(time.Second, "the session could not be created").WithReason("session_unavailable"))
			return
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
	})
}

// logoutHandler ends the session server-side and answers 303.
func logoutHandler(ep SessionEndpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := session.FromContext(r.Context()); ok {
			s.Logout()
		}
		http.Redirect(w, r, ep.Redirect, http.StatusSeeOther)
	})
}

// localRedirect checks a session endpoint's redirect: a local path.
func localRedirect(s string) (string, error) {
	if s == "" {
		return "/", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.Contains(s, `\`) {
		return "", fmt.Errorf("redirect %q: want a local path such as /app", s)
	}
	return s, nil
}

var _ store.DistinctCounter = (*memstore.Store)(nil)
