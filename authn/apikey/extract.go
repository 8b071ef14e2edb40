package apikey

import (
	"net/http"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/internal/credential"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/problem"
)

// extract returns the key the request carries and where it found it
// (SourceUnknown: none), or the refusal of an unusable one. Every enabled
// source is read — the header, the Authorization scheme, the cookie, the
// query parameter — and a request that carries a key in several of them
// is refused as ambiguous (apikey_ambiguous) unless the values are
// identical: which one the client meant is unknowable, and a bad key must
// not hide behind a good one. An identical key in several sources is
// recorded with the first source's kind. It allocates nothing unless a
// query value needs unescaping.
func (a *Authenticator) extract(r *http.Request) (string, authn.CredentialSource, *problem.Problem) {
	key, src := "", authn.SourceUnknown
	if a.header != "" {
		v, n := credential.Field(r.Header, a.header)
		switch {
		case n > 1:
			return "", 0, refuse(reasonAmbiguous, nil)
		case n == 1:
			if v = httpsyntax.TrimOWS(v); v == "" {
				return "", 0, refuse(reasonEmpty, nil)
			}
			key, src = v, authn.SourceHeader
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
		case n == 1 && src == authn.SourceUnknown:
			key, src = found, authn.SourceHeader
		case n == 1 && found != key:
			return "", 0, refuse(reasonAmbiguous, nil)
		}
	}
	if a.cookie != "" {
		if v, ok := credential.Cookie(r.Header["Cookie"], a.cookie); ok && v != "" {
			switch {
			case src == authn.SourceUnknown:
				key, src = v, authn.SourceCookie
			case v != key:
				return "", 0, refuse(reasonAmbiguous, nil)
			}
		}
	}
	if a.query != "" {
		if v, ok := credential.Query(r.URL, a.query); ok {
			switch {
			case v == "":
				return "", 0, refuse(reasonMalformed, nil)
			case src == authn.SourceUnknown:
				key, src = v, authn.SourceQuery
			case v != key:
				return "", 0, refuse(reasonAmbiguous, nil)
			}
		}
	}
	return key, src, nil
}
