package bulwark_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// The module's layers, bottom to top. Imports point down only: a package
// may import its own layer's packages only where the rules below allow.
const (
	core     = iota // problem responses, audit events, stores, plumbing
	guard           // one step of the request path each, and its helpers
	assembly        // the root package: Policy, the request path
	gateway         // config → guards → upstreams: assembled like the root, run by apps
	app             // applications built from the rest
)

// layerOf classifies every package of the module by its path below the
// module root ("" is the root). A new package must be placed here.
var layerOf = map[string]int{
	"problem": core, "audit": core, "store": core, "store/memstore": core,
	"store/redisstore": core, "store/storetest": core, "password": core,
	"internal/breaker": core,

	"clientip": guard, "headers": guard, "headers/csp": guard, "cors": guard,
	"bodylimit": guard, "ratelimit": guard, "ratelimit/redislimit": guard,
	"abuse": guard, "authn": guard, "authn/basic": guard, "authn/mtls": guard, "authn/jwt": guard, "authn/jwt/jwks": guard,
	"authn/jwt/refresh": guard, "authn/introspect": guard, "authn/discovery": guard, "authz": guard, "bind": guard,
	"recovery": guard, "accesslog": guard, "metrics": guard, "csrf": guard, "session": guard,
	"authn/apikey": guard, "authn/apikey/rediskeys": guard, "panel": guard,

	"": assembly,

	// The gateway assembles guards through the root's Chain and SetRoute,
	// so it sits above assembly; the CLI (an app) runs it.
	"gateway": gateway,

	"demo": app, "cmd/bulwark": app, "e2e": app,
}

// family returns the guard a package belongs to: its first path element
// ("authn" for authn/jwt/refresh).
func family(p string) string { f, _, _ := strings.Cut(p, "/"); return f }

// allowedGuardImports are the imports between guard families that the
// request path asks for: a later step reading what an earlier one decided.
var allowedGuardImports = map[[2]string]string{
	{"ratelimit", "clientip"}:     "limits key by the client the identity step (1) resolved",
	{"abuse", "clientip"}:         "detectors key by the client the identity step (1) resolved, grouped as the limits group it",
	{"abuse", "bind"}:             "fingerprints read JSON body members under the body cap, replayed for the handler (bind.Peek)",
	{"authz", "authn"}:            "authorization (8) reads the principal authentication (6) established",
	{"authn/mtls", "clientip"}:    "RFC 9440 client-certificate headers are believed only from the proxies the identity step (1) trusts",
	{"session", "authn"}:          "a cookie session is an Authenticator of step 6, yielding an authn.Principal",
	{"bind", "bodylimit"}:         "bind answers the body cap's overflow (4) with the same 413",
	{"authn/jwt/refresh", "bind"}: "the refresh and logout endpoints decode strict JSON bodies",
	{"panel", "headers"}:          "the security panel is an HTML page: it serves itself under the HTML header profile",
	{"panel", "headers/csp"}:      "the panel's inline style and script carry the response's CSP nonce",
}

// TestLayering fails when a package imports one of a higher layer, or a
// guard imports another guard that the request path does not say it
// must: the picture of the code stays the request path.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/bulwark-go/bulwark"
	used := map[[2]string]bool{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		from := rel(mod, p.ImportPath)
		fl, ok := layer(from)
		if !ok {
			t.Errorf("package %q has no layer: add it to layerOf", from)
			continue
		}
		for _, imp := range p.Imports {
			if imp != mod && !strings.HasPrefix(imp, mod+"/") {
				continue
			}
			to := rel(mod, imp)
			tl, ok := layer(to)
			if !ok {
				continue // reported as its own package
			}
			switch {
			case tl > fl:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", from, fl, to, tl)
			case fl == guard && tl == guard && family(from) != family(to):
				used[[2]string{from, to}] = true
				if _, ok := allowedGuardImports[[2]string{from, to}]; !ok {
					t.Errorf("guard %s imports guard %s, which the request path does not ask for; "+
						"pass what it needs in its Options, or move the shared part down to a core package", from, to)
				}
			}
		}
	}
	for edge := range allowedGuardImports {
		if !used[edge] {
			t.Errorf("allowedGuardImports lists %s -> %s, which no longer exists: drop it", edge[0], edge[1])
		}
	}
}

func rel(mod, path string) string {
	if path == mod {
		return ""
	}
	return strings.TrimPrefix(path, mod+"/")
}

// layer places internal packages with what they serve: the module's own
// internal/ is core plumbing, a guard's internal/ is part of that guard.
func layer(p string) (int, bool) {
	if l, ok := layerOf[p]; ok {
		return l, true
	}
	if strings.HasPrefix(p, "internal/") {
		return core, true
	}
	if i := strings.Index(p, "/internal/"); i >= 0 {
		return layer(p[:i])
	}
	return 0, false
}
