package authn

import (
	"context"
	"net/http"
)

type bindingKey struct{}

// WithBindingCheck returns r marked as a request whose caller checks the
// binding of the token it authenticates (RFC 8705 §3: the cnf claim of a
// certificate-bound token against the client certificate), after the
// token authenticator returns. A token authenticator (package jwt)
// refuses a token carrying a cnf claim in a request not so marked
// (reason token_binding_unchecked), so that a bound token is never
// accepted as a plain bearer token by a composition that forgot the
// check. Package mtls's CertificateBound marks the requests it passes on;
// nothing else should.
func WithBindingCheck(r *http.Request) *http.Request {
	if BindingChecked(r.Context()) {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), bindingKey{}, true))
}

// BindingChecked reports whether ctx is the context of a request marked
// by WithBindingCheck.
func BindingChecked(ctx context.Context) bool {
	v, _ := ctx.Value(bindingKey{}).(bool)
	return v
}
