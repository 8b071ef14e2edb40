package demo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

// TestReadmeRoutesExist: every route of the README's demo table is one
// the demo serves: the access log names each request by the pattern that
// matched it, which an unknown path never has.
func TestReadmeRoutesExist(t *testing.T) {
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(md[bytes.Index(md, []byte("## The demo")):])
	var logs bytes.Buffer
	app, err := demo.New(demo.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	row := regexp.MustCompile("(?m)^\\| `([A-Z/]+ /[^`]*)`(?:, `([A-Z/]+ /[^`]*)`)?")
	n := 0
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		for _, route := range m[1:] {
			if route == "" {
				continue
			}
			methods, path, _ := strings.Cut(route, " ")
			for _, method := range strings.Split(methods, "/") {
				n++
				logs.Reset()
				r := httptest.NewRequest(method, strings.ReplaceAll(path, "{id}", "1"), strings.NewReader("{}"))
				r.Header.Set("Content-Type", "application/json")
				app.Handler().ServeHTTP(httptest.NewRecorder(), r)
				var line struct{ Msg, Route string }
				sc := bufio.NewScanner(&logs)
				for sc.Scan() {
					if _ = json.Unmarshal(sc.Bytes(), &line); line.Msg == "request" {
						break
					}
				}
				pattern := strings.TrimSuffix(method+" "+path, "/") // GET / is GET /{$}
				if !strings.HasPrefix(line.Route, pattern) {
					t.Errorf("README route %s %s: the demo served it as %q", method, path, line.Route)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("found %d routes in the README's demo table", n)
	}
}
