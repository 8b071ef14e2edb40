package jose_test

import (
	"errors"
	"testing"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// A member name twice in one object, at any depth, is refused with the
// reason claims_duplicate; the same name in different objects, or names
// that differ in case, are not duplicates.
func TestDecodeClaimsRefusesDuplicateNames(t *testing.T) {
	for _, in := range []string{
		`{"exp":1000000000,"exp":4102444800}`,
		`{"role":"user","sub":"a","role":"admin"}`,
		`{"exp":1,"\u0065xp":2}`,
		`{"realm_access":{"roles":["user"],"roles":["admin"]}}`,
		`{"a":[{"x":1},{"x":2,"y":{"z":0,"z":0}}]}`,
		`{"a":{},"a":{}}`,
	} {
		_, err := jose.DecodeClaims([]byte(in), 16)
		if !errors.Is(err, jose.ErrMalformed) || jose.ReasonOf(err) != jose.ReasonDuplicateClaim {
			t.Errorf("%s: err %v (reason %q), want a duplicate refused", in, err, jose.ReasonOf(err))
		}
	}
	for _, in := range []string{
		`{"exp":1,"EXP":2}`,
		`{"a":{"x":1},"b":{"x":1},"x":[{"x":1},{"x":2}]}`,
		`{"a":[1,1,1]}`,
	} {
		if _, err := jose.DecodeClaims([]byte(in), 16); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// Every refusal of the parsers carries an audit reason.
func TestRefusalsCarryReasons(t *testing.T) {
	allowed := map[string]bool{"HS256": true}
	for _, tc := range []struct {
		name, reason string
		err          error
	}{
		{"too large", jose.ReasonTooLarge, split("aaaaaaaaaaa", 10)},
		{"two segments", jose.ReasonMalformed, split("a.b", 100)},
		{"empty signature", jose.ReasonAlgorithm, split("a.b.", 100)},
		{"header not JSON", jose.ReasonMalformed, header(`{"alg"`, allowed)},
		{"duplicate header member", jose.ReasonHeader, header(`{"alg":"HS256","alg":"HS256"}`, allowed)},
		{"no alg", jose.ReasonHeader, header(`{"kid":"k"}`, allowed)},
		{"alg none", jose.ReasonAlgorithm, header(`{"alg":"none"}`, allowed)},
		{"alg not allowed", jose.ReasonAlgorithm, header(`{"alg":"RS256"}`, allowed)},
		{"crit", jose.ReasonCrit, header(`{"alg":"HS256","crit":["exp"]}`, allowed)},
		{"jku", jose.ReasonHeader, header(`{"alg":"HS256","jku":"https://x"}`, allowed)},
		{"claims too deep", jose.ReasonMalformed, claims(`{"a":[[[[]]]]}`)},
		{"claims out of range", jose.ReasonMalformed, claims(`{"a":1e400}`)},
		{"claims duplicate", jose.ReasonDuplicateClaim, claims(`{"a":1,"a":1}`)},
	} {
		if got := jose.ReasonOf(tc.err); got != tc.reason {
			t.Errorf("%s: reason %q (%v), want %q", tc.name, got, tc.err, tc.reason)
		}
	}
	if r := jose.ReasonOf(jose.Wrap(jose.ErrMalformed, "x")); r != "" {
		t.Errorf("Wrap decided reason %q", r)
	}
}

func split(tok string, max int) error {
	_, _, _, err := jose.Split(tok, max)
	return err
}

func header(h string, allowed map[string]bool) error {
	hdr, err := jose.ParseHeader([]byte(h), 16)
	if err != nil {
		return err
	}
	return hdr.Check(allowed)
}

func claims(c string) error {
	_, err := jose.DecodeClaims([]byte(c), 3)
	return err
}
