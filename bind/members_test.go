package bind_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/bind"
)

// withRaw has a field that decodes itself and a map of structs.
type withRaw struct {
	Raw    json.RawMessage    `json:"raw"`
	ByName map[string]Address `json:"by_name"`
	Any    any                `json:"any"`
}

// Tagged and untagged fields of one name at one depth: the tagged wins.
type (
	tagA struct{ X struct{ A int } }
	tagB struct {
		Y struct{ B int } `json:"X"`
	}
	tagged struct {
		tagA
		tagB
	}
)

// Two untagged fields of one name at one depth cancel out.
type (
	plainA struct{ X int }
	plainB struct{ X int }
	plain  struct {
		plainA
		plainB
		Y int
	}
)

type memberCase struct {
	name   string
	dst    any
	body   string
	reason string // "" when accepted
	field  string
	detail string
	column float64
}

// TestMemberNames checks that member names are matched exactly and used
// once per object: encoding/json alone fills Username from "USERNAME" and
// keeps the last of two "username" members, so a gateway and the service
// behind it could read one body two ways.
func TestMemberNames(t *testing.T) {
	const rest = `"password":"wonderland-2026","confirm":"wonderland-2026","email":"alice@example.com"`
	tests := []memberCase{
		{name: "exact", dst: new(Signup), body: `{"username":"alice",` + rest + `}`},
		{name: "upper case", dst: new(Signup), body: `{"USERNAME":"alice",` + rest + `}`, reason: "field_name_case", field: "USERNAME", detail: `"username"`, column: 2},
		{name: "title case", dst: new(Signup), body: `{"Username":"alice",` + rest + `}`, reason: "field_name_case", field: "Username"},
		{name: "case before a type error", dst: new(Signup), body: `{"USERNAME":5}`, reason: "field_name_case", field: "USERNAME"},
		{name: "unicode fold", dst: new(Signup), body: `{"username":"alice","paſsword":"x"}`, reason: "field_name_case", field: "paſsword", detail: `"password"`},
		{name: "escaped exact name", dst: new(Signup), body: `{"\u0075sername":"alice",` + rest + `}`},
		{name: "escaped upper case", dst: new(Signup), body: `{"\u0055SERNAME":"alice"}`, reason: "field_name_case", field: "USERNAME"},
		{name: "embedded field case", dst: new(Signup), body: `{"Source":"web"}`, reason: "field_name_case", field: "Source", detail: `"source"`},
		{name: "Go name of a tagged field", dst: new(Signup), body: `{"Email":"a@example.com"}`, reason: "field_name_case", field: "Email"},
		{name: "duplicate", dst: new(Signup), body: `{"username":"mallory","username":"alice",` + rest + `}`, reason: "duplicate_field", field: "username", column: 23},
		{name: "duplicate after escape", dst: new(Signup), body: `{"username":"mallory","\u0075sername":"alice",` + rest + `}`, reason: "duplicate_field", field: "username"},
		{name: "duplicate invalid UTF-8", dst: new(map[string]any), body: "{\"a\xff\":1,\"a\xfe\":2}", reason: "duplicate_field"},
		{name: "duplicate ignored field name", dst: new(Signup), body: `{"username":"a","username":1}`, reason: "duplicate_field", field: "username"},
		{name: "nested case", dst: new(Signup), body: `{"address":{"city":"Paris","City":"Lyon"}}`, reason: "field_name_case", field: "address.City"},
		{name: "nested duplicate", dst: new(Signup), body: `{"items":[{"city":"a","zip":1000},{"zip":1000,"zip":2000}]}`, reason: "duplicate_field", field: "items[1].zip"},
		{name: "nested unknown", dst: new(Signup), body: `{"address":{"country":"FR"}}`, reason: "unknown_field", field: "address.country"},
		{name: "map of structs", dst: new(withRaw), body: `{"by_name":{"home":{"CITY":"Paris"}}}`, reason: "field_name_case", field: "by_name.home.CITY"},
		{name: "map keys any case", dst: new(withRaw), body: `{"by_name":{"Home":{"city":"Paris"},"home":{"city":"Lyon"}}}`},
		{name: "map duplicate key", dst: new(withRaw), body: `{"by_name":{"home":{},"home":{}}}`, reason: "duplicate_field", field: "by_name.home"},
		{name: "raw value any case", dst: new(withRaw), body: `{"raw":{"A":1,"a":2}}`},
		{name: "raw value duplicate", dst: new(withRaw), body: `{"raw":{"a":1,"a":2}}`, reason: "duplicate_field", field: "raw.a"},
		{name: "interface duplicate", dst: new(withRaw), body: `{"any":[{"b":[]},{"b":1,"c":{"d":0,"d":0}}]}`, reason: "duplicate_field", field: "any[1].c.d"},
		{name: "top-level map", dst: new(map[string]int), body: `{"a":1,"b":2,"a":3}`, reason: "duplicate_field", field: "a"},
		{name: "top-level slice", dst: new([]Address), body: `[{"city":"x"},{"city":"y","City":"z"}]`, reason: "field_name_case", field: "[1].City"},
		{name: "tagged wins", dst: new(tagged), body: `{"X":{"B":1}}`},
		{name: "tagged wins, names of its type", dst: new(tagged), body: `{"X":{"A":1}}`, reason: "unknown_field", field: "X.A"},
		{name: "ambiguous name is unknown", dst: new(plain), body: `{"X":1}`, reason: "unknown_field", field: "X"},
		{name: "ambiguous name, other ok", dst: new(plain), body: `{"Y":1}`},
		{name: "escaped key in a string value", dst: new(Signup), body: `{"username":"a\"lice","password":"\\\"",` + `"email":"x"}`, reason: "validation_failed"},
	}
	// An object with many members switches to a map; a repeat is still found.
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 100 {
		b.WriteString(`"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1,`)
	}
	b.WriteString(`"zz":1,"kab":2}`)
	tests = append(tests,
		memberCase{name: "large object", dst: new(map[string]int), body: b.String(), reason: "duplicate_field", field: "kab"},
		memberCase{name: "large object, no repeat", dst: new(map[string]int), body: strings.Replace(b.String(), `"kab":2`, `"zy":2`, 1)},
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := bind.JSON(httptest.NewRecorder(), post("application/json", tc.body), tc.dst)
			if tc.reason == "" {
				if p != nil {
					t.Fatalf("refused: %v %v", p, p.Extensions)
				}
				return
			}
			if p == nil {
				t.Fatalf("accepted, decoded %+v", tc.dst)
			}
			if p.Reason != tc.reason {
				t.Fatalf("reason %s (%d %s %v), want %s", p.Reason, p.Status, p.Detail, p.Extensions, tc.reason)
			}
			if tc.reason == "validation_failed" {
				return
			}
			body := roundTrip(t, p)
			if p.Status != 400 || tc.field != "" && body["field"] != tc.field {
				t.Errorf("status %d, field %v, want 400 %q (%v)", p.Status, body["field"], tc.field, body)
			}
			if tc.detail != "" && !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not name %s", p.Detail, tc.detail)
			}
			if tc.column != 0 && body["column"] != tc.column {
				t.Errorf("column %v, want %v", body["column"], tc.column)
			}
		})
	}
}

// TestMemberNamesNoAllocs checks that the strict name check costs no
// allocation on an ordinary body beyond what decoding needs.
func TestMemberNamesNoAllocs(t *testing.T) {
	body := []byte(`{"username":"alice","password":"wonderland-2026","confirm":"wonderland-2026","email":"alice@example.com",` +
		`"tags":["ab","cd"],"address":{"city":"Paris","zip":75001},"items":[{"city":"Lyon","zip":69001}]}`)
	var dst Signup
	allocs := testing.AllocsPerRun(100, func() {
		if p := bind.CheckMemberNames(body, &dst); p != nil {
			t.Fatal(p)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}

func BenchmarkMemberNames(b *testing.B) {
	body := []byte(`{"username":"alice","password":"wonderland-2026","confirm":"wonderland-2026","email":"alice@example.com",` +
		`"tags":["ab","cd"],"address":{"city":"Paris","zip":75001},"items":[{"city":"Lyon","zip":69001}]}`)
	var dst Signup
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if p := bind.CheckMemberNames(body, &dst); p != nil {
			b.Fatal(p)
		}
	}
}
