package jwt

import (
	"slices"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
)

// maxIDLen bounds jti and sid (they end up in store keys).
const maxIDLen = 256

// verifiedToken is what validation extracts from the claims, once.
type verifiedToken struct {
	claims   map[string]any
	sub      string
	jti      string
	sid      string
	iss      string
	key      *Key // the key that verified the signature
	aud      []string
	exp      time.Time
	iat      time.Time
	authTime time.Time
	roles    []string
	scopes   []string
}

// claimErr refuses a token whose claims do not match (reason: iss, aud,
// a missing claim); detail is for the audit log.
func claimErr(reason, detail string) *problem.Problem {
	return refuse(reason, jose.Wrap(ErrClaims, detail))
}

func malformedClaim(name string) *problem.Problem {
	return claimErr(reasonClaimInvalid, "claim "+name+" has the wrong type or size")
}

// validateClaims checks the registered claims and extracts what the
// principal needs.
func (v *Verifier) validateClaims(m map[string]any, now time.Time) (*verifiedToken, *problem.Problem) {
	vt := &verifiedToken{claims: m}
	for _, name := range v.required {
		if _, ok := m[name]; !ok {
			return nil, claimErr(reasonClaimMissing, "missing claim "+name)
		}
	}
	if raw, ok := m["exp"]; ok {
		t, ok := jose.NumericDate(raw)
		if !ok {
			return nil, malformedClaim("exp")
		}
		if !now.Before(t.Add(v.leeway)) {
			return nil, refuse(reasonExpired, ErrExpired)
		}
		vt.exp = t
	}
	if raw, ok := m["nbf"]; ok {
		t, ok := jose.NumericDate(raw)
		if !ok {
			return nil, malformedClaim("nbf")
		}
		if now.Add(v.leeway).Before(t) {
			return nil, refuse(reasonNotYetValid, jose.Wrap(ErrNotYetValid, "nbf in the future"))
		}
	}
	if raw, ok := m["iat"]; ok {
		t, ok := jose.NumericDate(raw)
		if !ok {
			return nil, malformedClaim("iat")
		}
		if now.Add(v.leeway).Before(t) {
			return nil, refuse(reasonNotYetValid, jose.Wrap(ErrNotYetValid, "iat in the future"))
		}
		vt.iat = t
	}
	if raw, ok := m["auth_time"]; ok {
		t, ok := jose.NumericDate(raw)
		if !ok {
			return nil, malformedClaim("auth_time")
		}
		vt.authTime = t
	}
	var ok bool
	raw, present := m["iss"]
	switch {
	case present:
		if vt.iss, ok = raw.(string); !ok {
			return nil, malformedClaim("iss")
		}
		if len(v.issuers) > 0 && !slices.Contains(v.issuers, vt.iss) {
			return nil, claimErr(reasonIssuer, "iss is not an accepted issuer")
		}
	case v.reqIss:
		return nil, claimErr(reasonClaimMissing, "missing claim iss")
	}
	if raw, present := m["aud"]; present {
		switch a := raw.(type) {
		case string:
			vt.aud = []string{a}
		case []any:
			vt.aud = make([]string, 0, len(a))
			for _, x := range a {
				s, ok := x.(string)
				if !ok {
					return nil, malformedClaim("aud")
				}
				vt.aud = append(vt.aud, s)
			}
		default:
			return nil, malformedClaim("aud")
		}
		if !v.audienceMatches(vt.aud) {
			return nil, claimErr(reasonAudience, "aud names no audience of this service")
		}
	} else if v.reqAud {
		return nil, claimErr(reasonClaimMissing, "missing claim aud")
	}
	if raw, present := m["sub"]; present {
		if vt.sub, ok = raw.(string); !ok {
			return nil, malformedClaim("sub")
		}
	}
	if raw, present := m["jti"]; present {
		if vt.jti, ok = raw.(string); !ok || len(vt.jti) > maxIDLen {
			return nil, malformedClaim("jti")
		}
	}
	if raw, present := m["sid"]; present {
		if vt.sid, ok = raw.(string); !ok || len(vt.sid) > maxIDLen {
			return nil, malformedClaim("sid")
		}
	}
	use := ""
	if raw, present := m["token_use"]; present {
		if use, ok = raw.(string); !ok {
			return nil, malformedClaim("token_use")
		}
	}
	switch v.use {
	case useRefresh:
		if use != "refresh" {
			return nil, lifecycle.InvalidToken(reasonWrongType, detailAccessAsRefresh, jose.Wrap(ErrClaims, "token_use is not refresh"))
		}
	default:
		if use == "refresh" {
			return nil, lifecycle.InvalidToken(reasonWrongType, detailRefreshAsAccess, jose.Wrap(ErrClaims, "token_use refresh"))
		}
	}
	roles, good := stringsClaim(m, v.rolesName, false)
	if !good {
		return nil, malformedClaim(v.rolesName)
	}
	if roles == nil && v.rolesName == "roles" {
		if roles, good = stringsClaim(m, "role", false); !good {
			return nil, malformedClaim("role")
		}
	}
	vt.roles = roles
	for _, name := range [...]string{"scope", "scp", "scopes"} {
		if _, present := m[name]; !present {
			continue
		}
		scopes, good := stringsClaim(m, name, true)
		if !good {
			return nil, malformedClaim(name)
		}
		vt.scopes = scopes
		break
	}
	return vt, nil
}

func (v *Verifier) audienceMatches(aud []string) bool {
	for _, a := range aud {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	return false
}

// stringsClaim reads a claim that is an array of strings or a single
// string (split on spaces when split is set, as OAuth's scope). A missing
// claim is (nil, true); a claim of another type is (nil, false).
func stringsClaim(m map[string]any, name string, split bool) ([]string, bool) {
	raw, ok := m[name]
	if !ok {
		return nil, true
	}
	switch x := raw.(type) {
	case string:
		if split {
			return strings.Fields(x), true
		}
		if x == "" {
			return []string{}, true
		}
		return []string{x}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// principal builds the principal: claims decoded once, never again.
func (vt *verifiedToken) principal() *authn.Principal {
	p := &authn.Principal{
		Subject:   vt.sub,
		Method:    "jwt",
		Roles:     vt.roles,
		Scopes:    vt.scopes,
		TokenID:   vt.jti,
		ExpiresAt: vt.exp,
		Claims:    vt.claims,
		ID:        "jwt:" + vt.sub,
	}
	if vt.key != nil && vt.key.vk != nil {
		p.CredentialInfo = vt.key.vk
	}
	return p
}

// KeyOf describes the key that verified the token p was authenticated
// with, when a Verifier made p: its kid, algorithm, thumbprint (public
// keys) and source, never its material. It tells which key — and so which
// issuer — signed the token, which the iss claim alone cannot when a
// verifier trusts several key sources.
func KeyOf(p *authn.Principal) (KeyDescription, bool) {
	if vk := verifiedKeyOf(p); vk != nil {
		return vk.desc, true
	}
	return KeyDescription{}, false
}

func verifiedKeyOf(p *authn.Principal) *verifiedKey {
	if p == nil {
		return nil
	}
	vk, _ := p.CredentialInfo.(*verifiedKey)
	return vk
}
