package bind_test

import (
	"bytes"
	"encoding/json"
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
		`{"USERNAME":"a"}`, `{"username":"a","username":"b"}`, `{"\u0075sername":"a","username":"b"}`, `{"items":[{"zip":1,"ZIP":2}]}`,
		`{"when":{"a":1,"a":2}}`, `{"address":{"city":"x","city":"y"}}`, "{\"a\xff\":1,\"a\xfe\":2}", `{"paſsword":"x"}`,
	} {
		f.Add("application/json", s)
	}
	f.Add("application/merge-patch+json; charset=utf-8", valid)
	f.Add("text/plain", valid)
	f.Fuzz(func(t *testing.T, ct, body string) {
		var dst Signup
		p := bind.JSON(httptest.NewRecorder(), post(ct, body), &dst)
		checkMembersOracle(t, ct, body, p)
		if _, p := bind.Decode[map[string]any](nil, post(ct, body)); p != nil && p.Status >= 500 {
			t.Fatalf("map: %v", p)
		}
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
	})
}

// schema is the oracle's view of a Go type: the exact JSON names of a
// struct (fields), or the element of a slice (elem); nil for anything
// whose member names are not checked.
type schema struct {
	fields map[string]*schema
	elem   *schema
}

var (
	addressSchema = &schema{fields: map[string]*schema{"city": nil, "zip": nil}}
	signupSchema  = &schema{fields: map[string]*schema{
		"source": nil, "username": nil, "password": nil, "confirm": nil, "email": nil, "age": nil,
		"tags": nil, "address": addressSchema, "items": {elem: addressSchema}, "when": nil,
	}}
)

// checkMembersOracle compares bind's verdict on member names with an
// independent walk of the body through encoding/json's tokenizer: a body
// with a repeated name in some object, or a name of a struct's object that
// is not exactly one of its JSON names, must be refused; any other valid
// body must not be refused for its member names.
func checkMembersOracle(t *testing.T, ct, body string, p *problem.Problem) {
	t.Helper()
	if !bind.IsJSONContentType(ct) || !json.Valid([]byte(body)) || strings.TrimSpace(body) == "null" {
		return
	}
	o := &membersOracle{dec: json.NewDecoder(bytes.NewReader([]byte(body)))}
	o.dec.UseNumber()
	if err := o.value(signupSchema); err != nil {
		t.Fatalf("oracle: %v", err)
	}
	switch {
	case (o.dup || o.bad) && p == nil:
		t.Fatalf("accepted %q (repeated name %v, inexact name %v)", body, o.dup, o.bad)
	case !o.dup && p != nil && p.Reason == "duplicate_field":
		t.Fatalf("%q refused as repeating a name: %v", body, p.Extensions)
	case !o.bad && p != nil && (p.Reason == "field_name_case" || p.Reason == "unknown_field"):
		t.Fatalf("%q refused for a name: %s %v", body, p.Reason, p.Extensions)
	}
	_, mp := bind.Decode[map[string]any](nil, post(ct, body))
	if o.dup != (mp != nil && mp.Reason == "duplicate_field") {
		t.Fatalf("map target: repeated name %v, problem %v", o.dup, mp)
	}
}

type membersOracle struct {
	dec      *json.Decoder
	dup, bad bool
}

func (o *membersOracle) value(s *schema) error {
	tok, err := o.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for o.dec.More() {
			k, err := o.dec.Token()
			if err != nil {
				return err
			}
			name := k.(string)
			o.dup = o.dup || seen[name]
			seen[name] = true
			var child *schema
			if s != nil && s.fields != nil {
				c, ok := s.fields[name]
				o.bad = o.bad || !ok
				child = c
			}
			if err := o.value(child); err != nil {
				return err
			}
		}
		_, err = o.dec.Token()
	case json.Delim('['):
		var elem *schema
		if s != nil && s.fields == nil {
			elem = s.elem
		}
		for o.dec.More() {
			if err := o.value(elem); err != nil {
				return err
			}
		}
		_, err = o.dec.Token()
	}
	return err
}
