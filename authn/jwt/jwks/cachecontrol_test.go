package jwks

import (
	"net/http"
	"testing"
	"time"
)

func TestParseFreshness(t *testing.T) {
	for _, tc := range []struct {
		cc      []string
		age     string
		maxAge  time.Duration // -1: none
		noCache bool
	}{
		{nil, "", -1, false},
		{[]string{"public, max-age=300"}, "", 300 * time.Second, false},
		{[]string{"Max-Age = 60"}, "", time.Minute, false}, // whitespace around "=" tolerated
		{[]string{"MAX-AGE=60"}, "", time.Minute, false},
		{[]string{`max-age="60"`}, "", time.Minute, false},
		{[]string{"max-age=60, max-age=10"}, "", time.Minute, false}, // the first counts
		{[]string{"max-age=60", "max-age=10"}, "", time.Minute, false},
		{[]string{"max-age=x, max-age=10"}, "", 10 * time.Second, false},
		{[]string{"max-age=", "max-age"}, "", -1, false},
		{[]string{"max-age=-5"}, "", -1, false},
		{[]string{"max-age=99999999999999999999999"}, "", 1 << 31 * time.Second, false},
		{[]string{"max-age=120"}, "100", 20 * time.Second, false},
		{[]string{"max-age=120"}, "bogus", 120 * time.Second, false},
		{[]string{"max-age=120"}, "120", 0, true},
		{[]string{"max-age=0"}, "", 0, true},
		{[]string{"no-cache"}, "", -1, true},
		{[]string{`no-cache="Set-Cookie", max-age=60`}, "", time.Minute, false},
		{[]string{"NO-STORE"}, "", -1, true},
		{[]string{"s-maxage=60"}, "", -1, false},
		{[]string{",,, ;max-age=60"}, "", -1, false},
		{[]string{"private,max-age=60"}, "", time.Minute, false},
	} {
		h := http.Header{}
		for _, v := range tc.cc {
			h.Add("Cache-Control", v)
		}
		if tc.age != "" {
			h.Set("Age", tc.age)
		}
		f := parseFreshness(h)
		got := time.Duration(-1)
		if f.hasMaxAge {
			got = f.maxAge
		}
		if got != tc.maxAge || f.noCache != tc.noCache {
			t.Errorf("%q Age %q: max-age %v no-cache %v, want %v %v", tc.cc, tc.age, got, f.noCache, tc.maxAge, tc.noCache)
		}
	}
}

// FuzzParseFreshness: any header parses without panicking, to a max-age
// within [0, 2^31 s] that is set only when a max-age directive is there.
func FuzzParseFreshness(f *testing.F) {
	for _, s := range []string{"public, max-age=300", `max-age="60"`, "no-cache", "no-store", "max-age=99999999999999999999",
		"max-age=0", `no-cache="a,b"`, "", ",,,", "max-age=\t5", "MAX-AGE=1"} {
		f.Add(s, "")
		f.Add(s, "100")
	}
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}}
		if age != "" {
			h.Set("Age", age)
		}
		fr := parseFreshness(h)
		if fr.maxAge < 0 || fr.maxAge > maxDeltaSeconds*time.Second || (fr.maxAge != 0 && !fr.hasMaxAge) {
			t.Fatalf("%q %q: %+v", cc, age, fr)
		}
	})
}
