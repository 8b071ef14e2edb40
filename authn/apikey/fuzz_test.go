package apikey_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/problem"
)

// FuzzParse: Parse never panics; what it accepts has the documented
// shape, a valid checksum, and survives no single-byte change.
func FuzzParse(f *testing.F) {
	h, _ := apikey.NewHasher(secretA)
	key, _, _ := apikey.Generate(h, apikey.Spec{})
	for _, s := range []string{key, "", "demo-read-key-0001", "bwk_live_", key[:len(key)-1], "bwk_live_" + strings.Repeat("A", 45), "\x00\xff", strings.Repeat("k", 300)} {
		f.Add(s)
	}
	prefixes := []string{apikey.DefaultPrefix, "bwk_test_"}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := apikey.Parse(s, prefixes)
		if err != nil {
			if errors.Is(err, apikey.ErrNotFormatted) && p.Key != s {
				t.Fatal("ErrNotFormatted without the key")
			}
			return
		}
		if !keyShape.MatchString(strings.Replace(s, "bwk_test_", "bwk_live_", 1)) || p.Key != s || len(p.ID) != apikey.IDLen {
			t.Fatalf("accepted %q as %+v", s, p)
		}
		n := len(s) - apikey.ChecksumLen
		if apikey.Checksum(s[:n]) != s[n:] {
			t.Fatalf("accepted %q with a wrong checksum", s)
		}
	})
}

// FuzzAuthenticate: no header value makes Authenticate panic or answer
// anything but a principal, ErrNoCredentials, or a 401 problem with a
// reason; refusals never touch the store for malformed input.
func FuzzAuthenticate(f *testing.F) {
	for _, s := range []string{"ApiKey x", "ApiKey", "apikey\t k", "Bearer x", "ApiKey \x01", "ApiKey " + strings.Repeat("a", 1000), "ApiKey demo-read-key-0001"} {
		f.Add(s, "demo-read-key-0001", "k=v; api_key=x", "api_key=%zz")
	}
	fx := newFixture(f, func(o *apikey.Options) { o.Cookie = "api_key"; o.Query = "api_key" })
	f.Fuzz(func(t *testing.T, authz, xkey, cookie, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{authz}
		r.Header["X-Api-Key"] = []string{xkey}
		r.Header["Cookie"] = []string{cookie}
		r.URL.RawQuery = query
		p, err := fx.auth.Authenticate(r)
		switch {
		case err == nil:
			if p == nil || p.Method != "apikey" {
				t.Fatalf("principal %+v", p)
			}
		case errors.Is(err, authn.ErrNoCredentials):
		default:
			pr, ok := problem.As(err)
			if !ok || pr.Status != http.StatusUnauthorized || pr.Reason == "" {
				t.Fatalf("refusal %v", err)
			}
		}
	})
}
