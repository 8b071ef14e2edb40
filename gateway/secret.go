package gateway

import (
	"errors"
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
		return "", &SecretError{Field: field, Msg: "environment variable " + missing + " is not set"}
	}
	return out, nil
}

// A SecretError is a secret reference that could not be read: an unset
// environment variable or an unreadable file. Its message names the
// reference, never a value.
type SecretError struct {
	Field string // where in the configuration, e.g. csrf.web.keys[0]
	Msg   string
	Err   error // the underlying error, if any
}

func (e *SecretError) Error() string { return e.Field + ": " + e.Msg }
func (e *SecretError) Unwrap() error { return e.Err }

// secretFinding is the lint finding of a reference that could not be
// read: the path once, in the finding's Path.
func secretFinding(path string, err error) Finding {
	msg := err.Error()
	if se, ok := errors.AsType[*SecretError](err); ok {
		msg = se.Msg
	}
	return Finding{CodeUnresolvedSecret, SeverityError, path, msg}
}

// readSecretFile reads a secret file, dropping one trailing newline.
func readSecretFile(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &SecretError{Field: field, Msg: err.Error(), Err: err}
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
