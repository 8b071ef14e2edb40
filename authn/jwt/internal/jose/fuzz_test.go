package jose_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// FuzzDecodeClaims compares the reflection-free claims decoder with
// encoding/json's Unmarshal into map[string]any: what one decodes, the
// other decodes the same; what encoding/json decodes within the nesting
// bound and without a member name twice in one object, the decoder does
// not refuse; what names a member twice, the decoder refuses as a
// duplicate (encoding/json keeps the last). Invalid UTF-8, which
// encoding/json replaces, is refused.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"sub":"alice","exp":1e9,"roles":["a","b"],"n":null,"t":true,"f":false}`,
		`{"a":{"b":[{"c":-0.5e-3}]}}`, `{"a":"\u00e9\n\"\\","a":2}`, `{"\u0061":1}`, ` {"x" : [ 1 , 2 ] } `,
		`{"big":1e400}`, `[1]`, `null`, `{"a":1}x`, `{"a":"\ud800"}`, `{"a":01}`, `{"a":1,}`,
		"{\"a\":\"\xff\"}", `{"a":[],"b":{},"c":[{}]}`,
		`{"exp":1000000000,"exp":4102444800}`, `{"role":"user","r\u006fle":"admin"}`, `{"exp":1,"EXP":2}`,
		`{"a":{"roles":["u"],"roles":["admin"]}}`, `{"a":[{"x":1},{"x":2,"y":{"z":0,"z":0}}]}`, `{"a":{"b":1},"b":{"a":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := jose.DecodeClaims(b, 64)
		if !utf8.Valid(b) {
			if err == nil {
				t.Fatalf("input %q: invalid UTF-8 decoded", b)
			}
			return
		}
		var want map[string]any
		wantErr := json.Unmarshal(b, &want)
		var s shape
		if wantErr == nil {
			s = shapeOf(t, b)
		}
		if err == nil {
			if wantErr != nil || s.dup || !reflect.DeepEqual(got, want) {
				t.Fatalf("input %q: decoded %#v, encoding/json %#v (%v), duplicate %v", b, got, want, wantErr, s.dup)
			}
			return
		}
		if wantErr != nil || want == nil || s.depth > 64 {
			return
		}
		if !s.dup {
			t.Fatalf("input %q: refused (%v), encoding/json decoded %#v", b, err, want)
		}
		if r := jose.ReasonOf(err); r != jose.ReasonDuplicateClaim {
			t.Fatalf("input %q names a member twice: refused with reason %q (%v)", b, r, err)
		}
	})
}

// FuzzParseHeader compares the strict header parser with encoding/json's
// Unmarshal into map[string]any: a header it accepts is a JSON object
// whose alg, kid, typ and cty encoding/json reads the same, none of the
// members it recognises named twice; a JSON object within the nesting
// bound whose recognised members appear once, the four above as strings,
// it accepts.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"alg":"HS256","kid":"k1","typ":"at+jwt"}`, `{"alg":"none","alg":"HS256"}`, `{"alg":"HS256","\u0061lg":"none"}`,
		`{"alg":"HS256","kid":7}`, `{"alg":"HS256","jku":"https://x","x":{"y":[1,{"z":null}]}}`, `{"ALG":"HS256","alg":"RS256"}`,
		`{"alg":"HS256","ext":1,"ext":2}`, `{"alg":"H\u0053256","cty":"JWT"}`, `[1]`, `null`, `{"alg":"HS256"} x`, "{\"alg\":\"\xff\"}",
		`{"crit":["b64"],"b64":false,"alg":"HS256"}`, `{"alg":"HS256","kid":""}`,
	} {
		f.Add([]byte(s))
	}
	recognised := []string{"alg", "kid", "typ", "cty", "crit", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "b64", "enc", "zip"}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := jose.ParseHeader(b, 16)
		var m map[string]any
		jerr := json.Unmarshal(b, &m)
		if !utf8.Valid(b) || jerr != nil || m == nil {
			if err == nil {
				t.Fatalf("input %q: accepted, encoding/json: %v (%v)", b, m, jerr)
			}
			return
		}
		s := shapeOf(t, b)
		dup := false
		for _, name := range recognised {
			dup = dup || s.top[name] > 1
		}
		fields := map[string][]byte{"alg": h.Alg, "kid": h.Kid, "typ": h.Typ, "cty": h.Cty}
		if err == nil {
			if dup {
				t.Fatalf("input %q: a recognised member twice, accepted", b)
			}
			for name, got := range fields {
				want, present := m[name]
				if present != (got != nil) || (present && want != string(got)) {
					t.Fatalf("input %q: %s is %q (present %v), encoding/json %#v", b, name, got, got != nil, want)
				}
			}
			return
		}
		if dup || s.depth > 16 {
			return
		}
		for name := range fields {
			if v, present := m[name]; present {
				if _, ok := v.(string); !ok {
					return
				}
			}
		}
		t.Fatalf("input %q: refused (%v), encoding/json reads %#v", b, err, m)
	})
}

// shape is what the fuzz tests need to know of a JSON text encoding/json
// accepts, found with its token stream: how deep it nests, whether an
// object anywhere names a member twice, and how often each top-level
// member name appears.
type shape struct {
	depth int
	dup   bool
	top   map[string]int
}

func shapeOf(t *testing.T, b []byte) shape {
	dec := json.NewDecoder(bytes.NewReader(b))
	s := shape{top: map[string]int{}}
	var walk func(depth int)
	walk = func(depth int) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("input %q: encoding/json's token stream fails on what it unmarshals: %v", b, err)
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return
		}
		s.depth = max(s.depth, depth)
		if d == '[' {
			for dec.More() {
				walk(depth + 1)
			}
		} else {
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatalf("input %q: %v", b, err)
				}
				name := k.(string)
				s.dup = s.dup || seen[name]
				seen[name] = true
				if depth == 1 {
					s.top[name]++
				}
				walk(depth + 1)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			t.Fatalf("input %q: %v", b, err)
		}
	}
	walk(1)
	return s
}
