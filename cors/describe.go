package cors

import (
	"slices"
	"strconv"
	"strings"
)

// Description is a compiled policy as New understood it: every default
// filled in, every entry in canonical form. It is meant for display (the
// demo's /config/security) and logs, holds no functions, and encodes to
// JSON as is; its lists are never nil.
type Description struct {
	// AllowedOrigins are the exact origins, canonical and sorted; ["*"]
	// when every origin is allowed.
	AllowedOrigins []string `json:"allowed_origins"`
	// OriginPatterns are the wildcard patterns ("https://*.example.com").
	OriginPatterns []string `json:"origin_patterns"`
	// AllowOriginFunc reports whether a predicate is consulted.
	AllowOriginFunc bool `json:"allow_origin_func"`
	// AllowOriginFuncDomains limit the predicate (canonical).
	AllowOriginFuncDomains []string `json:"allow_origin_func_domains"`
	// AllowNullOrigin reports whether "Origin: null" is allowed.
	AllowNullOrigin bool `json:"allow_null_origin"`
	// AllowedMethods are the methods sent in Access-Control-Allow-Methods
	// (["*"] for every method).
	AllowedMethods []string `json:"allowed_methods"`
	// AllowedHeaders are the request headers allowed beyond the
	// CORS-safelisted ones, canonical (["*"] for every header).
	AllowedHeaders []string `json:"allowed_headers"`
	// ExposedHeaders are the response headers scripts may read beyond the
	// safelisted ones, canonical.
	ExposedHeaders []string `json:"exposed_headers"`
	// AllowCredentials reports whether credentialed requests are allowed.
	AllowCredentials bool `json:"allow_credentials"`
	// MaxAgeSeconds is the Access-Control-Max-Age sent on preflights.
	MaxAgeSeconds int `json:"max_age_seconds"`
	// AllowPrivateNetwork reports whether Private Network Access
	// preflights are answered.
	AllowPrivateNetwork bool `json:"allow_private_network"`
	// PreflightStatus is the status of an allowed preflight.
	PreflightStatus int `json:"preflight_status"`
	// Routes are the per-route policies by cleaned path prefix (without
	// a trailing slash); omitted when there are none.
	Routes map[string]Description `json:"routes,omitempty"`
}

// Describe returns the effective policy, top-level and per route.
func (c *CORS) Describe() Description {
	d := c.base.describe()
	if len(c.routes) > 0 {
		d.Routes = make(map[string]Description, len(c.routes))
		for _, rt := range c.routes {
			d.Routes[rt.prefix] = rt.p.describe()
		}
	}
	return d
}

func (p *policy) describe() Description {
	d := Description{
		AllowedOrigins:         []string{},
		OriginPatterns:         []string{},
		AllowOriginFunc:        p.pred != nil,
		AllowOriginFuncDomains: append([]string{}, p.predDomains...),
		AllowNullOrigin:        p.allowNull,
		AllowedMethods:         splitList(p.acam),
		AllowedHeaders:         splitList(p.acah),
		ExposedHeaders:         splitList(p.aceh),
		AllowCredentials:       p.credentials,
		AllowPrivateNetwork:    p.pnaOK,
		PreflightStatus:        p.status,
	}
	if p.anyOrigin {
		d.AllowedOrigins = []string{"*"}
	}
	for o := range p.exact {
		d.AllowedOrigins = append(d.AllowedOrigins, o)
	}
	slices.Sort(d.AllowedOrigins)
	for _, s := range p.patterns {
		d.OriginPatterns = append(d.OriginPatterns, s.Canon)
	}
	if p.anyHeader {
		d.AllowedHeaders = []string{"*"}
	}
	d.MaxAgeSeconds, _ = strconv.Atoi(p.maxAge[0])
	return d
}

// splitList splits a pre-built header value ("GET, HEAD") back into its
// tokens; tokens contain neither commas nor spaces.
func splitList(v []string) []string {
	if len(v) == 0 || v[0] == "" {
		return []string{}
	}
	return strings.Split(v[0], ", ")
}
