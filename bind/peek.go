package bind

import (
	"bytes"
	"io"
	"net/http"

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
