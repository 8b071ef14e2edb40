package introspect_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/authn/introspect"
)

// FuzzParseResponse: the decoder never panics, and accepts only what
// encoding/json reads as an object with a boolean active and the types
// the package documents.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		`{"active":true,"sub":"a","scope":"read write","exp":1700000000,"aud":["x"],"roles":["admin"]}`,
		`{"active":false}`, `{"active":"true"}`, `{"active":true,"active":false}`, `{"active":true,"exp":1.5}`,
		`{"active":true,"exp":1.7e9}`, `{"active":true,"scope":"a  b"}`, `{"active":true,"aud":"x"}`,
		`{"active":true,"x":{"y":[1,2,{"z":null}]}}`, `[]`, `null`, `{"active":true}{}`, "{\"active\":true,\"sub\":\"\xff\"}",
		`{"active":true,"sub":"\u00e9"}`, `{"act\u0069ve":true,"active":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := introspect.ParseResponse(data)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if a, ok := m["active"].(bool); !ok || a != res.Active {
			t.Fatalf("active %v vs %v", m["active"], res.Active)
		}
		for _, s := range res.Scope {
			if s == "" || strings.ContainsAny(s, " \"\\") {
				t.Fatalf("scope token %q", s)
			}
		}
		if res.Exp < 0 || res.Iat < 0 || res.Nbf < 0 {
			t.Fatal("negative time")
		}
	})
}

// FuzzBearer: the header parser never panics and returns a token without
// surrounding blanks, taken from the header.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Bearer", "BearerX abc", "Basic a", "Bearer \t", "Bearer a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		tok, p := introspect.Bearer(r)
		if p != nil {
			if p.Status != 400 {
				t.Fatalf("status %d", p.Status)
			}
			return
		}
		if tok != "" && (!strings.HasSuffix(strings.TrimRight(v, " \t"), tok) || strings.HasPrefix(tok, " ") || strings.TrimRight(tok, " \t") != tok) {
			t.Fatalf("%q -> %q", v, tok)
		}
	})
}
