package bind

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/bulwark-go/bulwark/problem"
)

// Peek reads r's JSON body for a guard that must look at it before the
// handler does, and puts it back: r.Body then replays the same bytes, so the
// handler's JSON (or Decode) sees exactly what Peek saw. The body cap
// applies as in JSON (a bodylimit guard's, else bodylimit.DefaultMaxBytes),
// with the same 413 problem. A body that is not declared JSON
// (Content-Type) is not read: ok is false and the problem nil, and the
// handler answers 415 itself. An empty body gives ok false too.
func Peek(w http.ResponseWriter, r *http.Request) (data []byte, ok bool, p *problem.Problem) {
	if r.Body == nil || r.Body == http.NoBody || !IsJSONContentType(r.Header.Get("Content-Type")) {
		return nil, false, nil
	}
	data, p = readBody(w, r)
	if p != nil {
		return nil, false, p
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data, len(data) > 0, nil
}

// PeekForm is Peek for an application/x-www-form-urlencoded body (an HTML
// form's): it reads the body under the same cap, parses it, and puts it
// back, so that the handler's r.ParseForm (or FormValue) sees the same
// bytes. A body of another media type, or an empty one, is not read: ok is
// false and the problem nil. A body that does not parse as a form gives
// the fields that parsed before the error, with ok true.
func PeekForm(w http.ResponseWriter, r *http.Request) (form url.Values, ok bool, p *problem.Problem) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, false, nil
	}
	data, p := readBody(w, r)
	if p != nil {
		return nil, false, p
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	if len(data) == 0 {
		return nil, false, nil
	}
	form, _ = url.ParseQuery(string(data))
	return form, true, nil
}
