package introspect

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"strings"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-go/bulwark/authn/internal/outbound"
)

// Client authentication methods (RFC 7591 §2 names).
const (
	// ClientSecretBasic sends the client ID and secret in an HTTP Basic
	// Authorization header, each form-urlencoded first (RFC 6749 §2.3.1).
	ClientSecretBasic = "client_secret_basic"
	// PrivateKeyJWT sends a JWT the client signs with its private key
	// (RFC 7523 §2.2, OpenID Connect Core §9).
	PrivateKeyJWT = "private_key_jwt"
)

// assertionType is the client_assertion_type of PrivateKeyJWT (RFC 7523
// §2.2).
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionTTL is the lifetime of a private_key_jwt assertion: short,
// because an intercepted assertion can be replayed until it expires by
// a server that does not remember jti values.
const AssertionTTL = 60 * time.Second

// minSecret is the shortest client secret accepted.
const minSecret = 16

// basicCredentials is the Authorization header value of
// client_secret_basic: "Basic " + base64(urlencode(id) ":" urlencode(secret)).
// The encoding step matters for IDs and secrets with ':', '%', '+' or
// non-ASCII characters, which servers decode.
func basicCredentials(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// assertionSigner signs private_key_jwt assertions.
type assertionSigner struct {
	method   gjwt.SigningMethod
	key      crypto.PrivateKey
	kid      string
	clientID string
	aud      string
}

func (s *assertionSigner) sign(now time.Time, jti string) (string, error) {
	t := gjwt.NewWithClaims(s.method, gjwt.MapClaims{
		"iss": s.clientID,
		"sub": s.clientID,
		"aud": s.aud,
		"jti": jti,
		"iat": now.Unix(),
		"exp": now.Add(AssertionTTL).Unix(),
	})
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	return t.SignedString(s.key)
}

// readSecret returns value, or the content of file (one trailing newline
// removed) when value is empty.
func readSecret(value, file, what string) (string, error) {
	if value != "" && file != "" {
		return "", fmt.Errorf("introspect: set %s or %sFile, not both", what, what)
	}
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("introspect: %sFile: %v", what, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("introspect: %sFile %s is empty", what, file)
	}
	return s, nil
}

// parsePrivateKey reads a private key from PEM (PKCS #8, PKCS #1, SEC 1)
// or a JWK, and returns it with its kid (a JWK's) and its algorithm: alg
// when given (checked against the key), else the JWK's "alg", else the
// key's natural one (RS256, ES256/384/512 by curve, EdDSA).
func parsePrivateKey(data, alg string) (crypto.PrivateKey, string, gjwt.SigningMethod, error) {
	var key crypto.PrivateKey
	var kid, jwkAlg string
	var err error
	if t := strings.TrimSpace(data); strings.HasPrefix(t, "{") {
		key, kid, jwkAlg, err = parseJWK([]byte(t))
	} else {
		key, err = parsePEM([]byte(data))
	}
	if err != nil {
		return nil, "", nil, err
	}
	if alg == "" {
		alg = jwkAlg
	} else if jwkAlg != "" && jwkAlg != alg {
		return nil, "", nil, fmt.Errorf("introspect: SigningAlg %s differs from the JWK's alg %s", alg, jwkAlg)
	}
	m, err := methodFor(key, alg)
	return key, kid, m, err
}

func methodFor(key crypto.PrivateKey, alg string) (gjwt.SigningMethod, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("introspect: the RSA key has %d bits; at least 2048 are required", k.N.BitLen())
		}
		if alg == "" {
			alg = "RS256"
		}
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return gjwt.GetSigningMethod(alg), nil
		}
	case *ecdsa.PrivateKey:
		natural := map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[k.Curve.Params().Name]
		if natural == "" {
			return nil, fmt.Errorf("introspect: the EC curve %s is not supported", k.Curve.Params().Name)
		}
		if alg == "" || alg == natural {
			return gjwt.GetSigningMethod(natural), nil
		}
	case ed25519.PrivateKey:
		if alg == "" || alg == "EdDSA" || alg == "Ed25519" {
			return gjwt.SigningMethodEdDSA, nil
		}
	default:
		return nil, fmt.Errorf("introspect: unsupported private key type %T (RSA, EC P-256/384/521 or Ed25519)", key)
	}
	return nil, fmt.Errorf("introspect: SigningAlg %q does not suit the %T key", alg, key)
}

func parsePEM(data []byte) (crypto.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("introspect: the private key holds no PEM private key block")
		}
		if _, enc := block.Headers["Proc-Type"]; enc || strings.Contains(block.Type, "ENCRYPTED") {
			return nil, errors.New("introspect: encrypted PEM keys are not supported; decrypt it (openssl pkey -in key.pem -out plain.pem) and protect the file instead")
		}
		switch block.Type {
		case "PRIVATE KEY":
			return x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(block.Bytes)
		}
	}
}

// parseJWK reads a private JWK: RSA (n, e, d, p, q), EC (crv, x, y, d) or
// OKP Ed25519 (x, d).
func parseJWK(data []byte) (crypto.PrivateKey, string, string, error) {
	m, err := outbound.Members(data)
	if err != nil {
		return nil, "", "", fmt.Errorf("introspect: invalid JWK: %v", err)
	}
	str := func(name string) string {
		s, _ := outbound.String(m[name])
		return s
	}
	b64 := func(name string) ([]byte, error) {
		s := str(name)
		if s == "" {
			return nil, fmt.Errorf("introspect: the JWK lacks %q", name)
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("introspect: the JWK's %q is not base64url: %v", name, err)
		}
		return b, nil
	}
	kid, alg := str("kid"), str("alg")
	if str("d") == "" {
		return nil, "", "", errors.New("introspect: the JWK is a public key; private_key_jwt needs the private key")
	}
	switch str("kty") {
	case "RSA":
		var v [5][]byte
		for i, n := range []string{"n", "e", "d", "p", "q"} {
			if v[i], err = b64(n); err != nil {
				return nil, "", "", err
			}
		}
		e := new(big.Int).SetBytes(v[1])
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, "", "", errors.New("introspect: the JWK's RSA exponent is out of range")
		}
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).SetBytes(v[0]), E: int(e.Int64())},
			D:         new(big.Int).SetBytes(v[2]),
			Primes:    []*big.Int{new(big.Int).SetBytes(v[3]), new(big.Int).SetBytes(v[4])},
		}
		if err := k.Validate(); err != nil {
			return nil, "", "", fmt.Errorf("introspect: invalid RSA JWK: %v", err)
		}
		k.Precompute()
		return k, kid, alg, nil
	case "EC":
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[str("crv")]
		if curve == nil {
			return nil, "", "", fmt.Errorf("introspect: unsupported JWK curve %q", str("crv"))
		}
		d, err := b64("d")
		if err != nil {
			return nil, "", "", err
		}
		k, err := ecdsa.ParseRawPrivateKey(curve, d)
		if err != nil {
			return nil, "", "", fmt.Errorf("introspect: invalid EC JWK: %v", err)
		}
		x, errx := b64("x")
		y, erry := b64("y")
		pub, errp := k.PublicKey.Bytes() // 0x04 || X || Y, each the field's size
		if errx != nil || erry != nil || errp != nil || string(pub) != "\x04"+string(x)+string(y) {
			return nil, "", "", errors.New("introspect: the EC JWK's x and y do not match d")
		}
		return k, kid, alg, nil
	case "OKP":
		if str("crv") != "Ed25519" {
			return nil, "", "", fmt.Errorf("introspect: unsupported JWK curve %q", str("crv"))
		}
		d, err := b64("d")
		if err != nil || len(d) != ed25519.SeedSize {
			return nil, "", "", errors.New("introspect: invalid Ed25519 JWK d")
		}
		k := ed25519.NewKeyFromSeed(d)
		if x, err := b64("x"); err != nil || string(x) != string(k.Public().(ed25519.PublicKey)) {
			return nil, "", "", errors.New("introspect: the Ed25519 JWK's x does not match d")
		}
		return k, kid, alg, nil
	}
	return nil, "", "", fmt.Errorf("introspect: unsupported JWK kty %q (RSA, EC or OKP)", str("kty"))
}
