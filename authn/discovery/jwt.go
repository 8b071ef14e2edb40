package discovery

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/jwks"
)

// KeySet returns a jwks.Remote for the metadata's jwks_uri, with opts for
// everything but the URL (opts.URL must be empty or the same). Close it
// when done.
func (m *Metadata) KeySet(opts jwks.Options) (*jwks.Remote, error) {
	if m.JWKSURI == "" {
		return nil, fmt.Errorf("discovery: the metadata of %q names no jwks_uri", m.Issuer)
	}
	if opts.URL != "" && opts.URL != m.JWKSURI {
		return nil, fmt.Errorf("discovery: jwks.Options.URL %q differs from the discovered jwks_uri %q; leave it empty", opts.URL, m.JWKSURI)
	}
	opts.URL = m.JWKSURI
	return jwks.New(opts)
}

// Verifier returns a jwt.Verifier for the access tokens the issuer signs,
// and the jwks.Remote it reads keys from (Close it when done). vo is
// completed from the metadata where it is empty:
//
//   - KeySet: a jwks.Remote built from ko and the jwks_uri (vo.KeySet must
//     be nil);
//   - Issuers: the verified issuer, so tokens of another issuer are refused;
//   - Algorithms: the asymmetric algorithms of
//     id_token_signing_alg_values_supported that package jwt supports
//     (providers sign access tokens with the same keys; RFC 9068 §2.1).
//     Symmetric ones and "none" are never taken from a document. When the
//     document lists none usable, set vo.Algorithms.
func (m *Metadata) Verifier(vo jwt.VerifierOptions, ko jwks.Options) (*jwt.Verifier, *jwks.Remote, error) {
	if vo.KeySet != nil {
		return nil, nil, errors.New("discovery: VerifierOptions.KeySet must be nil: Verifier builds it from the jwks_uri")
	}
	if len(vo.Issuers) == 0 {
		vo.Issuers = []string{m.Issuer}
	}
	if len(vo.Algorithms) == 0 {
		supported := jwt.Algorithms()
		for _, a := range m.IDTokenSigningAlgValuesSupported {
			if slices.Contains(supported, a) && !strings.HasPrefix(a, "HS") && !slices.Contains(vo.Algorithms, a) {
				vo.Algorithms = append(vo.Algorithms, a)
			}
		}
		if len(vo.Algorithms) == 0 {
			return nil, nil, fmt.Errorf("discovery: the metadata of %q lists no asymmetric signing algorithm package jwt supports; set VerifierOptions.Algorithms (e.g. [\"RS256\"])", m.Issuer)
		}
	}
	ks, err := m.KeySet(ko)
	if err != nil {
		return nil, nil, err
	}
	vo.KeySet = ks
	v, err := jwt.NewVerifier(vo)
	if err != nil {
		ks.Close()
		return nil, nil, err
	}
	return v, ks, nil
}
