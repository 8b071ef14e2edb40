// Package authz decides what an authenticated caller may do: roles,
// scopes, permissions derived from roles, and resource ownership.
//
// It runs after authentication (step 8 of the request path) and reads the
// caller with authn.FromContext. An Authorizer holds the model (which role
// grants which permission, the admin role, the realm); each route's guard
// is a Requirement built from a Rule (any of Roles, every Permission,
// every Scope): Require validates a rule from configuration and returns
// its error; RequireRole, RequirePermission and RequireScope are the
// shortcuts for rules written in code. A request without a principal is
// refused with 401 (the route needed authentication first); a principal
// without the required grant gets 403. Denials are problem+json responses
// with one audit event each; the 401 carries the challenge
// `Bearer realm="api"`, and scope denials of bearer-token callers (JWT,
// introspection) the RFC 6750 challenge `Bearer realm="api",
// error="insufficient_scope", scope="..."` (the realm is Options.Realm);
// other callers (API key, Basic, session, certificate) get their 403
// without a challenge, since that error attribute is Bearer's.
//
// Ownership needs the resource, so it cannot be a middleware: handlers load
// the resource first (an unknown id is a 404 before any 403, so that
// existence is the only thing a stranger learns), then call CanModify or
// RequireOwner.
package authz

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/problem"
)

// Options configure an Authorizer.
type Options struct {
	// RolePermissions maps a role to the permissions it grants, e.g.
	// "admin": {"users:read", "users:delete"}. Permission names are opaque
	// strings; "resource:action" is the convention. Default: none.
	RolePermissions map[string][]string `json:"role_permissions" yaml:"role_permissions"`
	// AdminRole may modify any resource in CanModify. Default "" (none).
	AdminRole string `json:"admin_role" yaml:"admin_role"`
	// Realm names the protection space in the challenges of 401s (no
	// principal) and scope denials. Default "api".
	Realm string `json:"realm" yaml:"realm"`
	// Audit receives one event per denial. Default: none.
	Audit audit.Sink `json:"-" yaml:"-"`
	// ErrorHandler writes denials. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Authorizer answers authorization questions. It is immutable after New and
// safe for concurrent use.
type Authorizer struct {
	perms     map[string]map[string]struct{} // role → permission set
	adminRole string
	realm     string
	deny      problem.Denier
}

// New validates opts and returns an Authorizer.
func New(opts Options) (*Authorizer, error) {
	a := &Authorizer{
		perms:     make(map[string]map[string]struct{}, len(opts.RolePermissions)),
		adminRole: opts.AdminRole,
		realm:     opts.Realm,
		deny:      problem.Denier{Guard: "authz", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	if a.realm == "" {
		a.realm = "api"
	}
	for role, ps := range opts.RolePermissions {
		if strings.TrimSpace(role) == "" {
			return nil, fmt.Errorf("authz: empty role name in RolePermissions")
		}
		set := make(map[string]struct{}, len(ps))
		for _, p := range ps {
			if strings.TrimSpace(p) == "" || strings.ContainsAny(p, " \t\"") {
				return nil, fmt.Errorf("authz: role %q: invalid permission %q (use names like \"users:read\")", role, p)
			}
			set[p] = struct{}{}
		}
		a.perms[role] = set
	}
	return a, nil
}

// Can reports whether p holds permission perm through any of its roles.
func (a *Authorizer) Can(p *authn.Principal, perm string) bool {
	if p == nil {
		return false
	}
	for _, role := range p.Roles {
		if _, ok := a.perms[role][perm]; ok {
			return true
		}
	}
	return false
}

// Permissions returns p's permissions, sorted.
func (a *Authorizer) Permissions(p *authn.Principal) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, role := range p.Roles {
		for perm := range a.perms[role] {
			if !slices.Contains(out, perm) {
				out = append(out, perm)
			}
		}
	}
	sort.Strings(out)
	return out
}

// CanModify reports whether p may change a resource owned by owner: the
// owner itself, or a holder of the admin role.
func (a *Authorizer) CanModify(p *authn.Principal, owner string) bool {
	if p == nil {
		return false
	}
	if p.Subject != "" && p.Subject == owner {
		return true
	}
	return a.adminRole != "" && p.HasRole(a.adminRole)
}

// RequireOwner writes a 403 (type problem.TypeForbidden, reason
// not_owner), or a 401 without a principal, and returns false unless the
// caller may modify a resource owned by owner. Call it after loading the
// resource, so that unknown ids are 404 first.
func (a *Authorizer) RequireOwner(w http.ResponseWriter, r *http.Request, owner string) bool {
	p, ok := authn.FromContext(r.Context())
	if !ok {
		a.deny.Deny(w, r, a.unauthenticated())
		return false
	}
	if a.CanModify(p, owner) {
		return true
	}
	a.deny.Deny(w, r, problem.Forbidden(problem.TypeForbidden, "only the owner or an administrator may change this resource").WithReason("not_owner"))
	return false
}

// A Rule is what a caller must hold to pass a Requirement: at least one of
// Roles, every one of Permissions (granted through RolePermissions), and
// every one of Scopes. Empty lists ask nothing; a Rule that asks nothing is
// refused by Require.
type Rule struct {
	// Roles admits callers holding at least one of them.
	Roles []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	// Permissions admits callers whose roles grant every one of them.
	Permissions []string `json:"permissions,omitempty" yaml:"permissions,omitempty"`
	// Scopes admits callers holding every one of them; each must be an
	// RFC 6750 scope-token (printable ASCII except space, '"' and '\').
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
}

// A Requirement is a Rule bound to its Authorizer: the authorization guard
// of a route (step 8 of the request path), built by Require or the
// RequireRole, RequirePermission and RequireScope shortcuts. It is
// immutable and safe for concurrent use.
type Requirement struct {
	a         *Authorizer
	rule      Rule
	challenge string // the insufficient_scope challenge, built once
}

// Require validates rule and returns its guard. Names must be non-empty and
// free of spaces and quotes, scopes RFC 6750 scope-tokens; a rule that asks
// nothing is refused (a guard that admits every caller is a configuration
// mistake). Use it where rules come from configuration.
func (a *Authorizer) Require(rule Rule) (*Requirement, error) {
	if len(rule.Roles)+len(rule.Permissions)+len(rule.Scopes) == 0 {
		return nil, errors.New("authz: the rule asks nothing: name the roles, permissions or scopes a caller needs")
	}
	for _, names := range [][]string{rule.Roles, rule.Permissions} {
		for _, n := range names {
			if strings.TrimSpace(n) == "" || strings.ContainsAny(n, " \t\"\\") {
				return nil, fmt.Errorf("authz: invalid role or permission name %q (use names like \"admin\" or \"users:read\")", n)
			}
		}
	}
	if len(rule.Scopes) > 0 {
		if err := ValidateScopes(rule.Scopes...); err != nil {
			return nil, err
		}
	}
	return a.requirement(rule), nil
}

// requirement builds the guard for rule without validating it.
func (a *Authorizer) requirement(rule Rule) *Requirement {
	rule = Rule{Roles: slices.Clone(rule.Roles), Permissions: slices.Clone(rule.Permissions), Scopes: slices.Clone(rule.Scopes)}
	q := &Requirement{a: a, rule: rule}
	if len(rule.Scopes) > 0 {
		q.challenge = problem.Challenge("Bearer", a.realm, "error", "insufficient_scope", "scope", strings.Join(rule.Scopes, " "))
	}
	return q
}

// RequireRole returns middleware admitting callers that hold at least one of
// the roles; see Require.
func (a *Authorizer) RequireRole(role string, more ...string) func(http.Handler) http.Handler {
	return a.shortcut(Rule{Roles: append([]string{role}, more...)})
}

// RequirePermission returns middleware admitting callers whose roles grant
// every one of the permissions; see Require.
func (a *Authorizer) RequirePermission(perm string, more ...string) func(http.Handler) http.Handler {
	return a.shortcut(Rule{Permissions: append([]string{perm}, more...)})
}

// RequireScope returns middleware admitting callers holding every one of
// the scopes; its refusals of bearer-token callers carry the RFC 6750
// insufficient_scope challenge (others': none).
//
// The shortcuts return no error: a rule Require would refuse (an empty
// name, a scope with a space, say) becomes a guard that refuses every
// request with a 500 problem (reason authz_misconfigured, the fault in the
// audit event) — a mistake that shows at the first request, and never one
// that admits. Build rules that come from configuration with Require,
// which returns the fault at start.
func (a *Authorizer) RequireScope(scope string, more ...string) func(http.Handler) http.Handler {
	return a.shortcut(Rule{Scopes: append([]string{scope}, more...)})
}

// shortcut is the guard of rule, or, when Require refuses rule, one that
// refuses every request.
func (a *Authorizer) shortcut(rule Rule) func(http.Handler) http.Handler {
	q, err := a.Require(rule)
	if err == nil {
		return q.Handler
	}
	misconfigured := func(r *http.Request) (*http.Request, *problem.Problem) {
		return r, problem.New(http.StatusInternalServerError, problem.TypeInternal, "this resource's authorization is misconfigured").
			WithReason("authz_misconfigured").WithErr(err)
	}
	return func(next http.Handler) http.Handler { return a.deny.Wrap(misconfigured, next) }
}

// Check is the guard's decision: it returns r and, unless r's principal
// satisfies the rule, the problem Handler answers with — 401 without a
// principal (reason no_principal, with the Bearer challenge; authentication
// must run first), else 403 (reason missing_role, missing_permission, or
// insufficient_scope with its challenge). It writes nothing.
func (q *Requirement) Check(r *http.Request) (*http.Request, *problem.Problem) {
	p, ok := authn.FromContext(r.Context())
	if !ok {
		return r, q.a.unauthenticated()
	}
	return r, q.refusal(p)
}

// Handler returns next wrapped so that only callers satisfying the rule
// reach it; the others get Check's problem, with one audit event.
func (q *Requirement) Handler(next http.Handler) http.Handler { return q.a.deny.Wrap(q.Check, next) }

// refusal is the problem for a principal that fails the rule, or nil.
func (q *Requirement) refusal(p *authn.Principal) *problem.Problem {
	r := &q.rule
	if len(r.Roles) > 0 && !slices.ContainsFunc(r.Roles, p.HasRole) {
		return problem.Forbidden(problem.TypeForbidden, "this operation requires the role "+strings.Join(r.Roles, " or ")).
			WithReason("missing_role")
	}
	for _, perm := range r.Permissions {
		if !q.a.Can(p, perm) {
			return problem.Forbidden(problem.TypeForbidden, "this operation requires the permission "+strings.Join(r.Permissions, ", ")).
				WithReason("missing_permission").With("required_permissions", r.Permissions)
		}
	}
	for _, s := range r.Scopes {
		if !p.HasScope(s) {
			pr := problem.Forbidden(problem.TypeInsufficientScope, "this operation requires the scope "+strings.Join(r.Scopes, " ")).
				WithReason("insufficient_scope").With("required_scopes", r.Scopes)
			if bearer(p.Method) {
				pr.WithHeader("WWW-Authenticate", q.challenge)
			}
			return pr
		}
	}
	return nil
}

// bearer reports whether a principal of method presented a bearer token
// (jwt, introspect, alone or in an authn.AllOf: "mtls+jwt"), whose
// scope refusal RFC 6750 §3.1 answers with the insufficient_scope
// challenge. The error attribute is the Bearer scheme's: an API-key,
// Basic, session or certificate caller gets the 403 without a challenge
// (RFC 9110 asks none of a 403); its problem says which scopes are
// missing.
func bearer(method string) bool {
	for method != "" {
		var m string
		m, method, _ = strings.Cut(method, "+")
		if m == "jwt" || m == "introspect" {
			return true
		}
	}
	return false
}

// ValidateScopes reports whether scopes can be required by RequireScope: at
// least one, each an RFC 6750 §3 scope-token (%x21 / %x23-5B / %x5D-7E,
// non-empty). The error names the first offending scope.
func ValidateScopes(scopes ...string) error {
	if len(scopes) == 0 {
		return errors.New("authz: RequireScope needs at least one scope")
	}
	for _, s := range scopes {
		if s == "" {
			return errors.New("authz: RequireScope: empty scope")
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return fmt.Errorf("authz: RequireScope: scope %q is not an RFC 6750 scope-token (printable ASCII except space, '\"' and '\\')", s)
			}
		}
	}
	return nil
}

func (a *Authorizer) unauthenticated() *problem.Problem {
	return problem.Unauthorized(problem.TypeUnauthorized, problem.Challenge("Bearer", a.realm),
		"authentication is required").WithReason("no_principal")
}
