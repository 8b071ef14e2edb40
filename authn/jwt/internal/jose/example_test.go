package jose_test

import (
	"fmt"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
)

// A header is parsed strictly, then checked against the algorithm
// allowlist and the members that are never accepted.
func ExampleParseHeader() {
	allowed := map[string]bool{"HS256": true}
	for _, h := range []string{
		`{"alg":"HS256","kid":"k1","typ":"at+jwt"}`,
		`{"alg":"none","alg":"HS256"}`,
		`{"alg":"HS256","jku":"https://attacker.example/keys"}`,
		`{"alg":"NONE"}`,
	} {
		hdr, err := jose.ParseHeader([]byte(h), 16)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("alg %s, kid %q: %v\n", hdr.Alg, hdr.Kid, hdr.Check(allowed))
	}
	// Output:
	// alg HS256, kid "k1": <nil>
	// jwt: malformed token: a header member appears twice
	// alg HS256, kid "": jwt: refused header: jku, x5u and jwk are never followed or trusted
	// alg NONE, kid "": jwt: algorithm not allowed: alg "none"
}

// Claims decode as encoding/json would decode them into a map.
func ExampleDecodeClaims() {
	claims, err := jose.DecodeClaims([]byte(`{"sub":"alice","exp":1.8e9,"roles":["admin"]}`), 16)
	exp, _ := jose.NumericDate(claims["exp"])
	fmt.Println(claims["sub"], claims["roles"], exp.UTC().Year(), err)
	// Output: alice [admin] 2027 <nil>
}
