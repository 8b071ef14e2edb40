package csrf

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/problem"
)

// Canonical header keys, for direct map lookups.
const (
	keyCSRF = "X-Csrf-Token"
	keyXSRF = "X-Xsrf-Token"
)

// maxFieldLen bounds a token read from a multipart field: a token is 152
// bytes, so anything much longer is not one.
const maxFieldLen = 1024

// checkToken is layer 2: a valid token, bound to the request's session
// or pre-session, from the X-CSRF-Token header, the X-XSRF-Token header
// (equal to the XSRF-TOKEN cookie), or the csrf_token form field.
func (g *Guard) checkToken(r *http.Request) (*http.Request, *problem.Problem) {
	tok, present, ok := singleHeader(r.Header, keyCSRF)
	if !ok {
		return r, refuse(ReasonTokenInvalid, "send one X-CSRF-Token header")
	}
	if !present && g.xsrf {
		x, px, okx := singleHeader(r.Header, keyXSRF)
		if px {
			c, has := cookieValue(r.Header, g.xsrfName)
			if !okx || !has || subtle.ConstantTimeCompare([]byte(x), []byte(c)) != 1 {
				return r, refuse(ReasonXSRFMismatch, "the X-XSRF-Token header must equal the "+g.xsrfName+" cookie")
			}
			tok, present = x, true
		}
	}
	if !present {
		var pr *problem.Problem
		r, tok, pr = g.formToken(r)
		if pr != nil {
			return r, pr
		}
	}
	if tok == "" {
		return r, refuse(ReasonTokenMissing, "this request needs a CSRF token: in the csrf_token form field or the X-CSRF-Token header")
	}
	kind, b, has := g.bindingOf(r)
	switch g.verify(tok, kind, b, has, time.Now()) {
	case "":
		return r, nil
	case ReasonTokenExpired:
		return r, refuse(ReasonTokenExpired, "the CSRF token has expired: reload the page and try again")
	case ReasonSessionMismatch:
		return r, refuse(ReasonSessionMismatch, "the CSRF token belongs to another session: reload the page and try again")
	}
	return r, refuse(ReasonTokenInvalid, "the CSRF token is not valid")
}

// bindingOf returns what r's tokens are bound to: the session's binding
// value, else the pre-session ID from the guard's cookie.
func (g *Guard) bindingOf(r *http.Request) (kind byte, value string, ok bool) {
	if g.binding != nil {
		if v, ok := g.binding(r); ok && v != "" {
			return kindSession, v, true
		}
	}
	if v, ok := cookieValue(r.Header, g.preSessionCookie(r)); ok && validPreSessionID(v) {
		return kindPreSession, v, true
	}
	return 0, "", false
}

// preSessionCookie is the pre-session cookie's name for r: "__Host-"
// prefixed over HTTPS, where only the host itself can have set it.
func (g *Guard) preSessionCookie(r *http.Request) string {
	if secure(r) {
		return g.hostCookie
	}
	return g.cookie
}

// cookieValue returns the first cookie called name, without parsing the
// others or allocating.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && n == name {
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}

// replay is a request body that first yields what Check read, then the
// rest.
type replay struct {
	io.Reader
	io.Closer
}

// formToken reads the csrf_token field of a urlencoded or multipart body,
// reading no more than MaxFormBytes (and for multipart no further than the
// field), and returns a shallow copy of r whose body replays what it read.
// The request's form is not parsed: the handler parses it as usual.
func (g *Guard) formToken(r *http.Request) (*http.Request, string, *problem.Problem) {
	if r.Body == nil || r.Body == http.NoBody {
		return r, "", nil
	}
	ct := r.Header.Get("Content-Type")
	// The media type as net/http's ParseForm reads it (mime.ParseMediaType:
	// case-insensitive, spaces trimmed), without its allocations on the
	// common path: "Application/X-WWW-Form-Urlencoded" is a form too.
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	var multi bool
	var boundary string
	switch {
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
	case strings.EqualFold(mt, "multipart/form-data"):
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			return r, "", nil
		}
		multi, boundary = true, params["boundary"]
	default:
		return r, "", nil
	}
	var buf bytes.Buffer
	lr := io.LimitReader(r.Body, g.maxForm+1)
	var tok string
	var found bool
	var rerr error
	if multi {
		tok, found, rerr = multipartField(io.TeeReader(lr, &buf), boundary)
	} else {
		_, rerr = buf.ReadFrom(lr)
		tok, found = urlencodedField(buf.Bytes(), int64(buf.Len()) > g.maxForm)
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = replay{io.MultiReader(bytes.NewReader(buf.Bytes()), r.Body), r.Body}
	var mbe *http.MaxBytesError
	switch {
	case found:
		return r2, tok, nil
	case errors.As(rerr, &mbe):
		return r2, "", problem.New(http.StatusRequestEntityTooLarge, problem.TypeBodyTooLarge,
			"the request body is larger than this endpoint accepts").WithReason("body_too_large").WithErr(rerr)
	case int64(buf.Len()) > g.maxForm:
		return r2, "", problem.New(http.StatusRequestEntityTooLarge, problem.TypeBodyTooLarge,
			"the form is too large to look for its csrf_token field: send the token in the X-CSRF-Token header, or put the field first").
			WithReason(ReasonFormTooLarge)
	}
	return r2, "", nil
}

// urlencodedField returns the first csrf_token value of a urlencoded body;
// truncated says the body was cut, so its last pair is incomplete.
func urlencodedField(body []byte, truncated bool) (string, bool) {
	s := string(body) // one copy; the handler gets the original bytes
	if truncated {
		i := strings.LastIndexByte(s, '&')
		if i < 0 {
			return "", false
		}
		s = s[:i]
	}
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != FieldName {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			if uk, err := url.QueryUnescape(k); err != nil || uk != FieldName {
				continue
			}
		}
		if strings.ContainsAny(v, "%+") {
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			} // else: not a token, refused as invalid
		}
		return v, true
	}
	return "", false
}

// multipartField returns the csrf_token field of a multipart body, reading
// parts until it.
func multipartField(body io.Reader, boundary string) (string, bool, error) {
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return "", false, err
		}
		if part.FormName() != FieldName || part.FileName() != "" {
			continue
		}
		var b [maxFieldLen + 1]byte
		n, err := io.ReadFull(part, b[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return "", false, err
		}
		if n > maxFieldLen {
			return "", true, nil // not a token; refused as missing
		}
		return string(b[:n]), true, nil
	}
}
