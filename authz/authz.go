// Package authz decides what an authenticated caller may do: roles,
// scopes, permissions derived from roles, and resource ownership.
//
// It runs after authentication (step 8 of the request path) and reads the
// caller with authn.FromContext. A request without a principal is refused
// with 401 (the route needed authentication first); a principal without the
// required grant gets 403. Denials are problem+json responses with one audit
// event each; scope denials carry the RFC 6750 challenge
// `Bearer error="insufficient_scope", scope="..."`.
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
	// Realm is used in the Bearer challenge of scope denials. Default "api".
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

// RequireOwner writes a 403 (or 401 without a principal) and returns false
// unless the caller may modify a resource owned by owner. Call it after
// loading the resource, so that unknown ids are 404 first.
func (a *Authorizer) RequireOwner(w http.ResponseWriter, r *http.Request, owner string) bool {
	p, ok := authn.FromContext(r.Context())
	if !ok {
		a.unauthenticated(w, r)
		return false
	}
	if a.CanModify(p, owner) {
		return true
	}
	a.deny.Deny(w, r, problem.Forbidden(problem.TypeForbidden, "only the owner or an administrator may change this resource").WithReason("not_owner"))
	return false
}

// RequirePermission returns a guard admitting callers that hold every one of
// perms.
func (a *Authorizer) RequirePermission(perms ...string) func(http.Handler) http.Handler {
	detail := "this operation requires the permission " + strings.Join(perms, ", ")
	return a.require(func(p *authn.Principal) bool {
		for _, perm := range perms {
			if !a.Can(p, perm) {
				return false
			}
		}
		return true
	}, func() *problem.Problem {
		return problem.Forbidden(problem.TypeForbidden, detail).WithReason("missing_permission").With("required_permissions", perms)
	})
}

// RequireRole returns a guard admitting callers with at least one of roles.
func (a *Authorizer) RequireRole(roles ...string) func(http.Handler) http.Handler {
	detail := "this operation requires the role " + strings.Join(roles, " or ")
	return a.require(func(p *authn.Principal) bool {
		return slices.ContainsFunc(roles, p.HasRole)
	}, func() *problem.Problem {
		return problem.Forbidden(problem.TypeForbidden, detail).WithReason("missing_role")
	})
}

// RequireScope returns a guard admitting callers holding every one of
// scopes; denials carry the RFC 6750 insufficient_scope challenge, with
// the realm and the scope list as RFC 9110 quoted-strings.
//
// Each scope must be an RFC 6750 §3 scope-token: one or more printable
// ASCII characters other than space, '"' and '\' (%x21 / %x23-5B /
// %x5D-7E). RequireScope builds the guard once, at route setup, and panics
// there when a scope is not one, or when no scope is given (a guard that
// admits everyone is a configuration mistake); validate scopes that come
// from configuration with CheckScopes first.
func (a *Authorizer) RequireScope(scopes ...string) func(http.Handler) http.Handler {
	if err := CheckScopes(scopes...); err != nil {
		panic(err.Error())
	}
	scopes = append([]string(nil), scopes...)
	scope := strings.Join(scopes, " ")
	challenge := problem.Challenge("Bearer", a.realm, "error", "insufficient_scope", "scope", scope)
	return a.require(func(p *authn.Principal) bool {
		for _, s := range scopes {
			if !p.HasScope(s) {
				return false
			}
		}
		return true
	}, func() *problem.Problem {
		return problem.Forbidden(problem.TypeInsufficientScope, "this operation requires the scope "+scope).
			WithHeader("WWW-Authenticate", challenge).WithReason("insufficient_scope").With("required_scopes", scopes)
	})
}

// CheckScopes reports whether scopes can be required by RequireScope: at
// least one, each an RFC 6750 §3 scope-token (%x21 / %x23-5B / %x5D-7E,
// non-empty). The error names the first offending scope.
func CheckScopes(scopes ...string) error {
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

func (a *Authorizer) require(ok func(*authn.Principal) bool, denial func() *problem.Problem) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, found := authn.FromContext(r.Context())
			if !found {
				a.unauthenticated(w, r)
				return
			}
			if !ok(p) {
				a.deny.Deny(w, r, denial())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (a *Authorizer) unauthenticated(w http.ResponseWriter, r *http.Request) {
	a.deny.Deny(w, r, problem.Unauthorized(problem.TypeUnauthorized, problem.Challenge("Bearer", a.realm),
		"authentication is required").WithReason("no_principal"))
}
