package basic_test

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/basic"
	"github.com/bulwark-go/bulwark/problem"
)

// FuzzCredentials: whatever the header, Credentials returns either
// ErrNoCredentials, a 401 problem with a reason, or a user and password
// that are UTF-8 without control characters, the user without a colon —
// and, for a well-formed header, exactly what was encoded.
func FuzzCredentials(f *testing.F) {
	for _, s := range []string{
		"", "Basic", "Basic ", "basic YWxpY2U6cHc=", "Basic YWxpY2U6cHc", "Bearer x", "Basic !!",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("a:b:c")), "Basic\tYQ==", ":x", "Basic  YTpi",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("\xff:x")), "Basic " + strings.Repeat("A", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		user, pw, err := basic.Credentials(r)
		if err != nil {
			if errors.Is(err, authn.ErrNoCredentials) {
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Status != 401 || p.Reason == "" {
				t.Fatalf("%q: %v", v, err)
			}
			return
		}
		if !utf8.ValidString(user) || !utf8.ValidString(pw) || strings.Contains(user, ":") || len(user) > basic.MaxUserLen {
			t.Fatalf("%q: accepted %q:%q", v, user, pw)
		}
		for _, c := range user + pw {
			if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
				t.Fatalf("%q: control character accepted", v)
			}
		}
		if len(v) > basic.MaxHeaderLen {
			t.Fatalf("%d bytes accepted", len(v))
		}
	})
}

// FuzzRoundTrip: an encoded user and password come back as they were.
func FuzzRoundTrip(f *testing.F) {
	f.Add("alice", "wonderland-2026")
	f.Add("élise", "mot de passe")
	f.Fuzz(func(t *testing.T, user, pw string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pw)))
		u, p, err := basic.Credentials(r)
		if err == nil && (u != user || p != pw) {
			t.Fatalf("%q:%q came back as %q:%q", user, pw, u, p)
		}
		clean := func(s string) bool {
			for _, c := range s {
				if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
					return false
				}
			}
			return utf8.ValidString(s)
		}
		ok := clean(user) && clean(pw) && !strings.Contains(user, ":") && len(user) <= basic.MaxUserLen &&
			len("Basic ")+base64.StdEncoding.EncodedLen(len(user)+1+len(pw)) <= basic.MaxHeaderLen
		if ok != (err == nil) {
			t.Fatalf("%q:%q: err %v; want accepted %v", user, pw, err, ok)
		}
	})
}
