package apikey

import (
	"net/http"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/internal/credential"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/problem"
)

// extract returns the key the request carries and where it found it
// (SourceUnknown: none), or the refusal of an unusable one. Sources are
// tried in order: the header, the Authorization scheme, the cookie, the
// query parameter; the first that holds a key wins. It allocates nothing
// unless a query value needs unescaping.
func (a *Authenticator) extract(r *http.Request) (string, authn.CredentialSource, *problem.Problem) {
	if a.header != "" {
		v, n := credential.Field(r.Header, a.header)
		if n > 1 {
			return "", 0, refuse(reasonAmbiguous, nil)
		}
		if v = httpsyntax.TrimOWS(v); v != "" {
			return v, authn.SourceHeader, nil
		}
	}
	if a.scheme != "" {
		found := ""
		n := 0
		for _, v := range r.Header["Authorization"] {
			cred, ok := credential.Scheme(v, a.scheme)
			if !ok {
				continue
			}
			n++
			found = httpsyntax.TrimOWS(cred)
		}
		switch {
		case n > 1:
			return "", 0, refuse(reasonAmbiguous, nil)
		case n == 1 && found == "":
			return "", 0, refuse(reasonEmpty, nil)
		case n == 1:
			return found, authn.SourceHeader, nil
		}
	}
	if a.cookie != "" {
		if v, ok := credential.Cookie(r.Header["Cookie"], a.cookie); ok && v != "" {
			return v, authn.SourceCookie, nil
		}
	}
	if a.query != "" {
		if v, ok := credential.Query(r.URL, a.query); ok {
			if v == "" {
				return "", 0, refuse(reasonMalformed, nil)
			}
			return v, authn.SourceQuery, nil
		}
	}
	return "", authn.SourceUnknown, nil
}
