package bind_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
)

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		valid, "", "null", "[]", "{", `{"username":1}`, `{"address":{"zip":"x"}}`, `{"items":[{"zip":1e999}]}`,
		`{"when":"2026-01-01T00:00:00Z"}`, `{"tags":["a",1]}`, valid + "x", `{"a":1}{"b":2}`, "\xff\xfe", `{"source":"web","age":-1}`,
		strings.Repeat("[", 20000),
	} {
		f.Add("application/json", s)
	}
	f.Add("application/merge-patch+json; charset=utf-8", valid)
	f.Add("text/plain", valid)
	f.Fuzz(func(t *testing.T, ct, body string) {
		var dst Signup
		p := bind.JSON(httptest.NewRecorder(), post(ct, body), &dst)
		if p == nil {
			return
		}
		if p.Status < 400 || p.Status >= 500 {
			t.Fatalf("status %d for %q: %v", p.Status, body, p)
		}
		w := httptest.NewRecorder()
		problem.Write(w, httptest.NewRequest("POST", "/", nil), p)
		if w.Code != p.Status {
			t.Fatalf("written %d, problem %d", w.Code, p.Status)
		}
		if _, p := bind.Decode[map[string]any](nil, post(ct, body)); p != nil && p.Status >= 500 {
			t.Fatalf("map: %v", p)
		}
	})
}
