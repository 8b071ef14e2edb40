package demo

import (
	"net/http"

	"github.com/bulwark-go/bulwark/cors"
	"github.com/bulwark-go/bulwark/problem"
)

// crossOrigin is the demo's step 7 (CSRF) on /api/*, where the only
// cookie is auth_token and there are no forms: an unsafe request that
// carries cookies must be same-origin by Fetch Metadata (else Origin), as
// Go's http.CrossOriginProtection decides, or come from an origin the CORS
// policy allows to make credentialed calls. A request without cookies
// (a bearer token) is not CSRF-prone and passes.
type crossOrigin struct {
	check *http.CrossOriginProtection
	cors  *cors.CORS
	deny  problem.Denier
}

func newCrossOrigin(c *cors.CORS, deny problem.Denier) *crossOrigin {
	return &crossOrigin{check: http.NewCrossOriginProtection(), cors: c, deny: deny}
}

// Check refuses a cross-origin unsafe request that carries cookies.
func (x *crossOrigin) Check(r *http.Request) (*http.Request, *problem.Problem) {
	if r.Header["Cookie"] == nil {
		return r, nil
	}
	if d := x.cors.Decide(r); d.Kind == cors.Actual && d.Allowed {
		return r, nil
	}
	if err := x.check.Check(r); err != nil {
		return r, problem.Forbidden(problem.TypeCSRF,
			"a cross-origin request that carries cookies was refused; send the token in the Authorization header").
			WithReason("cross_origin_request").WithErr(err)
	}
	return r, nil
}

// Handler refuses what Check refuses, with one audit event.
func (x *crossOrigin) Handler(next http.Handler) http.Handler { return x.deny.Wrap(x.Check, next) }
