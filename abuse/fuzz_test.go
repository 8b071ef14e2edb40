package abuse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

var fuzzNames = []string{"card_number", "exp_month", "exp_year", "email", "a", "é", "k"}

var fuzzSeeds = []string{
	`{"card_number":"4242424242424242","exp_month":12,"exp_year":2030,"cvv":"123","amount":5,"email":"a@example.com"}`,
	` { "card_number" : "4242 4242 4242 4242" , "exp_month" : "07", "exp_year": "30" } `,
	`{"card_number":"4242424242424242","card_number":"4000056655665556","exp_month":1,"exp_year":2030}`,
	`{"card_number":"1","card\u005fnumber":"2"}`,
	`{"Card_Number":"4242424242424242","exp_month":1,"exp_year":2030}`,
	`{"K":1}`, `{"\u212a":1}`, `{"É":1}`, "{\"a\xff\":1,\"a\xfe\":2}",
	`{"email":"\u00e9\ud800x\"\\\/\b\f\n\r\t","a":null}`,
	"{\"email\":\"caf\xc3\xa9\",\"a\":\"\xff\"}",
	`{"a":{"b":[1,2,{"c":"d"}],"e":{}},"email":[],"x":[[[]]]}`,
	`{"a":-0.5e+10,"exp_month":0,"exp_year":1E3}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":tru}`, `{"a":"x" "b":1}`, `{"a":1,}`, `{,}`,
	`{"a":1}x`, `{"a":1} `, `null`, `[]`, `"a"`, `{}`, ``, `{"a":"` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":"\u12"}`,
	`{"a":[1,]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":[}`, `{"a":{]}`,
	`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
}

// refFields is what encoding/json makes of data for the watched names:
// whether it is an object, each name's text (as input.field gives it), and
// the refusal input.parse must give (a watched name repeated, escapes
// decoded, or spelt in another case), in document order.
func refFields(data []byte, names []string) (ok bool, vals map[string]string, refuse string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m == nil {
		return false, nil, ""
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	_, _ = dec.Token() // {
	seen := map[string]bool{}
	for dec.More() {
		t, _ := dec.Token()
		k := t.(string)
		var raw json.RawMessage
		_ = dec.Decode(&raw)
		if refuse != "" {
			continue
		}
		exact := false
		for _, n := range names {
			exact = exact || k == n
		}
		for _, n := range names {
			switch {
			case k == n && seen[n]:
				refuse = "duplicate_field"
			case k == n:
				seen[n] = true
			case !exact && strings.EqualFold(k, n) && refuse == "":
				refuse = "field_name_case"
			}
		}
	}
	if refuse != "" {
		return false, nil, refuse
	}
	vals = map[string]string{}
	for _, n := range names {
		raw, found := m[n]
		if !found || string(raw) == "null" {
			continue
		}
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				panic(err)
			}
			vals[n] = s
		} else {
			vals[n] = string(raw)
		}
	}
	return true, vals, ""
}

// The scanner against encoding/json: the same bodies are objects, the
// same members are found with the same text, and exactly the bodies that
// repeat a watched name, or spell one in another case, are refused.
func FuzzJSONFields(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in input
		in.reset(fuzzNames)
		p := in.parse(data)
		ok, vals, refuse := refFields(data, fuzzNames)
		got := ""
		if p != nil {
			got = p.Reason
			if p.Status != 400 {
				t.Fatalf("status %d", p.Status)
			}
		}
		if got != refuse {
			t.Fatalf("%q: refusal %q, encoding/json says %q", data, got, refuse)
		}
		if in.ok != ok {
			t.Fatalf("%q: object %v, encoding/json says %v", data, in.ok, ok)
		}
		for _, n := range fuzzNames {
			v, found := in.field(n)
			w, wfound := vals[n]
			if found != wfound || v != w {
				t.Fatalf("%q: %s = %q %v, encoding/json says %q %v", data, n, v, found, w, wfound)
			}
		}
	})
}

// refCard is the Card fingerprint computed from encoding/json's reading.
func refCard(data []byte) (string, bool) {
	ok, vals, _ := refFields(data, []string{"card_number", "exp_month", "exp_year"})
	if !ok {
		return "", false
	}
	num, ok1 := vals["card_number"]
	mm, ok2 := vals["exp_month"]
	yy, ok3 := vals["exp_year"]
	if !ok1 || !ok2 || !ok3 {
		return "", false
	}
	var d []rune
	for _, c := range num {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	m, err1 := strconv.Atoi(mm)
	y, err2 := strconv.Atoi(yy)
	if len(d) < 4 || err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 {
		return "", false
	}
	if y < 100 {
		y += 2000
	}
	return fmt.Sprintf("%s|%d/%d", string(d[len(d)-4:]), m, y), true
}

// Card and JSONField on any body: the value encoding/json's reading
// gives, never more of the card number than its last four digits.
func FuzzCardAndJSONField(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	card := Card("card_number", "exp_month", "exp_year")
	field := JSONField("email", "a")
	f.Fuzz(func(t *testing.T, data []byte) {
		var in input
		in.reset(fuzzNames)
		_ = in.parse(data)
		got, ok := card.get(nil, nil, &in)
		want, wok := refCard(data)
		if ok != wok || ok && string(got) != want {
			t.Fatalf("%q: Card %q %v, encoding/json says %q %v", data, got, ok, want, wok)
		}
		if ok && len(got) > 4 && bytes.IndexFunc(got[:5], func(r rune) bool { return r != '|' && (r < '0' || r > '9') }) >= 0 {
			t.Fatalf("Card value %q", got)
		}
		got, ok = field.get(nil, nil, &in)
		fok, vals, _ := refFields(data, fuzzNames)
		e, a := vals["email"], vals["a"]
		wok = fok && e != "" && a != ""
		want = ""
		if wok {
			want = fmt.Sprintf("%d:%s%d:%s", len(e), e, len(a), a)
		}
		if ok != wok || ok && string(got) != want {
			t.Fatalf("%q: JSONField %q %v, encoding/json says %q %v", data, got, ok, want, wok)
		}
	})
}
