package bind_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/problem"
)

type Address struct {
	City string `json:"city" validate:"required"`
	Zip  int    `json:"zip" validate:"gte=1000,lte=99999"`
}

type Meta struct {
	Source string `json:"source" validate:"omitempty,oneof=web app"`
}

type Signup struct {
	Meta
	Username string    `json:"username" validate:"required,alphanum,max=32"`
	Password string    `json:"password" validate:"required,min=8"`
	Confirm  string    `json:"confirm" validate:"eqfield=Password"`
	Email    string    `json:"email" validate:"required,email"`
	Age      uint8     `json:"age" validate:"omitempty,gte=13"`
	Tags     []string  `json:"tags" validate:"max=3,dive,min=2"`
	Address  *Address  `json:"address" validate:"omitempty"`
	Items    []Address `json:"items" validate:"dive"`
	When     time.Time `json:"when"`
	Internal string    `json:"-"`
}

const valid = `{"username":"alice","password":"wonderland-2026","confirm":"wonderland-2026","email":"alice@example.com"}`

func post(ct, body string) *http.Request {
	r := httptest.NewRequest("POST", "/api/signup", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func TestJSON(t *testing.T) {
	type fieldErr = problem.FieldError
	tests := []struct {
		name   string
		ct     string
		body   string
		status int
		typ    string
		reason string
		ext    map[string]any
		fields []fieldErr
	}{
		{name: "ok", ct: "application/json", body: valid},
		{name: "ok charset", ct: "application/json; charset=UTF-8", body: valid},
		{name: "ok +json", ct: "application/vnd.api+json", body: valid},
		{name: "ok whitespace", ct: "application/json", body: "\n  " + valid + " \r\n"},
		{name: "no content type", ct: "", body: valid, status: 415, typ: problem.TypeUnsupportedMediaType, reason: "unsupported_media_type"},
		{name: "form", ct: "application/x-www-form-urlencoded", body: "a=b", status: 415, typ: problem.TypeUnsupportedMediaType},
		{name: "text/json", ct: "text/json", body: valid, status: 415, typ: problem.TypeUnsupportedMediaType},
		{name: "latin1", ct: "application/json; charset=latin1", body: valid, status: 415, typ: problem.TypeUnsupportedMediaType},
		{name: "garbage content type", ct: "application/json;;;=", body: valid, status: 415, typ: problem.TypeUnsupportedMediaType},
		{name: "empty", ct: "application/json", body: "", status: 400, typ: problem.TypeMalformedJSON, reason: "empty_body"},
		{name: "blank", ct: "application/json", body: " \n\t", status: 400, typ: problem.TypeMalformedJSON, reason: "empty_body"},
		{name: "null", ct: "application/json", body: " null ", status: 400, typ: problem.TypeMalformedJSON, reason: "null_body"},
		{name: "syntax", ct: "application/json", body: "{\n  \"username\": \"a\",\n  oops\n}", status: 400, typ: problem.TypeMalformedJSON, reason: "malformed_json",
			ext: map[string]any{"offset": 24.0, "line": 3.0, "column": 3.0}},
		{name: "truncated", ct: "application/json", body: `{"username":"a"`, status: 400, typ: problem.TypeMalformedJSON, reason: "malformed_json",
			ext: map[string]any{"offset": 15.0, "line": 1.0, "column": 15.0}},
		{name: "trailing", ct: "application/json", body: valid + ` {"x":1}`, status: 400, typ: problem.TypeMalformedJSON, reason: "trailing_data",
			ext: map[string]any{"line": 1.0}},
		{name: "trailing garbage", ct: "application/json", body: valid + `x`, status: 400, typ: problem.TypeMalformedJSON, reason: "trailing_data"},
		{name: "unknown field", ct: "application/json", body: `{"username":"a","is_admin":true}`, status: 400, typ: problem.TypeBadRequest, reason: "unknown_field",
			ext: map[string]any{"field": "is_admin"}},
		{name: "json:- field is unknown", ct: "application/json", body: `{"Internal":"x"}`, status: 400, reason: "unknown_field"},
		{name: "type mismatch", ct: "application/json", body: `{"username":123}`, status: 422, typ: problem.TypeValidation, reason: "type_mismatch",
			fields: []fieldErr{{Field: "username", Message: "must be a string", Rule: "type"}}},
		{name: "nested type mismatch", ct: "application/json", body: `{"address":{"zip":"75001"}}`, status: 422, reason: "type_mismatch",
			fields: []fieldErr{{Field: "address.zip", Message: "must be an integer", Rule: "type"}}},
		{name: "embedded type mismatch", ct: "application/json", body: `{"source":7}`, status: 422, reason: "type_mismatch",
			fields: []fieldErr{{Field: "source", Message: "must be a string", Rule: "type"}}},
		{name: "overflow", ct: "application/json", body: `{"age":300}`, status: 422, reason: "type_mismatch",
			fields: []fieldErr{{Field: "age", Message: "is out of range: must be an integer between 0 and 255", Rule: "range"}}},
		{name: "negative", ct: "application/json", body: `{"age":-1}`, status: 422, reason: "type_mismatch",
			fields: []fieldErr{{Field: "age", Message: "is out of range: must be an integer between 0 and 255", Rule: "range"}}},
		{name: "fraction", ct: "application/json", body: `{"age":1.5}`, status: 422, reason: "type_mismatch",
			fields: []fieldErr{{Field: "age", Message: "must be a non-negative integer", Rule: "type"}}},
		// The body's own shape is wrong: a 400 that says so, not a 422
		// without a field error.
		{name: "array body", ct: "application/json", body: `[1,2]`, status: 400, typ: problem.TypeBadRequest, reason: "body_type_mismatch",
			ext: map[string]any{"detail": "the request body must be a JSON object"}},
		{name: "string body", ct: "application/json", body: `"alice"`, status: 400, typ: problem.TypeBadRequest, reason: "body_type_mismatch"},
		{name: "bad time", ct: "application/json", body: `{"when":"yesterday"}`, status: 422, typ: problem.TypeValidation, reason: "invalid_value"},
		{name: "missing fields", ct: "application/json", body: `{}`, status: 422, typ: problem.TypeValidation, reason: "validation_failed",
			fields: []fieldErr{
				{Field: "username", Message: "is required", Rule: "required"},
				{Field: "password", Message: "is required", Rule: "required"},
				{Field: "email", Message: "is required", Rule: "required"},
			}},
		{name: "rules", ct: "application/json", body: `{"username":"al ice","password":"short","confirm":"other","email":"nope","age":9,"source":"fax",` +
			`"tags":["a","bb","cc","dd"],"address":{"zip":5},"items":[{"city":"Paris","zip":75001},{"zip":1}]}`, status: 422, reason: "validation_failed",
			fields: []fieldErr{
				{Field: "source", Message: "must be one of: web, app", Rule: "oneof"},
				{Field: "username", Message: "must contain only letters and digits", Rule: "alphanum"},
				{Field: "password", Message: "must be at least 8 characters long", Rule: "min"},
				{Field: "confirm", Message: "does not match", Rule: "eqfield"},
				{Field: "email", Message: "must be a valid email address", Rule: "email"},
				{Field: "age", Message: "must be at least 13", Rule: "gte"},
				{Field: "tags", Message: "must contain at most 3 items", Rule: "max"},
				{Field: "address.city", Message: "is required", Rule: "required"},
				{Field: "address.zip", Message: "must be at least 1000", Rule: "gte"},
				{Field: "items[1].city", Message: "is required", Rule: "required"},
				{Field: "items[1].zip", Message: "must be at least 1000", Rule: "gte"},
			}},
		{name: "dive", ct: "application/json", body: `{"username":"alice","password":"wonderland-2026","confirm":"wonderland-2026","email":"a@example.com","tags":["ok","x"]}`,
			status: 422, fields: []fieldErr{{Field: "tags[1]", Message: "must be at least 2 characters long", Rule: "min"}}},
		{name: "too large declared", ct: "application/json", body: strings.Repeat(" ", int(bodylimit.DefaultMaxBytes)) + valid, status: 413, typ: problem.TypeBodyTooLarge, reason: "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dst Signup
			p := bind.JSON(httptest.NewRecorder(), post(tc.ct, tc.body), &dst)
			if tc.status == 0 {
				if p != nil {
					t.Fatalf("problem %v %v", p, p.Extensions)
				}
				if dst.Username != "alice" || dst.Email != "alice@example.com" {
					t.Fatalf("decoded %+v", dst)
				}
				return
			}
			if p == nil {
				t.Fatalf("no problem, decoded %+v", dst)
			}
			if p.Status != tc.status || tc.typ != "" && p.Type != tc.typ || tc.reason != "" && p.Reason != tc.reason {
				t.Fatalf("got %d %s %s (%s), want %d %s %s", p.Status, p.Type, p.Reason, p.Detail, tc.status, tc.typ, tc.reason)
			}
			body := roundTrip(t, p)
			for k, v := range tc.ext {
				if body[k] != v {
					t.Errorf("%s = %v, want %v (body %v)", k, body[k], v, body)
				}
			}
			if tc.fields != nil {
				got, _ := json.Marshal(p.Extensions["errors"])
				want, _ := json.Marshal(tc.fields)
				if string(got) != string(want) {
					t.Errorf("errors\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}

// roundTrip writes p as a client would see it and decodes the JSON.
func roundTrip(t *testing.T, p *problem.Problem) map[string]any {
	t.Helper()
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("POST", "/", nil), p)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	return m
}

func TestNoValueEchoed(t *testing.T) {
	secret := "hunter2-Secr3t"
	for _, body := range []string{
		`{"username":"` + secret + ` x","password":"` + secret[:5] + `"}`,
		`{"username":` + `"a","password":"` + secret + `","when":"` + secret + `"}`,
		`{"username":{"` + secret + `":1}}`,
		`{"username":"a", ` + secret + `}`,
	} {
		var dst Signup
		p := bind.JSON(httptest.NewRecorder(), post("application/json", body), &dst)
		if p == nil {
			t.Fatalf("accepted %s", body)
		}
		w := httptest.NewRecorder()
		problem.Write(w, httptest.NewRequest("POST", "/", nil), p)
		if strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), secret[:5]) {
			t.Errorf("response echoes the submitted value: %s", w.Body)
		}
		// Nor does the audit event (the internal error goes there).
		var lines strings.Builder
		problem.Denier{Guard: "bind", Audit: audit.NewJSONLines(&lines)}.Deny(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), p)
		if ev := lines.String(); ev == "" || strings.Contains(ev, secret) || strings.Contains(ev, secret[:5]) {
			t.Errorf("audit event missing or carrying the submitted value: %s", ev)
		}
	}
}

// SelfEmbed embeds itself; a field error in it must not recurse forever
// while naming the field (a stack overflow kills the process, recovery or
// not).
type SelfEmbed struct {
	*SelfEmbed
	X int `json:"x"`
}

type MutualA struct {
	*MutualB
	Y int `json:"y"`
}

type MutualB struct {
	*MutualA
	Z int `json:"z"`
}

func TestSelfEmbeddingTypes(t *testing.T) {
	for _, tc := range []struct {
		dst  any
		body string
	}{
		{new(SelfEmbed), `{"x":"str"}`},
		{new(SelfEmbed), `{"nope":"str"}`},
		{new(MutualA), `{"z":"str"}`},
		{new(MutualA), `{"y":"str"}`},
	} {
		p := bind.JSON(httptest.NewRecorder(), post("application/json", tc.body), tc.dst)
		if p == nil || p.Status/100 != 4 {
			t.Fatalf("%T %s: %v", tc.dst, tc.body, p)
		}
	}
}

func TestBodyCaps(t *testing.T) {
	big := `{"username":"` + strings.Repeat("a", 2000) + `"}`

	t.Run("default cap without content length", func(t *testing.T) {
		r := post("application/json", `{"username":"`+strings.Repeat("a", int(bodylimit.DefaultMaxBytes))+`"}`)
		r.ContentLength = -1
		var dst Signup
		p := bind.JSON(httptest.NewRecorder(), r, &dst)
		if p == nil || p.Status != 413 || roundTrip(t, p)["max_bytes"] != float64(bodylimit.DefaultMaxBytes) {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("bodylimit cap is kept", func(t *testing.T) {
		l, _ := bodylimit.New(bodylimit.Options{MaxBytes: 100})
		var p *problem.Problem
		h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var dst Signup
			p = bind.JSON(w, r, &dst)
		}))
		r := post("application/json", big)
		r.ContentLength = -1
		h.ServeHTTP(httptest.NewRecorder(), r)
		if p == nil || p.Status != 413 || roundTrip(t, p)["max_bytes"] != 100.0 {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("larger bodylimit cap is not overridden", func(t *testing.T) {
		l, _ := bodylimit.New(bodylimit.Options{MaxBytes: 4 << 20})
		var p *problem.Problem
		h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var dst Signup
			p = bind.JSON(w, r, &dst)
		}))
		pad := strings.Repeat(" ", 2<<20)
		h.ServeHTTP(httptest.NewRecorder(), post("application/json", pad+valid))
		if p != nil {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("no body", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Content-Type", "application/json")
		var dst Signup
		if p := bind.JSON(httptest.NewRecorder(), r, &dst); p == nil || p.Reason != "empty_body" {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("read error", func(t *testing.T) {
		r := post("application/json", "")
		r.Body = io.NopCloser(errReader{})
		var dst Signup
		if p := bind.JSON(httptest.NewRecorder(), r, &dst); p == nil || p.Status != 400 || p.Reason != "body_read_failed" {
			t.Fatalf("problem %v", p)
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestAcceptHeaders(t *testing.T) {
	var dst Signup
	p := bind.JSON(nil, post("text/plain", valid), &dst)
	if p.Header("Accept-Post") != "application/json" {
		t.Fatalf("Accept-Post %q", p.Header("Accept-Post"))
	}
	r := post("text/plain", valid)
	r.Method = http.MethodPatch
	if p := bind.JSON(nil, r, &dst); p.Header("Accept-Patch") != "application/json" {
		t.Fatalf("Accept-Patch %q", p.Header("Accept-Patch"))
	}
}

func TestDecodeGeneric(t *testing.T) {
	v, p := bind.Decode[Signup](httptest.NewRecorder(), post("application/json", valid))
	if p != nil || v.Username != "alice" {
		t.Fatalf("%+v %v", v, p)
	}
	m, p := bind.Decode[map[string]int](httptest.NewRecorder(), post("application/json", `{"a":1}`))
	if p != nil || m["a"] != 1 {
		t.Fatalf("%v %v", m, p)
	}
	_, p = bind.Decode[[]Address](httptest.NewRecorder(), post("application/json", `{"a":1}`))
	if p == nil || p.Status != 400 || p.Detail != "the request body must be a JSON array" {
		t.Fatalf("%v", p)
	}
}

func TestMisuse(t *testing.T) {
	var dst Signup
	if p := bind.JSON(nil, post("application/json", valid), dst); p == nil || p.Status != 500 {
		t.Fatalf("non-pointer: %v", p)
	}
}

// TestMessageCounts checks that a rule's number agrees with its noun.
func TestMessageCounts(t *testing.T) {
	type counted struct {
		Name  string   `json:"name" validate:"min=1"`
		Code  string   `json:"code" validate:"len=1"`
		Nick  string   `json:"nick" validate:"max=1"`
		Tags  []string `json:"tags" validate:"min=1"`
		Pair  []int    `json:"pair" validate:"len=2"`
		Notes string   `json:"notes" validate:"min=3"`
	}
	_, p := bind.Decode[counted](nil, post("application/json", `{"name":"","code":"ab","nick":"ab","tags":[],"pair":[1],"notes":"x"}`))
	if p == nil {
		t.Fatal("accepted")
	}
	got, _ := json.Marshal(p.Extensions["errors"])
	want := `[{"field":"name","message":"must be at least 1 character long","rule":"min"},` +
		`{"field":"code","message":"must be exactly 1 character long","rule":"len"},` +
		`{"field":"nick","message":"must be at most 1 character long","rule":"max"},` +
		`{"field":"tags","message":"must contain at least 1 item","rule":"min"},` +
		`{"field":"pair","message":"must contain exactly 2 items","rule":"len"},` +
		`{"field":"notes","message":"must be at least 3 characters long","rule":"min"}]`
	if string(got) != want {
		t.Errorf("errors\n got %s\nwant %s", got, want)
	}
}

func TestFieldErrorCap(t *testing.T) {
	type many struct {
		Items []Address `json:"items" validate:"dive"`
	}
	body := `{"items":[` + strings.Repeat(`{},`, 200) + `{}]}`
	v, p := bind.Decode[many](nil, post("application/json", body))
	if p == nil || len(v.Items) != 201 {
		t.Fatalf("%v", p)
	}
	if n := len(p.Extensions["errors"].([]problem.FieldError)); n != bind.MaxFieldErrors {
		t.Fatalf("%d field errors", n)
	}
}

func BenchmarkJSON(b *testing.B) {
	type login struct {
		Username string `json:"username" validate:"required,max=64"`
		Password string `json:"password" validate:"required,min=8"`
	}
	body := `{"username":"alice","password":"wonderland-2026"}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var dst login
		if p := bind.JSON(nil, r, &dst); p != nil {
			b.Fatal(p)
		}
	}
}

// A number of the right kind but out of the field's range is told apart
// from a value of the wrong kind, and neither message quotes the value.
func TestNumberOutOfRange(t *testing.T) {
	type Payment struct {
		Amount float64 `json:"amount"`
		Rate   float32 `json:"rate"`
		Count  int64   `json:"count"`
		Small  *int8   `json:"small"`
	}
	for body, want := range map[string]problem.FieldError{
		`{"amount":1e400}`:              {Field: "amount", Message: "is out of range: must be a number between -1.798e+308 and 1.798e+308", Rule: "range"},
		`{"amount":"5"}`:                {Field: "amount", Message: "must be a number", Rule: "type"},
		`{"rate":1e39}`:                 {Field: "rate", Message: "is out of range: must be a number between -3.403e+38 and 3.403e+38", Rule: "range"},
		`{"count":9223372036854775808}`: {Field: "count", Message: "is out of range: must be an integer between -9223372036854775808 and 9223372036854775807", Rule: "range"},
		`{"count":1e3}`:                 {Field: "count", Message: "must be an integer", Rule: "type"},
		`{"small":-129}`:                {Field: "small", Message: "is out of range: must be an integer between -128 and 127", Rule: "range"},
	} {
		var dst Payment
		p := bind.JSON(httptest.NewRecorder(), post("application/json", body), &dst)
		if p == nil || p.Status != 422 {
			t.Fatalf("%s: %v", body, p)
		}
		got, _ := json.Marshal(p.Extensions["errors"])
		w, _ := json.Marshal([]problem.FieldError{want})
		if string(got) != string(w) {
			t.Errorf("%s:\n got %s\nwant %s", body, got, w)
		}
	}
}
