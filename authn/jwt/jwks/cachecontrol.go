package jwks

import (
	"net/http"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/internal/httpsyntax"
)

// maxDeltaSeconds is where RFC 9111 §1.2.2 caps a delta-seconds value
// ("2147483648 (2^31)"): larger values, and values that overflow, read as
// it.
const maxDeltaSeconds = 1 << 31

// freshness is what a JWKS response says about how long it stays fresh.
type freshness struct {
	// maxAge is the response's remaining freshness: Cache-Control max-age
	// less its Age. Meaningful when hasMaxAge.
	maxAge    time.Duration
	hasMaxAge bool
	// noCache is set by no-store, an unqualified no-cache, or a max-age
	// that is already used up: the provider forbids caching the set.
	noCache bool
}

// parseFreshness reads the Cache-Control and Age fields of a response.
// Only the directives a private cache of one document needs count:
// max-age, no-store and no-cache without a field list (a qualified
// no-cache="field" concerns header fields, not the body). s-maxage is for
// shared caches and is ignored. When max-age appears more than once, the
// first one counts (RFC 9111 §4.2.1). Malformed directives are skipped,
// never fatal: a broken header reads as no guidance.
func parseFreshness(h http.Header) freshness {
	var f freshness
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, arg, hasArg := strings.Cut(httpsyntax.TrimOWS(d), "=")
			name = httpsyntax.TrimOWS(name)
			if !httpsyntax.IsToken(name) {
				continue
			}
			switch strings.ToLower(name) {
			case "no-store":
				f.noCache = true
			case "no-cache":
				if !hasArg {
					f.noCache = true
				}
			case "max-age":
				if f.hasMaxAge {
					continue
				}
				if secs, ok := deltaSeconds(unquote(httpsyntax.TrimOWS(arg))); ok && hasArg {
					f.maxAge, f.hasMaxAge = time.Duration(secs)*time.Second, true
				}
			}
		}
	}
	if f.hasMaxAge {
		if age, ok := deltaSeconds(httpsyntax.TrimOWS(h.Get("Age"))); ok {
			f.maxAge -= time.Duration(age) * time.Second
		}
		if f.maxAge <= 0 {
			f.maxAge, f.noCache = 0, true
		}
	}
	return f
}

// deltaSeconds parses RFC 9111 delta-seconds: one or more digits, capped
// at maxDeltaSeconds.
func deltaSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDeltaSeconds), true
}

// unquote strips the quotes of a quoted-string argument ("60"), which
// RFC 9111 §5.2 asks recipients to accept for max-age.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
