package problem_test

import (
	"testing"

	"github.com/bulwark-go/bulwark/problem"
)

// TestChallenge: realms and ordinary values are RFC 9110 quoted-strings
// (quotes and backslashes escaped, controls dropped); RFC 6750 attributes
// keep only the characters that RFC allows; empty values are left out.
func TestChallenge(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{problem.Challenge("Bearer", "api"), `Bearer realm="api"`},
		{problem.Challenge("Basic", "api", "charset", "UTF-8"), `Basic realm="api", charset="UTF-8"`},
		{problem.Challenge("Bearer", "my \"api\"\\\x7f\t"), `Bearer realm="my \"api\"\\"`},
		{problem.Challenge("Bearer", `a "b"`, "error", "invalid_token", "error_description", "bad \"token\"\\\n é"),
			`Bearer realm="a \"b\"", error="invalid_token", error_description="bad token "`},
		{problem.Challenge("Bearer", "api", "error", "invalid_request", "error_description", ""), `Bearer realm="api", error="invalid_request"`},
		{problem.Challenge("Bearer", "api", "error", "insufficient_scope", "scope", `write admin:all "x"`),
			`Bearer realm="api", error="insufficient_scope", scope="write admin:all x"`},
		{problem.Challenge("Bearer", "api", "error"), `Bearer realm="api"`},
		{problem.Challenge("ApiKey", "r\r\nSet-Cookie: x=1"), `ApiKey realm="rSet-Cookie: x=1"`},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}
