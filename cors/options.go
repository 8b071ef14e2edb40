package cors

import (
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/problem"
)

// Options configure a CORS policy. The zero value allows no cross-origin
// access at all: list the origins you trust. Options double as the
// configuration of the gateway (json/yaml tags); the func-valued
// fields can only be set from Go.
type Options struct {
	// AllowedOrigins lists the origins whose pages may read responses: an
	// exact origin ("https://app.example.com"), a wildcard pattern over
	// proper subdomains ("https://*.example.com"; never over a public
	// suffix), or "*" alone for every origin (not with AllowCredentials).
	// Entries are canonicalised by New and matched byte for byte, as
	// browsers send them; see Origins in the package documentation.
	// Default: none.
	AllowedOrigins []string `json:"allowed_origins" yaml:"allowed_origins"`

	// AllowOriginFunc is asked about valid, canonical origins that no
	// entry of AllowedOrigins matches — never about "null" — and, when
	// AllowOriginFuncDomains is set, only about origins inside them; it
	// must be fast, safe for concurrent use and free of side effects. With
	// AllowCredentials it needs AllowOriginFuncDomains, and New tests it
	// against made-up origins (see the package documentation).
	// Default: nil.
	AllowOriginFunc func(origin string) bool `json:"-" yaml:"-"`

	// AllowOriginFuncDomains are the domains whose origins AllowOriginFunc
	// may allow: bare domain names ("example.com", "app.example.co.uk"),
	// each covering itself and every subdomain, for any scheme and port.
	// Required with AllowOriginFunc and AllowCredentials; optional, and
	// enforced the same way, without credentials. A public suffix
	// ("github.io", "co.uk") is refused with ErrInsecure, an IP address or
	// an origin with ErrInvalid. Default: nil (required with credentials).
	AllowOriginFuncDomains []string `json:"-" yaml:"-"`

	// AllowNullOrigin allows "Origin: null". Sandboxed iframes, file: pages,
	// data: URLs and some redirects all send it, so any web site can
	// produce it: it is refused together with AllowCredentials. Default
	// false.
	AllowNullOrigin bool `json:"allow_null_origin" yaml:"allow_null_origin"`

	// AllowedMethods lists the methods cross-origin requests may use. The
	// methods fetch() upper-cases (DELETE, GET, HEAD, OPTIONS, POST, PUT)
	// are upper-cased here too; every other method is matched case-
	// sensitively, as the Fetch standard does ("PATCH" allows "PATCH", not
	// "patch"). "*" allows every method, without credentials only.
	// CONNECT, TRACE and TRACK are refused: browsers never send them.
	// Default: GET, HEAD, POST.
	AllowedMethods []string `json:"allowed_methods" yaml:"allowed_methods"`

	// AllowedHeaders lists the request headers, beyond the CORS-safelisted
	// ones, that cross-origin requests may send (case-insensitive), e.g.
	// "Authorization", "Content-Type" (needed for JSON bodies),
	// "X-CSRF-Token". "*" allows every header including Authorization,
	// without credentials only. Default: none.
	AllowedHeaders []string `json:"allowed_headers" yaml:"allowed_headers"`

	// ExposedHeaders lists the response headers, beyond the CORS-safelisted
	// ones, that cross-origin scripts may read (Access-Control-Expose-Headers),
	// e.g. "X-Request-ID", "RateLimit-Remaining". "*" (every header) is
	// refused with credentials, where browsers read it as a header named
	// "*". Default: none.
	ExposedHeaders []string `json:"exposed_headers" yaml:"exposed_headers"`

	// AllowCredentials lets cross-origin requests carry cookies, HTTP
	// authentication and client certificates, and their responses be read.
	// New refuses it with anything that lets arbitrary origins in ("*",
	// AllowNullOrigin, a non-loopback http:// or ws:// origin, an unbounded
	// AllowOriginFunc; see the package documentation). Default false.
	AllowCredentials bool `json:"allow_credentials" yaml:"allow_credentials"`

	// MaxAge is how long a browser may cache a preflight's answer
	// (Access-Control-Max-Age, rounded up to whole seconds). Zero means
	// the default; a negative value sends "0", asking browsers not to cache.
	// Browsers cap it (Chromium at 2 hours, Firefox at 24). Default 5
	// minutes.
	MaxAge time.Duration `json:"max_age" yaml:"max_age"`

	// AllowPrivateNetwork answers Private Network Access preflights
	// (Access-Control-Request-Private-Network: true), by which a browser
	// asks whether a public web site may reach this server on a private
	// network or loopback address, with Access-Control-Allow-Private-Network:
	// true. Enable it only for services meant to be reached from the
	// public web while running on a private network. Default false.
	AllowPrivateNetwork bool `json:"allow_private_network" yaml:"allow_private_network"`

	// PreflightStatus is the status of an allowed preflight's response; the
	// Fetch standard needs a 2xx status. Default 204 (No Content).
	PreflightStatus int `json:"preflight_status" yaml:"preflight_status"`

	// Routes overrides the policy for parts of the URL space, keyed by path
	// prefix: "/public" applies to "/public" and everything below
	// "/public/" (a trailing slash in the key means the same). The longest
	// matching prefix wins, compared with the cleaned request path; other
	// paths use the top-level options. Each route's Options replace the
	// top-level ones entirely — nothing is merged, so a route reads
	// complete in one place — except Audit and ErrorHandler, inherited when
	// nil. Routes may not nest. Default: none.
	Routes map[string]Options `json:"routes" yaml:"routes"`

	// Audit receives one event for every refused preflight. Default: none.
	Audit audit.Sink `json:"-" yaml:"-"`

	// ErrorHandler writes refused preflights. Default problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Defaults applied by New to zero-valued options.
const (
	DefaultMaxAge          = 5 * time.Minute
	DefaultPreflightStatus = 204
)
