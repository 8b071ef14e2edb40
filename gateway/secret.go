package gateway

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// refPattern is a secret reference: ${NAME}, NAME an environment variable.
var refPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// isRef reports whether s is exactly one reference, "${NAME}".
func isRef(s string) bool {
	m := refPattern.FindStringIndex(s)
	return m != nil && m[0] == 0 && m[1] == len(s)
}

// A Resolver reads the secret a reference names. The default reads the
// environment; tests pass a map.
type Resolver func(name string) (string, bool)

// EnvResolver reads environment variables.
func EnvResolver(name string) (string, bool) { return os.LookupEnv(name) }

// expand replaces every ${NAME} in s by its value; an unset name is an
// error that names it (never its value).
func (res Resolver) expand(field, s string) (string, error) {
	var missing string
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := res(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("%s: environment variable %s is not set", field, missing)
	}
	return out, nil
}

// readSecretFile reads a secret file, dropping one trailing newline.
func readSecretFile(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
