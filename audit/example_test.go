package audit_test

import (
	"context"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
)

// A guard's refusal as one JSON line: FromRequest fills what is known of
// the request, escaping what a log viewer would hide (here a newline the
// client put in the path to forge a second line) and cutting what is long.
func Example() {
	var out strings.Builder
	sink := audit.NewJSONLines(&out)

	r := httptest.NewRequest("GET", "/admin%0Aguard=none", nil)
	e := audit.FromRequest(r, "authz", audit.Deny, "missing_role")
	e.Status = 403
	sink.Record(context.Background(), e)

	// The time varies from run to run; the rest is fixed.
	line := regexp.MustCompile(`"time":"[^"]*",`).ReplaceAllString(out.String(), "")
	os.Stdout.WriteString(line)
	// Output:
	// {"level":"WARN","msg":"security","event":"security","guard":"authz","decision":"deny","reason":"missing_role","request_id":"","client_ip":"","method":"GET","route":"/admin\\x0aguard=none","status":403}
}
