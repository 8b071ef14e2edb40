package credential_test

import (
	"fmt"
	"net/http"

	"github.com/bulwark-go/bulwark/authn/internal/credential"
)

func ExampleAuthorization() {
	for _, v := range []string{"bearer  abc ", "Bearer", "Basic YTpi"} {
		creds, o := credential.Authorization(http.Header{"Authorization": {v}}, "Authorization", "Bearer")
		fmt.Printf("%q %v\n", creds, o == credential.Found)
	}
	// Output:
	// "abc" true
	// "" false
	// "" false
}
