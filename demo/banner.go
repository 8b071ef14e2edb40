package demo

import (
	"fmt"
	"strings"
)

// Banner is what `bulwark demo` prints at start: the URL, the demo
// credentials (with a warning) and sample curl commands.
func Banner(base string, redis bool) string {
	var b strings.Builder
	storage := "in memory"
	if redis {
		storage = "in Redis"
	}
	fmt.Fprintf(&b, "Bulwark demo listening on %s (state %s)\n\n", base, storage)
	keys := "drawn at random by this process"
	all, none := secretsFromEnv()
	switch {
	case all:
		keys = "from the environment"
	case redis:
		keys = "drawn at random, shared by the replicas through Redis"
	}
	fmt.Fprintf(&b, "!! DEMO MODE: the accounts below are public, so anyone can log in as them (signing keys are %s). Never expose this to a network you do not control. !!\n\n", keys)
	if redis && !all {
		what := "The signing seed and the fingerprint and CSRF keys are"
		if !none {
			what = "The secrets not set in the environment are"
		}
		fmt.Fprintf(&b, "%s kept in this Redis (%s): a demo-only fallback, since whoever reads Redis can read them. Set %s, %s and %s (or each *_FILE) to keep them out of it.\n\n",
			what, "demo-secret:*", SecretEnv["signing-seed"], SecretEnv["fingerprint-key"], SecretEnv["csrf-key"])
	}
	fmt.Fprintf(&b, "Accounts:  %s / %s (role admin; scopes read, write)\n", AliceUser, AlicePassword)
	fmt.Fprintf(&b, "           %s / %s (role user; scope read)\n", BobUser, BobPassword)
	fmt.Fprintf(&b, "API keys:  %s (scope read), %s (scopes read, write): fixed static keys for the demo only; real keys come from `bulwark apikey new`\n", ReadAPIKey, WriteAPIKey)
	b.WriteString("\nEndpoints:\n")
	for _, e := range Endpoints {
		b.WriteString("  " + e + "\n")
	}
	k := ""
	if strings.HasPrefix(base, "https") {
		k = "-k "
	}
	b.WriteString("\nTry:\n")
	fmt.Fprintf(&b, "  curl %s-i %s/api/public\n", k, base)
	fmt.Fprintf(&b, "  curl %s-i %s/no-such-path\n", k, base)
	fmt.Fprintf(&b, "  curl %s%s/config/security\n", k, base)
	for _, ex := range examples {
		fmt.Fprintf(&b, "  "+ex+"\n", k, base)
	}
	b.WriteString("\n")
	return b.String()
}

// examples are extra curl lines (format verbs: curl flags, base URL).
var examples = []string{
	`curl %s-s -X POST %s/api/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland-2026"}'`,
	`curl %s-i %s/api/protected -H "Authorization: Bearer $ACCESS_TOKEN"`,
	`curl %s-s -X POST %s/api/refresh -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$REFRESH_TOKEN\"}"`,
	`curl %s-i %s/api/admin/users -H "Authorization: Bearer $ACCESS_TOKEN"`,
	`curl %s-i %s/api/items -H 'X-API-Key: ` + ReadAPIKey + `'`,
	`curl %s-i -X POST %s/api/items -H 'X-API-Key: ` + WriteAPIKey + `' -H 'Content-Type: application/json' -d '{"name":"sprocket"}'`,
}
