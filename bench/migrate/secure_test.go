package migrate

import (
	"net/http"
	"testing"

	"github.com/unrolled/secure"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/headers"
)

// TestUnrolledSecure proves docs/migrate/unrolled-secure.md: unrolled/secure
// configured to match headers.API() sends the same headers over HTTPS, and
// the differences the guide lists show on the same requests.
func TestUnrolledSecure(t *testing.T) {
	prof, err := headers.New(headers.API())
	if err != nil {
		t.Fatal(err)
	}
	// Bulwark learns HTTPS from the connection or from a trusted proxy,
	// through the client-identity guard in front.
	id, err := clientip.New(clientip.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	bw := id.Handler(prof.Handler(ok))
	opts := secure.Options{
		STSSeconds:                31536000,
		FrameDeny:                 true,
		ContentTypeNosniff:        true,
		ReferrerPolicy:            "no-referrer",
		ContentSecurityPolicy:     "default-src 'none'; frame-ancestors 'none'",
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
	}
	peer := secure.New(opts).Handler(ok)

	t.Run("same: headers over HTTPS", func(t *testing.T) {
		p, b := both(peer, bw, func() *http.Request { return req("GET", "https://api.example.com/") })
		for _, h := range []string{"Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options",
			"Referrer-Policy", "Content-Security-Policy", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy"} {
			if pv, bv := p.Header().Get(h), b.Header().Get(h); pv == "" || pv != bv {
				t.Errorf("%s: unrolled/secure %q, bulwark %q", h, pv, bv)
			}
		}
	})

	t.Run("same: no HSTS over plain HTTP", func(t *testing.T) {
		p, b := both(peer, bw, func() *http.Request { return req("GET", "http://api.example.com/") })
		wantHeader(t, "unrolled/secure", p, "Strict-Transport-Security", "")
		wantHeader(t, "bulwark", b, "Strict-Transport-Security", "")
	})

	t.Run("same: HTTPS through a trusted proxy", func(t *testing.T) {
		p := serve(secure.New(withProxy(opts)).Handler(ok), fromPeer("10.0.0.1", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https"))
		b := serve(bw, fromPeer("10.0.0.1", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https"))
		wantHeader(t, "unrolled/secure", p, "Strict-Transport-Security", "max-age=31536000")
		wantHeader(t, "bulwark", b, "Strict-Transport-Security", "max-age=31536000")
	})

	t.Run("differs: X-Forwarded-Proto from any client", func(t *testing.T) {
		// A client on the Internet, not a proxy, claims HTTPS over plain HTTP.
		p := serve(secure.New(withProxy(opts)).Handler(ok), fromPeer("203.0.113.9", "X-Forwarded-Proto", "https"))
		b := serve(bw, fromPeer("203.0.113.9", "X-Forwarded-Proto", "https"))
		wantHeader(t, "unrolled/secure", p, "Strict-Transport-Security", "max-age=31536000")
		wantHeader(t, "bulwark", b, "Strict-Transport-Security", "")
	})

	t.Run("differs: X-Forwarded-Proto from any client skips the HTTPS redirect", func(t *testing.T) {
		o := withProxy(opts)
		o.SSLRedirect = true
		red := secure.New(o).Handler(ok)
		wantStatus(t, "unrolled/secure, no header", serve(red, fromPeer("203.0.113.9")), http.StatusMovedPermanently)
		wantStatus(t, "unrolled/secure, forged header", serve(red, fromPeer("203.0.113.9", "X-Forwarded-Proto", "https")), http.StatusOK)
		// Bulwark has no redirect; the identity guard does not believe the
		// header, so IsSecure stays false for a redirect of your own.
		var secureSeen bool
		h := id.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { secureSeen = clientip.IsSecure(r.Context()) }))
		serve(h, fromPeer("203.0.113.9", "X-Forwarded-Proto", "https"))
		if secureSeen {
			t.Error("bulwark: a client's X-Forwarded-Proto made the request secure")
		}
	})

	t.Run("differs: ForceSTSHeader sends HSTS over plain HTTP", func(t *testing.T) {
		o := opts
		o.ForceSTSHeader = true
		p := serve(secure.New(o).Handler(ok), req("GET", "http://api.example.com/"))
		b := serve(bw, req("GET", "http://api.example.com/"))
		wantHeader(t, "unrolled/secure", p, "Strict-Transport-Security", "max-age=31536000")
		wantHeader(t, "bulwark", b, "Strict-Transport-Security", "")
	})

	t.Run("differs: X-XSS-Protection", func(t *testing.T) {
		o := opts
		o.BrowserXssFilter = true
		p := serve(secure.New(o).Handler(ok), req("GET", "https://api.example.com/"))
		b := serve(bw, req("GET", "https://api.example.com/"))
		wantHeader(t, "unrolled/secure", p, "X-XSS-Protection", "1; mode=block")
		wantHeader(t, "bulwark", b, "X-XSS-Protection", "0")
	})

	t.Run("differs: zero options send nothing vs the API profile", func(t *testing.T) {
		zero, err := headers.New(headers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, b := both(secure.New(secure.Options{}).Handler(ok), zero.Handler(ok), func() *http.Request { return req("GET", "https://api.example.com/") })
		for _, h := range []string{"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Cache-Control", "Permissions-Policy"} {
			wantHeader(t, "unrolled/secure", p, h, "")
			if b.Header().Get(h) == "" {
				t.Errorf("bulwark: zero Options send no %s", h)
			}
		}
	})
}

func withProxy(o secure.Options) secure.Options {
	o.SSLProxyHeaders = map[string]string{"X-Forwarded-Proto": "https"}
	return o
}

// fromPeer is a plain-HTTP request whose TCP peer is addr.
func fromPeer(addr string, headers ...string) *http.Request {
	r := req("GET", "http://api.example.com/", headers...)
	r.RemoteAddr = addr + ":40000"
	return r
}
