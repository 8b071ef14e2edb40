package jwt

import "sort"

// Description is a Verifier's effective configuration without secrets, for
// an endpoint such as /config/security: HMAC secrets appear as
// "[redacted]", public keys by their RFC 7638 thumbprint.
type Description struct {
	Algorithms         []string         `json:"algorithms"`           // the alg allowlist
	Keys               []KeyDescription `json:"keys"`                 // static keys, then the key set's current keys
	KeySet             string           `json:"key_set,omitempty"`    // e.g. the remote JWKS URL, without credentials
	Issuers            []string         `json:"issuers,omitempty"`    // accepted iss values
	Audience           []string         `json:"audience,omitempty"`   // accepted aud values
	RequiredClaims     []string         `json:"required_claims"`      // claims that must be present
	LeewaySeconds      float64          `json:"leeway_seconds"`       // clock skew tolerated
	Type               string           `json:"type,omitempty"`       // required typ, if any
	Sources            []TokenSource    `json:"sources"`              // where tokens are read, in order
	MaxTokenSize       int              `json:"max_token_size"`       // bytes
	MaxClaimsDepth     int              `json:"max_claims_depth"`     // JSON nesting bound
	CacheSize          int              `json:"cache_size"`           // verified-token cache slots (0: off)
	Revocation         bool             `json:"revocation"`           // a denylist store is configured
	RevocationFailOpen bool             `json:"revocation_fail_open"` // tokens pass when the store is down
	RolesClaim         string           `json:"roles_claim"`          // the claim roles are read from
}

// Describer is implemented by key sets that describe themselves (a remote
// JWKS reports its URL without credentials).
type Describer interface {
	DescribeSource() string
}

// Describe returns the Verifier's effective configuration, without secrets.
func (v *Verifier) Describe() Description {
	d := Description{
		Issuers:            v.issuers,
		Audience:           v.audience,
		RequiredClaims:     v.required,
		LeewaySeconds:      v.leeway.Seconds(),
		Type:               v.typ,
		MaxTokenSize:       v.maxSize,
		MaxClaimsDepth:     v.maxDepth,
		Revocation:         v.rev != nil,
		RevocationFailOpen: v.failOpen,
		RolesClaim:         v.rolesName,
		Keys:               []KeyDescription{},
	}
	for a := range v.allowed {
		d.Algorithms = append(d.Algorithms, a)
	}
	sort.Strings(d.Algorithms)
	for _, s := range v.sources {
		d.Sources = append(d.Sources, TokenSource{From: s.from, Name: s.name, Scheme: s.scheme})
	}
	if v.cache != nil {
		d.CacheSize = len(v.cache.slots)
	}
	for _, k := range v.opts.Keys {
		d.Keys = append(d.Keys, k.Describe())
	}
	if v.opts.KeySet != nil {
		if ds, ok := v.opts.KeySet.(describer); ok {
			d.Keys = append(d.Keys, ds.Describe()...)
		}
		if src, ok := v.opts.KeySet.(Describer); ok {
			d.KeySet = src.DescribeSource()
		}
	}
	return d
}

// IssuerDescription describes an Issuer without secrets.
type IssuerDescription struct {
	Key        KeyDescription `json:"key"`                // the signing key, without secrets
	Issuer     string         `json:"issuer,omitempty"`   // iss
	Audience   []string       `json:"audience,omitempty"` // default aud
	TTLSeconds float64        `json:"ttl_seconds"`        // default lifetime
	Type       string         `json:"type"`               // typ header
}

// Describe returns the Issuer's configuration without secrets.
func (i *Issuer) Describe() IssuerDescription {
	return IssuerDescription{Key: i.key.Describe(), Issuer: i.iss, Audience: i.audience, TTLSeconds: i.ttl.Seconds(), Type: i.typ}
}
