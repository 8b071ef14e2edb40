package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParsePEM reads one key from PEM data (PKCS #8 or PKIX, PKCS #1 RSA, SEC 1
// EC, or an X.509 certificate's public key) and binds it to alg. alg may be
// empty for EC and Ed25519 keys, whose curve implies it; RSA keys need it
// (RS256, PS256, ...). Encrypted PEM and data holding several keys are
// refused.
func ParsePEM(id, alg string, data []byte) (*Key, error) {
	var found any
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if _, enc := block.Headers["Proc-Type"]; enc || strings.Contains(block.Type, "ENCRYPTED") {
			return nil, errors.New("jwt: encrypted PEM keys are not supported; decrypt it (openssl pkey -in key.pem -out plain.pem) and protect the file instead")
		}
		var material any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			material, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			material, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			material, err = x509.ParseECPrivateKey(block.Bytes)
		case "PUBLIC KEY":
			material, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			material, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			cert, err = x509.ParseCertificate(block.Bytes)
			if err == nil {
				material = cert.PublicKey
			}
		default:
			continue // e.g. EC PARAMETERS
		}
		if err != nil {
			return nil, fmt.Errorf("jwt: invalid PEM %s: %w", block.Type, err)
		}
		if found != nil {
			return nil, errors.New("jwt: PEM data holds more than one key; give one key per entry")
		}
		found = material
	}
	if found == nil {
		return nil, errors.New("jwt: no key found in PEM data (expected a \"PRIVATE KEY\", \"PUBLIC KEY\", \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\" or \"CERTIFICATE\" block)")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("jwt: trailing data after the PEM blocks")
	}
	if ed, ok := found.(*ed25519.PrivateKey); ok {
		found = *ed
	}
	if alg == "" {
		inferred, err := inferAlg(found)
		if err != nil {
			return nil, err
		}
		alg = inferred
	}
	return NewKey(id, alg, found)
}

// inferAlg returns the only algorithm a key can serve, or an error for RSA
// keys, which serve several.
func inferAlg(material any) (string, error) {
	switch m := material.(type) {
	case *ecdsa.PrivateKey:
		return algForCurve(m.Curve.Params().Name)
	case *ecdsa.PublicKey:
		return algForCurve(m.Curve.Params().Name)
	case ed25519.PrivateKey, ed25519.PublicKey:
		return EdDSA, nil
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "", errors.New("jwt: an RSA key needs an explicit alg (RS256, RS384, RS512, PS256, PS384 or PS512)")
	}
	return "", fmt.Errorf("jwt: unsupported key type %T", material)
}

func algForCurve(crv string) (string, error) {
	switch crv {
	case "P-256":
		return ES256, nil
	case "P-384":
		return ES384, nil
	case "P-521":
		return ES512, nil
	}
	return "", fmt.Errorf("jwt: unsupported curve %s", crv)
}

// KeyConfig describes one key in configuration; a configuration file (the
// gateway's) decodes it from YAML or JSON. Exactly one source must
// be set: Secret, SecretFile, PEM, PEMFile, JWK or JWKFile. Prefer the
// *File forms (or a ${ENV} reference the gateway resolves into Secret) to
// literal secrets in config files.
type KeyConfig struct {
	// ID is the key ID (kid) tokens name. Taken from the JWK when empty.
	ID string `json:"kid" yaml:"kid"`
	// Alg is the key's algorithm. Required for HMAC secrets and RSA keys;
	// inferred from the curve for EC and Ed25519 keys and from a JWK's alg.
	Alg string `json:"alg" yaml:"alg"`
	// Secret is an HMAC secret (at least 32 bytes for HS256).
	Secret string `json:"secret,omitempty" yaml:"secret,omitempty"`
	// SecretFile names a file holding the HMAC secret; one trailing newline
	// is ignored.
	SecretFile string `json:"secret_file,omitempty" yaml:"secret_file,omitempty"`
	// SecretEncoding says how Secret / SecretFile are encoded: "" (raw
	// bytes, the default), "base64", "base64url" or "hex".
	SecretEncoding string `json:"secret_encoding,omitempty" yaml:"secret_encoding,omitempty"`
	// PEM holds a PEM-encoded key; PEMFile names a file holding one.
	PEM     string `json:"pem,omitempty" yaml:"pem,omitempty"`
	PEMFile string `json:"pem_file,omitempty" yaml:"pem_file,omitempty"`
	// JWK holds one JSON Web Key; JWKFile names a file holding one.
	JWK     string `json:"jwk,omitempty" yaml:"jwk,omitempty"`
	JWKFile string `json:"jwk_file,omitempty" yaml:"jwk_file,omitempty"`
}

// Load reads and validates the key.
func (c KeyConfig) Load() (*Key, error) {
	n := 0
	for _, s := range []string{c.Secret, c.SecretFile, c.PEM, c.PEMFile, c.JWK, c.JWKFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("jwt: key %s: set exactly one of secret, secret_file, pem, pem_file, jwk, jwk_file (%d set)", quoteForError(c.ID), n)
	}
	switch {
	case c.Secret != "":
		secret, err := decodeSecret([]byte(c.Secret), c.SecretEncoding)
		if err != nil {
			return nil, err
		}
		k, err := newSecretKey(c.ID, c.Alg, secret)
		if err != nil {
			return nil, err
		}
		return k.WithSource("config"), nil
	case c.SecretFile != "":
		data, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: reading secret_file: %w", err)
		}
		secret, err := decodeSecret(trimNewline(data), c.SecretEncoding)
		if err != nil {
			return nil, err
		}
		k, err := newSecretKey(c.ID, c.Alg, secret)
		if err != nil {
			return nil, err
		}
		return k.WithSource("file:" + c.SecretFile), nil
	case c.PEM != "":
		k, err := ParsePEM(c.ID, c.Alg, []byte(c.PEM))
		if err != nil {
			return nil, err
		}
		return k.WithSource("config"), nil
	case c.PEMFile != "":
		data, err := os.ReadFile(c.PEMFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: reading pem_file: %w", err)
		}
		k, err := ParsePEM(c.ID, c.Alg, data)
		if err != nil {
			return nil, err
		}
		return k.WithSource("file:" + c.PEMFile), nil
	case c.JWK != "":
		k, err := c.jwk([]byte(c.JWK))
		if err != nil {
			return nil, err
		}
		return k.WithSource("config"), nil
	default:
		data, err := os.ReadFile(c.JWKFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: reading jwk_file: %w", err)
		}
		k, err := c.jwk(data)
		if err != nil {
			return nil, err
		}
		return k.WithSource("file:" + c.JWKFile), nil
	}
}

func (c KeyConfig) jwk(data []byte) (*Key, error) {
	k, err := ParseJWK(data, c.Alg)
	if err != nil {
		return nil, err
	}
	if c.Alg != "" && k.Alg() != c.Alg {
		return nil, fmt.Errorf("jwt: alg %s in config differs from the JWK's alg %s", quoteForError(c.Alg), k.Alg())
	}
	if c.ID != "" && k.id != c.ID {
		if k.id != "" {
			return nil, fmt.Errorf("jwt: kid %s in config differs from the JWK's kid %s", quoteForError(c.ID), quoteForError(k.id))
		}
		c2 := *k
		c2.id = c.ID
		k = &c2
	}
	return k, nil
}

func newSecretKey(id, alg string, secret []byte) (*Key, error) {
	if alg == "" {
		return nil, errors.New("jwt: an HMAC secret needs an explicit alg (HS256, HS384 or HS512)")
	}
	return NewHMACKey(id, alg, secret)
}

func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func decodeSecret(b []byte, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "", "raw":
		return b, nil
	case "base64":
		out, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil {
			return nil, fmt.Errorf("jwt: secret is not valid base64: %w", err)
		}
		return out, nil
	case "base64url":
		s := strings.TrimRight(string(bytes.TrimSpace(b)), "=")
		out, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("jwt: secret is not valid base64url: %w", err)
		}
		return out, nil
	case "hex":
		out, err := hex.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil {
			return nil, fmt.Errorf("jwt: secret is not valid hex: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("jwt: unknown secret_encoding %s (use raw, base64, base64url or hex)", quoteForError(encoding))
}

// LoadKeyFile reads a key from a file, recognising its format: PEM
// ("-----BEGIN"), a JWK ("{"), or otherwise a raw HMAC secret (one trailing
// newline ignored). kid and alg are as for KeyConfig. It is what
// `bulwark token issue --key FILE` uses.
func LoadKeyFile(path, kid, alg string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt: reading key file: %w", err)
	}
	k, err := parseKeyData(data, kid, alg)
	if err != nil {
		return nil, err
	}
	return k.WithSource("file:" + path), nil
}

// KeyFromEnv reads a key from the environment variable name, recognising
// the same formats as LoadKeyFile. An unset or empty variable is an error.
func KeyFromEnv(name, kid, alg string) (*Key, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, fmt.Errorf("jwt: environment variable %s is unset or empty; %s", name, hmacHelp)
	}
	k, err := parseKeyData([]byte(v), kid, alg)
	if err != nil {
		return nil, err
	}
	return k.WithSource("env:" + name), nil
}

func parseKeyData(data []byte, kid, alg string) (*Key, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return ParsePEM(kid, alg, trimmed)
	case bytes.HasPrefix(trimmed, []byte("{")):
		return KeyConfig{ID: kid, Alg: alg}.jwk(trimmed)
	default:
		return newSecretKey(kid, alg, trimNewline(data))
	}
}
