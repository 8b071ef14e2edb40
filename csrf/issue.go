package csrf

import (
	"context"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type ctxKey struct{}

// issuer is the per-request state Handler attaches so that Token can set
// the pre-session cookie and the response headers.
type issuer struct {
	g       *Guard
	w       http.ResponseWriter
	tok     string // the token issued in this response, for (kind, binding)
	kind    byte
	binding string
	pre     string // a pre-session ID issued in this response
	cleared bool   // Clear ran: the request's pre-session is not reused
}

func (g *Guard) attach(w http.ResponseWriter, r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, &issuer{g: g, w: w}))
}

// Token returns a CSRF token for the response to r, for a form's hidden
// csrf_token field or a page's script, and sets it in the X-CSRF-Token
// response header (and the XSRF-TOKEN cookie, with Options.XSRFCookie).
// It needs r as seen inside Guard.Handler (it returns "" elsewhere, or
// with an OriginOnly guard), and must first be called before the response
// header is written: html/template writes as it renders, so a template
// that calls csrfField mid-page needs its path in Options.IssuePaths (the
// token is then issued before the handler runs, and Token returns it), a
// Token(r) call before Execute, or rendering into a buffer.
//
// The token is bound to the session Options.Binding reports for r, else to
// the pre-session, whose cookie Token sets when the request has none. One
// response gets one token however often Token is called, unless the
// binding changes in between: a login handler that has just created the
// session calls Token again to hand out a token for it. Each response
// gets a freshly masked token (BREACH), and every token stays valid until
// Options.Timeout.
func Token(r *http.Request) string {
	is, _ := r.Context().Value(ctxKey{}).(*issuer)
	if is == nil {
		return ""
	}
	return is.token(r)
}

// Clear removes, in the response to r, the guard's cookies: the
// pre-session cookie and (with Options.XSRFCookie) the readable
// XSRF-TOKEN cookie, and drops a token already issued in this response
// (its X-CSRF-Token header). Call it at logout, beside ending the
// session: the XSRF-TOKEN value is bound to the ended session and is
// worthless, and the pre-session outlived the anonymous visit it was made
// for. The next page that calls Token hands out a fresh pre-session and
// token. Like Token it needs r as seen inside Guard.Handler (elsewhere it
// does nothing) and must run before the response header is written; a
// Token call after it in the same response issues a new pre-session.
func Clear(r *http.Request) {
	is, _ := r.Context().Value(ctxKey{}).(*issuer)
	if is == nil || is.g.originOnly {
		return
	}
	g := is.g
	is.tok, is.kind, is.binding, is.pre, is.cleared = "", 0, "", "", true
	is.w.Header().Del(HeaderName)
	is.setCookie(&http.Cookie{
		Name: g.preSessionCookie(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: g.sameSite,
	})
	if g.xsrf {
		is.setCookie(&http.Cookie{
			Name: g.xsrfName, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: false, Secure: secure(r), SameSite: g.sameSite,
		})
	}
}

// TemplateField returns the hidden form field carrying Token(r), for
// html/template: {{ csrfField .Request }} with TemplateFuncs.
func TemplateField(r *http.Request) template.HTML {
	t := Token(r)
	if t == "" {
		return ""
	}
	// A token is base64url: nothing in it needs escaping.
	return template.HTML(`<input type="hidden" name="` + FieldName + `" value="` + t + `">`)
}

// TemplateFuncs returns the template functions "csrfToken" (Token) and
// "csrfField" (TemplateField), both taking the request: add them with
// template.Funcs before parsing.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{"csrfToken": Token, "csrfField": TemplateField}
}

func (is *issuer) token(r *http.Request) string {
	g := is.g
	kind, b, ok := g.bindingOf(r)
	if ok && kind == kindPreSession && is.cleared {
		ok = false // Clear removed the request's pre-session cookie
	}
	if !ok && is.pre != "" {
		kind, b, ok = kindPreSession, is.pre, true
	}
	if !ok {
		is.pre = newPreSessionID()
		kind, b = kindPreSession, is.pre
		is.setCookie(&http.Cookie{
			Name: g.preSessionCookie(r), Value: is.pre, Path: "/", MaxAge: int(g.timeoutSec),
			HttpOnly: true, Secure: secure(r), SameSite: g.sameSite,
		})
	}
	if is.tok != "" && is.kind == kind && is.binding == b {
		return is.tok
	}
	is.tok, is.kind, is.binding = g.sign(kind, b, time.Now()), kind, b
	h := is.w.Header()
	h.Set(HeaderName, is.tok)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store") // a page with a user's token is not for shared caches
	}
	if g.xsrf {
		is.setCookie(&http.Cookie{
			Name: g.xsrfName, Value: is.tok, Path: "/", MaxAge: int(g.timeoutSec),
			HttpOnly: false, Secure: secure(r), SameSite: g.sameSite,
		})
	}
	return is.tok
}

// setCookie sets c, replacing a cookie of the same name set earlier in
// this response.
func (is *issuer) setCookie(c *http.Cookie) {
	h := is.w.Header()
	prefix := c.Name + "="
	kept := h["Set-Cookie"][:0]
	for _, v := range h["Set-Cookie"] {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h["Set-Cookie"] = append(kept, c.String())
}

// Describe returns the guard's effective configuration, without secrets,
// for a configuration endpoint.
func (g *Guard) Describe() map[string]any {
	d := map[string]any{"origin_only": g.originOnly}
	trusted := append([]string(nil), g.exact...)
	for _, p := range g.patterns {
		trusted = append(trusted, p.Canon)
	}
	d["trusted_origins"] = trusted
	if !g.originOnly {
		d["keys"] = strconv.Itoa(len(g.keys)) + " (redacted)"
		d["timeout"] = g.timeout.String()
		d["xsrf_cookie"] = g.xsrf
	}
	return d
}
