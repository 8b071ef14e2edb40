package panel

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/bulwark-go/bulwark/headers/csp"
	"github.com/bulwark-go/bulwark/internal/logsafe"
	"github.com/bulwark-go/bulwark/problem"
)

//go:embed page.html
var pageSource string

var page = template.Must(template.New("panel").Parse(pageSource))

// ServeHTTP serves the page (GET or HEAD) under the HTML header profile
// with a fresh CSP nonce per response, or with ?format=json its figures as
// a Snapshot under the API profile (which problems get too). It authorizes
// nothing: mount it behind the application's authentication and an
// admin-only check.
func (p *Panel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.api.Apply(w, r)
		problem.Write(w, r, problem.MethodNotAllowed([]string{http.MethodGet, http.MethodHead}))
		return
	}
	s := p.Snapshot(r.Context())
	if r.URL.Query().Get("format") == "json" {
		p.api.Apply(w, r)
		b, _ := json.Marshal(s) // strings and integers only: it cannot fail
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	}
	r = p.html.Apply(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, struct {
		Snapshot
		Nonce     string
		RefreshMS int64
	}{s, csp.Nonce(r.Context()), p.opts.Refresh.Milliseconds()})
}

// flatten turns v's JSON encoding into key/value rows, nested keys joined
// by dots, at most maxStatusRows of them.
func flatten(v any) []StatusRow {
	b, err := json.Marshal(v)
	if err != nil {
		return []StatusRow{{Key: "error", Value: "the status does not encode to JSON"}}
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return nil
	}
	var rows []StatusRow
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		if len(rows) >= maxStatusRows {
			return
		}
		switch t := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(join(prefix, k), t[k])
			}
		case []any:
			if len(t) == 0 {
				rows = append(rows, StatusRow{Key: prefix, Value: "[]"})
			}
			for i, e := range t {
				walk(join(prefix, strconv.Itoa(i)), e)
			}
		default:
			val, _ := json.Marshal(t)
			value := strings.Trim(string(val), `"`)
			if secretName(prefix) {
				value = Redacted
			}
			rows = append(rows, StatusRow{Key: logsafe.String(prefix, 120), Value: logsafe.String(value, maxValue)})
		}
	}
	walk("", x)
	return rows
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
