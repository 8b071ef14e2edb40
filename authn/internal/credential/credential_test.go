package credential

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthorization(t *testing.T) {
	for _, c := range []struct {
		fields []string
		creds  string
		o      Outcome
	}{
		{nil, "", None},
		{[]string{"Bearer abc"}, "abc", Found},
		{[]string{"bearer   abc \t"}, "abc", Found},      // 1*SP; trailing OWS
		{[]string{"BEARER abc"}, "abc", Found},           // the scheme is case-insensitive
		{[]string{"Bearer a b"}, "a b", Found},           // the caller checks token68
		{[]string{"Bearer \tabc"}, "\tabc", Found},       // only spaces follow the scheme
		{[]string{"Bearer"}, "", Empty},                  // the scheme alone
		{[]string{"Bearer  \t "}, "", Empty},             //
		{[]string{"BearerX abc"}, "", None},              // another scheme
		{[]string{"Bearer\tabc"}, "", None},              // a tab does not end the scheme
		{[]string{"Basic YTpi"}, "", None},               //
		{[]string{"Bear"}, "", None},                     //
		{[]string{" Bearer abc"}, "", None},              // a leading space: no scheme
		{[]string{"Basic x", "Bearer abc"}, "", Several}, // decided before the scheme
		{[]string{"Bearer a", "Bearer a"}, "", Several},
	} {
		h := http.Header{}
		if c.fields != nil {
			h["Authorization"] = c.fields
		}
		creds, o := Authorization(h, "Authorization", "Bearer")
		if creds != c.creds || o != c.o {
			t.Errorf("%q: %q, %d; want %q, %d", c.fields, creds, o, c.creds, c.o)
		}
	}
}

func TestCookie(t *testing.T) {
	for _, c := range []struct {
		lines []string
		v     string
		ok    bool
	}{
		{nil, "", false},
		{[]string{"a=1; tok=xyz"}, "xyz", true},
		{[]string{"a=1", "\ttok=\"xyz\" "}, "xyz", true}, // unquoted, OWS trimmed
		{[]string{"tok=1; tok=2"}, "1", true},            // the first wins
		{[]string{"tok="}, "", true},
		{[]string{"tok"}, "", false},
		{[]string{"Tok=1; xtok=2"}, "", false}, // names are case-sensitive
		{[]string{`tok="`}, `"`, true},
	} {
		if v, ok := Cookie(c.lines, "tok"); v != c.v || ok != c.ok {
			t.Errorf("%q: %q, %v; want %q, %v", c.lines, v, ok, c.v, c.ok)
		}
	}
}

func TestQuery(t *testing.T) {
	for _, c := range []struct {
		raw string
		v   string
		ok  bool
	}{
		{"", "", false},
		{"a=1&tok=xyz", "xyz", true},
		{"tok=a%2Bb+c", "a+b c", true},
		{"tok=%zz", "", true}, // present, unusable
		{"tok", "", true},
		{"tok=1&tok=2", "1", true},
		{"toke=1&Tok=2", "", false},
	} {
		if v, ok := Query(&url.URL{RawQuery: c.raw}, "tok"); v != c.v || ok != c.ok {
			t.Errorf("%q: %q, %v; want %q, %v", c.raw, v, ok, c.v, c.ok)
		}
	}
	if v, ok := Query(nil, "tok"); v != "" || ok {
		t.Error("a nil URL has a parameter")
	}
}

func TestQueryAllocs(t *testing.T) {
	u := &url.URL{RawQuery: "a=1&tok=xyz"}
	h := http.Header{"Authorization": {"Bearer abc"}, "Cookie": {"a=1; tok=xyz"}}
	if n := testing.AllocsPerRun(100, func() {
		Query(u, "tok")
		Cookie(h["Cookie"], "tok")
		Authorization(h, "Authorization", "Bearer")
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// FuzzAuthorization: the parser never panics; what it finds is in the
// scheme, comes from the header's one field, and has no surrounding
// blanks; Split and Scheme agree with it.
func FuzzAuthorization(f *testing.F) {
	// The seeds of the authenticators' own fuzz tests, and their edges.
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Bearer", "BearerX abc", "Basic a", "Bearer \t", "Bearer a b",
		"bearer   eyJhbGciOiJIUzI1NiJ9.e30.sig", "Basic YTpi", "ApiKey x", "ApiKey", "apikey\t k", "ApiKey \x01",
		"ApiKey demo-read-key-0001", "Bearer\tabc", " Bearer abc", "Bearer \tabc\t", ""} {
		f.Add(s, "Bearer")
		f.Add(s, "ApiKey")
	}
	f.Fuzz(func(t *testing.T, v, scheme string) {
		if strings.ContainsAny(scheme, " ") || scheme == "" {
			return // callers pass a token
		}
		h := http.Header{"Authorization": {v}}
		creds, o := Authorization(h, "Authorization", scheme)
		s, c := Split(v)
		if strings.Contains(s, " ") || strings.HasPrefix(c, " ") || strings.TrimRight(c, " \t") != c || !strings.Contains(v, c) {
			t.Fatalf("Split(%q) = %q, %q", v, s, c)
		}
		// The rule restated: the scheme, then a space or the end.
		n := len(scheme)
		ours := len(v) >= n && strings.EqualFold(v[:n], scheme) && (len(v) == n || v[n] == ' ')
		want := ""
		if ours {
			want = strings.TrimRight(strings.TrimLeft(v[n:], " "), " \t")
		}
		switch {
		case !ours && o != None, ours && want == "" && o != Empty, ours && want != "" && (o != Found || creds != want):
			t.Fatalf("%q in %q: %q, %d; want %q (ours %v)", v, scheme, creds, o, want, ours)
		}
		if c2, ok := Scheme(v, scheme); ok != (o != None) || (o == Found && c2 != creds) {
			t.Fatalf("Scheme(%q, %q) = %q, %v; Authorization: %q, %d", v, scheme, c2, ok, creds, o)
		}
		h["Authorization"] = append(h["Authorization"], v)
		if _, o := Authorization(h, "Authorization", scheme); o != Several {
			t.Fatalf("two fields: %d", o)
		}
	})
}

// FuzzCookieQuery: the cookie and query readers never panic and return
// what the line or query holds.
func FuzzCookieQuery(f *testing.F) {
	f.Add("k=v; auth_token=x", "auth_token=%zz")
	f.Add(`a=b; auth_token="tok"`, "auth_token=a+b&auth_token=c")
	f.Add("auth_token=", "auth_token")
	f.Fuzz(func(t *testing.T, line, query string) {
		if v, ok := Cookie([]string{line}, "auth_token"); ok && !strings.Contains(line, v) {
			t.Fatalf("cookie %q from %q", v, line)
		} else if !ok && v != "" {
			t.Fatal("a value without a cookie")
		}
		v, ok := Query(&url.URL{RawQuery: query}, "auth_token")
		present := false
		for _, part := range strings.Split(query, "&") {
			present = present || part == "auth_token" || strings.HasPrefix(part, "auth_token=")
		}
		if ok != present || (!ok && v != "") {
			t.Fatalf("query %q: %q, %v", query, v, ok)
		}
		if ok && v != "" && !strings.Contains(query, ";") {
			std, _ := url.ParseQuery(query) // skips a pair that does not unescape
			if got := std["auth_token"]; len(got) > 0 && got[0] != v {
				t.Fatalf("query %q: %q, net/url %q", query, v, got[0])
			}
		}
	})
}
