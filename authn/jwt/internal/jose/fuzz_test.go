package jose_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// FuzzDecodeClaims compares the reflection-free claims decoder with
// encoding/json's Unmarshal into map[string]any: what one decodes, the
// other decodes the same; what encoding/json decodes within the nesting
// bound, the decoder does not refuse. Invalid UTF-8, which encoding/json
// replaces, is refused.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"sub":"alice","exp":1e9,"roles":["a","b"],"n":null,"t":true,"f":false}`,
		`{"a":{"b":[{"c":-0.5e-3}]}}`, `{"a":"\u00e9\n\"\\","a":2}`, `{"\u0061":1}`, ` {"x" : [ 1 , 2 ] } `,
		`{"big":1e400}`, `[1]`, `null`, `{"a":1}x`, `{"a":"\ud800"}`, `{"a":01}`, `{"a":1,}`,
		"{\"a\":\"\xff\"}", `{"a":[],"b":{},"c":[{}]}`,
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
		if err == nil {
			if wantErr != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("input %q: decoded %#v, encoding/json %#v (%v)", b, got, want, wantErr)
			}
			return
		}
		if wantErr == nil && want != nil && strings.Count(string(b), "[")+strings.Count(string(b), "{") <= 64 {
			t.Fatalf("input %q: refused (%v), encoding/json decoded %#v", b, err, want)
		}
	})
}
