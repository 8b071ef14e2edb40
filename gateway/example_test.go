package gateway_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/gateway"
)

func Example() {
	cfg, err := gateway.Parse("gateway.yaml", []byte(`
listen: {addr: "127.0.0.1:8080"}
upstreams: {app: {urls: ["http://127.0.0.1:8000"]}}
limits:
  per_ip: {limits: [{algorithm: token_bucket, limit: 100, window: 10s, key: ip}]}
authenticators:
  jwt: {jwt: {algorithms: [HS256], keys: [{kid: k1, alg: HS256, secret: "${JWT_SECRET}"}]}}
policies:
  api: {rate_limits: [per_ip], authn: [jwt], authz: {scopes: [read]}}
routes:
  - {match: "GET /api/", upstream: app, policy: api}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tel, _ := gateway.NewTelemetry(nil, nil)
	secrets := func(name string) (string, bool) { return "an example secret of at least 32 bytes", true }
	g, err := gateway.Build(cfg, gateway.BuildOptions{Telemetry: tel, Resolve: secrets})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close(0)
	out, _ := g.Explain("GET", "http://localhost/api/items", nil)
	fmt.Print(out)
	// Output:
	// GET http://localhost/api/items
	//   1. client identity: the peer address (no proxy trusted)
	//   route "GET /api/", policy "api"
	//   2. headers: (api default): Cache-Control, Content-Security-Policy, Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy, Permissions-Policy, Referrer-Policy, Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-Xss-Protection
	//   3. body_limit: 1048576 bytes
	//   4. rate_limits: per_ip: default: token_bucket 100 per 10s by ip [memory, outage fallback_local]
	//   5. authn: jwt (required)
	//   6. authz: scopes read
	//   7. upstream: app http://127.0.0.1:8000
}
