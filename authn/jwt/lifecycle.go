package jwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
)

// The token lifecycle (package refresh) signs and verifies refresh tokens
// with a Verifier's keys and an Issuer's, and keeps its refresh families
// beside the Verifier's denylist; it reaches them through these hooks
// instead of through this package's API.
func init() {
	lifecycle.Register(lifecycle.Hooks[*Verifier, *Issuer]{
		Backend: refreshBackend,
		SignedBy: func(p *authn.Principal, i *Issuer) bool {
			vk := verifiedKeyOf(p)
			return vk != nil && sameKey(vk.key, i.key)
		},
	})
}

// refreshBackend checks that v verifies what i signs and returns what a
// Refresher needs of them, for refresh tokens whose aud is aud.
func refreshBackend(v *Verifier, i *Issuer, aud string) (lifecycle.Backend[*Issuer], error) {
	var none lifecycle.Backend[*Issuer]
	if v.rev == nil {
		return none, errors.New("the Verifier needs a Store (memstore or redisstore): refresh families and revocations live there")
	}
	k := i.key
	if !v.allowed[k.alg.name] {
		return none, fmt.Errorf("the Verifier does not allow %s, the Issuer's algorithm", k.alg.name)
	}
	if ks, _ := v.keys.Lookup(context.Background(), k.id, k.alg.name); !slices.ContainsFunc(ks, func(c *Key) bool { return sameKey(c, k) }) {
		return none, errors.New("the Verifier's keys do not include the Issuer's key; add it (its public half for asymmetric keys)")
	}
	if len(v.issuers) > 0 && !slices.Contains(v.issuers, i.iss) {
		return none, errors.New("the Verifier does not accept the Issuer's iss; add it to VerifierOptions.Issuers")
	}
	if slices.Contains(v.audience, aud) || slices.Contains(i.audience, aud) {
		return none, fmt.Errorf("RefreshAudience %s is an access-token audience; refresh tokens need an audience no access-token verifier accepts", quoteForError(aud))
	}
	rv := v.forRefresh(aud)
	ri := *i
	ri.typ, ri.use = TypeRefresh, "refresh"
	return lifecycle.Backend[*Issuer]{
		Denylist:      v.rev,
		Now:           v.now,
		RefreshIssuer: &ri,
		VerifyRefresh: func(ctx context.Context, token string, now time.Time) (lifecycle.Refresh, *problem.Problem) {
			vt, prob := rv.verify(ctx, token, now)
			if prob != nil {
				return lifecycle.Refresh{}, prob
			}
			return lifecycle.Refresh{Subject: vt.sub, SessionID: vt.sid, TokenID: vt.jti, IssuedAt: vt.iat, ExpiresAt: vt.exp}, nil
		},
	}, nil
}

// forRefresh returns a verifier for refresh tokens signed by the same keys:
// typ refresh+jwt, token_use "refresh" and aud naming aud (the refresh
// audience, which access-token verifiers never accept) required; no cache.
func (v *Verifier) forRefresh(aud string) *Verifier {
	c := *v
	c.use = useRefresh
	c.cache = nil
	c.typ = TypeRefresh
	c.audience = []string{aud}
	c.reqAud = true
	c.required = []string{"exp", "iat", "jti", "sid", "sub", "aud"} // iat places it against a state reset
	return &c
}
