package csrf

import (
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/internal/origin"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

// Details of the origin check's refusals, safe for clients.
const (
	detailCrossSite       = "a cross-site request was refused: this endpoint accepts unsafe requests only from its own pages"
	detailOriginMismatch  = "the request's Origin is neither this site's origin nor a trusted one"
	detailOriginMalformed = "the request's Origin header is not a valid origin (scheme://host[:port])"
	detailRefererMismatch = "the request's Referer is neither on this site's origin nor on a trusted one"
	detailRefererBad      = "the request's Referer header is not a valid absolute URL"
	detailFetchMetadata   = "the request carries Sec-Fetch-Site more than once; a browser sends it once"
)

// secure reports whether r reached the server over HTTPS: its own TLS
// connection, or a trusted proxy's word as the identity guard (package
// clientip) recorded it. Never r.URL.Scheme, which is empty on every
// server request (gorilla/csrf CVE-2025-24358, nosurf CVE-2025-46721).
func secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	st := reqctx.From(r.Context())
	return st != nil && st.Secure
}

// checkOrigin is layer 1: Fetch Metadata, then Origin, then Referer.
func (g *Guard) checkOrigin(r *http.Request) *problem.Problem {
	o, hasOrigin, ok := singleHeader(r.Header, "Origin")
	if !ok || hasOrigin && o != "null" && !origin.IsSerialized(o) {
		// Browsers send one serialized origin; anything else (userinfo as
		// in "http://evil@host", a path, a second value) is not from one.
		return refuse(ReasonOriginMalformed, detailOriginMalformed)
	}
	site, _, ok := singleHeader(r.Header, "Sec-Fetch-Site")
	if !ok {
		// Several values: not from a browser, and which one a proxy or the
		// application would read is anyone's guess (a repeated Origin is
		// refused the same way).
		return refuse(ReasonFetchMetadataMalformed, detailFetchMetadata)
	}
	switch site {
	case "same-origin", "none":
		// "none": the user opened the URL themselves (address bar,
		// bookmark); no page made the request.
		return nil
	case "cross-site", "same-site":
		if hasOrigin && g.trusted(o) {
			return nil
		}
		return refuse(ReasonCrossSite, detailCrossSite)
	}
	// No Fetch Metadata (an older browser, or not a browser).
	if hasOrigin {
		if o != "null" && (g.ownOrigin(r, o) || g.trusted(o)) {
			return nil
		}
		return refuse(ReasonOriginMismatch, detailOriginMismatch)
	}
	ref, hasRef, ok := singleHeader(r.Header, "Referer")
	if !hasRef {
		// Neither header: not a browser that could be forged into sending
		// this (every current browser sends Origin on unsafe requests).
		// The token layer still applies.
		return nil
	}
	ro, ok2 := refererOrigin(ref)
	if !ok || !ok2 {
		return refuse(ReasonRefererMalformed, detailRefererBad)
	}
	if g.ownOrigin(r, ro) || g.trusted(ro) {
		return nil
	}
	return refuse(ReasonRefererMismatch, detailRefererMismatch)
}

// singleHeader returns the one value of header name: present reports
// whether there is any, ok whether there is at most one.
func singleHeader(h http.Header, name string) (v string, present, ok bool) {
	vs := h[name]
	switch len(vs) {
	case 0:
		return "", false, true
	case 1:
		return vs[0], true, true
	}
	return vs[0], true, false
}

// ownOrigin reports whether the serialized origin o is r's own: the scheme
// the connection used and the Host the client addressed (compared case-
// insensitively, a default port ignored).
func (g *Guard) ownOrigin(r *http.Request, o string) bool {
	scheme, port := "http://", ":80"
	if secure(r) {
		scheme, port = "https://", ":443"
	}
	if !strings.HasPrefix(o, scheme) {
		return false
	}
	host := strings.TrimSuffix(r.Host, port)
	return host != "" && strings.EqualFold(o[len(scheme):], host)
}

// trusted reports whether the serialized origin o is a TrustedOrigins
// entry or matches one of its patterns: whole origins, never hosts alone
// (gorilla/csrf CVE-2025-47909 compared hosts).
func (g *Guard) trusted(o string) bool {
	for _, t := range g.exact {
		if t == o {
			return true
		}
	}
	for i := range g.patterns {
		if g.patterns[i].Match(o) {
			return true
		}
	}
	return false
}

// refererOrigin returns the serialized origin of an absolute http(s)
// Referer URL, without allocating; false when ref is not one, or carries
// user information (browsers strip it).
func refererOrigin(ref string) (string, bool) {
	var n int
	switch {
	case strings.HasPrefix(ref, "https://"):
		n = len("https://")
	case strings.HasPrefix(ref, "http://"):
		n = len("http://")
	default:
		return "", false
	}
	end := len(ref)
	if i := strings.IndexAny(ref[n:], "/?#"); i >= 0 {
		end = n + i
	}
	o := ref[:end]
	if !origin.IsSerialized(o) {
		return "", false
	}
	return o, true
}
