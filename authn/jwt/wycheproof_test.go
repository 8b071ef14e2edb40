package jwt_test

// Project Wycheproof's JOSE and signature-primitive vectors, read in
// place like the RFC vectors (vectors_test.go).

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/jwttest"
)

// wycheproofGroups reads a Wycheproof vector file's test groups.
func wycheproofGroups(t *testing.T, name string) []wpGroup {
	t.Helper()
	var f struct {
		TestGroups []wpGroup `json:"testGroups"`
	}
	if err := json.Unmarshal(readVector(t, "wycheproof", "testvectors_v1", name), &f); err != nil {
		t.Fatal(err)
	}
	return f.TestGroups
}

type wpTest struct {
	TcID    int             `json:"tcId"`
	Comment string          `json:"comment"`
	JWS     json.RawMessage `json:"jws"` // a compact JWS (a JSON string), or a JSON serialization (an object)
	JWE     json.RawMessage `json:"jwe"`
	Msg     string          `json:"msg"`
	Sig     string          `json:"sig"`
	Key     string          `json:"key"`
	Tag     string          `json:"tag"`
	Result  string          `json:"result"`
	Flags   []string        `json:"flags"`
}

// token returns the JWS as the Verifier is given it: a compact JWS, or the
// JSON serialization's text (which it must refuse: tokens are compact).
func (tc *wpTest) token() string {
	var compact string
	if json.Unmarshal(tc.JWS, &compact) == nil {
		return compact
	}
	return string(tc.JWS)
}

type wpGroup struct {
	Comment      string          `json:"comment"`
	Public       json.RawMessage `json:"public"`
	Private      json.RawMessage `json:"private"`
	PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
	KeyJwk       json.RawMessage `json:"keyJwk"`
	PublicKeyPem string          `json:"publicKeyPem"`
	Sha          string          `json:"sha"`
	MgfSha       string          `json:"mgfSha"`
	SLen         int             `json:"sLen"`
	KeySize      int             `json:"keySize"`
	TagSize      int             `json:"tagSize"`
	Tests        []wpTest        `json:"tests"`
}

// tally counts vector outcomes for the log. A vector is either checked
// (run, its stated result holds), key-refused (our key rules refuse its
// key, so nothing it signs can verify: the refusal is asserted, but the
// vector is not counted as checked), or not applicable (skipped, with the
// reason).
type tally struct {
	checked int
	refused map[string]int
	skipped map[string]int
}

func (c *tally) skip(reason string) { c.skipN(reason, 1) }

func (c *tally) skipN(reason string, n int) {
	if c.skipped == nil {
		c.skipped = map[string]int{}
	}
	c.skipped[reason] += n
}

func (c *tally) refuse(reason string) {
	if c.refused == nil {
		c.refused = map[string]int{}
	}
	c.refused[reason]++
}

func (c *tally) total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (c *tally) String() string {
	list := func(m map[string]int) []string {
		var out []string
		for r, n := range m {
			out = append(out, fmt.Sprintf("%d %s", n, r))
		}
		sort.Strings(out)
		return out
	}
	return fmt.Sprintf("%d vectors checked; key refused: %v; not applicable: %v", c.checked, list(c.refused), list(c.skipped))
}

// wycheproofDefective are vectors whose token is byte-for-byte another
// vector's: the file says invalid, but the token is tcId 357's, which is
// valid (the '=' padding the comment describes was lost when the file was
// generated; padded tokens are refused by TestAttacks). We accept them, as
// we must accept tcId 357.
var wycheproofDefective = map[string]map[int]string{
	"json_web_signature_test.json": {367: "identical to tcId 357", 370: "identical to tcId 357"},
}

// wycheproofDeviations are vectors whose stated result we deliberately do
// not give. Each is still run, and must be refused.
var wycheproofDeviations = map[string]map[int]string{
	"json_web_signature_test.json": {
		372: "a '?' inside the base64url header: RFC 7515 §2 base64url has no such character; strict decoding refuses it",
		373: "a '?' inside the base64url payload: strict decoding refuses it",
		346: "the key's alg member is PS256 and the token's PS384: a key serves only its own algorithm (RFC 7517 §4.4)",
		350: "the key's alg member is PS256 and the token's PS384: a key serves only its own algorithm (RFC 7517 §4.4)",
		347: `the key's alg member is "ES521", which is not a registered algorithm: such a key is refused`,
		351: `the key's alg member is "ES521", which is not a registered algorithm: such a key is refused`,
	},
}

// loadWycheproofKeys parses a group's key: a JWK or a JWKS, its public
// half when it has one.
func loadWycheproofKeys(g *wpGroup) ([]*jwt.Key, error) {
	raw := g.Public
	if len(raw) == 0 || string(raw) == "null" {
		raw = g.Private
	}
	if strings.Contains(string(raw), `"keys"`) {
		return jwt.ParseJWKS(raw, jwt.JWKSOptions{AllowSymmetric: true})
	}
	k, err := jwt.ParseJWK(raw, "")
	if err != nil {
		return nil, err
	}
	return []*jwt.Key{k}, nil
}

// wycheproofJOSE is what each JOSE file must yield: the vectors checked,
// refused by key policy and skipped, so that a vector silently dropped (or
// a key suddenly refused) fails the test.
var wycheproofJOSE = map[string]struct{ checked, refused, jwe int }{
	// 401 JWS: 389 checked, 4 with encryption keys (refused), 6
	// documented deviations, 2 defective.
	"json_web_signature_test.json": {checked: 389, refused: 4, jwe: 0},
	// 26 JWS, 20 of them signed with keys the file expects refused
	// (short, weak, malformed, encryption-only): they are.
	"json_web_key_test.json": {checked: 6, refused: 20, jwe: 0},
	// jws_rsa_roca_key (ROCA-weak RSA key) and jws_mixedSymmetryKeyset
	// (an HMAC secret and an EC key in one set) are refused by policy; the
	// 34 JWE vectors are not applicable.
	"json_web_crypto_test.json": {checked: 47, refused: 2, jwe: 34},
}

// TestWycheproofJOSE runs json_web_signature_test.json,
// json_web_key_test.json and json_web_crypto_test.json (the JWS vectors:
// its JWE vectors are not applicable, counted): every vector's expected
// result holds, except the documented deviations above (which must be
// refused). Vectors whose key our policy refuses (a ROCA-weak modulus, a
// key set mixing secrets and public keys) are counted apart, the refusal
// asserted.
func TestWycheproofJOSE(t *testing.T) {
	names := make([]string, 0, len(wycheproofJOSE))
	for name := range wycheproofJOSE {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := wycheproofJOSE[name]
		t.Run(name, func(t *testing.T) {
			var c tally
			for gi, g := range wycheproofGroups(t, name) {
				keys, keyErr := loadWycheproofKeys(&g)
				var v *jwt.Verifier
				if keyErr == nil && len(keys) > 0 {
					var vkeys []*jwt.Key
					var algs []string
					for _, k := range keys {
						vk := k.Public()
						if vk == nil {
							vk = k
						}
						vkeys = append(vkeys, vk)
						algs = append(algs, k.Alg())
					}
					var err error
					v, err = jwt.NewVerifier(jwt.VerifierOptions{Keys: vkeys, Algorithms: algs, Now: func() time.Time { return jwttest.Now }, CacheSize: -1})
					if err != nil {
						keyErr = err
					}
				} else if keyErr == nil && len(g.Tests) > 0 && len(g.Tests[0].JWE) == 0 {
					keyErr = errors.New("no usable key")
				}
				for _, tc := range g.Tests {
					if len(tc.JWS) == 0 {
						if len(tc.JWE) == 0 {
							t.Fatalf("tcId %d has neither jws nor jwe", tc.TcID)
						}
						c.skip("JWE vectors (no JWE support)")
						continue
					}
					var err error = keyErr
					if v != nil {
						_, _, err = v.VerifyJWS(bg, tc.token())
					}
					accepted := err == nil
					if why, ok := wycheproofDefective[name][tc.TcID]; ok {
						if !accepted {
							t.Errorf("tcId %d: refused, but the token is valid (%s)", tc.TcID, why)
						}
						c.skip("defective vectors (token identical to a valid one; accepted)")
						continue
					}
					if why, ok := wycheproofDeviations[name][tc.TcID]; ok {
						if accepted {
							t.Errorf("group %d (%s) tcId %d %s: accepted, but our documented behaviour is to refuse: %s", gi, g.Comment, tc.TcID, tc.Comment, why)
						}
						c.skip("documented deviations (refused)")
						continue
					}
					if v == nil {
						// Our key rules refuse the group's key (a ROCA-weak or
						// short modulus, a short secret, an encryption key, a set
						// mixing secrets and public keys): nothing it signed can
						// verify, and no valid vector may be here.
						if tc.Result == "valid" {
							t.Errorf("group %d (%s) tcId %d: a valid vector's key is refused: %v", gi, g.Comment, tc.TcID, keyErr)
						}
						c.refuse(fmt.Sprintf("key refused (%s)", g.Comment))
						continue
					}
					c.checked++
					switch tc.Result {
					case "valid":
						if !accepted {
							t.Errorf("group %d (%s) tcId %d %s: refused a valid JWS: %v", gi, g.Comment, tc.TcID, tc.Comment, err)
						}
					case "invalid":
						if accepted {
							t.Errorf("group %d (%s) tcId %d %s %v: accepted an invalid JWS", gi, g.Comment, tc.TcID, tc.Comment, tc.Flags)
						}
					}
				}
			}
			t.Log(&c)
			if c.checked != want.checked || c.total(c.refused) != want.refused || c.skipped["JWE vectors (no JWE support)"] != want.jwe {
				t.Fatalf("%s, want %d checked, %d key-refused, %d JWE", &c, want.checked, want.refused, want.jwe)
			}
		})
	}
}

// TestWycheproofCryptoPolicyRefusals: the keys json_web_crypto_test.json
// expects us to refuse are refused for the right reason.
func TestWycheproofCryptoPolicyRefusals(t *testing.T) {
	want := map[string]string{"jws_rsa_roca_key": "ROCA", "jws_mixedSymmetryKeyset": "mixes HMAC secrets with public keys"}
	found := 0
	for _, g := range wycheproofGroups(t, "json_web_crypto_test.json") {
		msg, ok := want[g.Comment]
		if !ok {
			continue
		}
		found++
		if _, err := loadWycheproofKeys(&g); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("group %s: key error %v, want one mentioning %q", g.Comment, err, msg)
		}
	}
	if found != len(want) {
		t.Fatalf("found %d of the %d policy groups", found, len(want))
	}
}

// TestWycheproofPrimitives runs the signature primitive vectors for the
// JWS algorithms through our keys (loaded from the vectors' JWKs) and our
// verification: ECDSA in IEEE P1363 form (the JWS encoding), Ed25519,
// HMAC-SHA2, RSASSA-PKCS1-v1_5 and RSASSA-PSS.
func TestWycheproofPrimitives(t *testing.T) {
	files := []struct {
		name string
		alg  string
	}{
		{"ecdsa_secp256r1_sha256_p1363_test.json", jwt.ES256},
		{"ecdsa_secp384r1_sha384_p1363_test.json", jwt.ES384},
		{"ecdsa_secp521r1_sha512_p1363_test.json", jwt.ES512},
		{"ed25519_test.json", jwt.EdDSA},
		{"hmac_sha256_test.json", jwt.HS256},
		{"hmac_sha384_test.json", jwt.HS384},
		{"hmac_sha512_test.json", jwt.HS512},
		{"rsa_signature_2048_sha256_test.json", jwt.RS256},
		{"rsa_signature_3072_sha384_test.json", jwt.RS384},
		{"rsa_signature_4096_sha512_test.json", jwt.RS512},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", jwt.PS256},
		{"rsa_pss_2048_sha384_mgf1_48_test.json", jwt.PS384},
		{"rsa_pss_4096_sha512_mgf1_64_test.json", jwt.PS512},
	}
	hashFor := map[string]string{
		jwt.ES256: "SHA-256", jwt.ES384: "SHA-384", jwt.ES512: "SHA-512", jwt.RS256: "SHA-256", jwt.RS384: "SHA-384",
		jwt.RS512: "SHA-512", jwt.PS256: "SHA-256", jwt.PS384: "SHA-384", jwt.PS512: "SHA-512",
	}
	hashBits := map[string]int{jwt.HS256: 256, jwt.HS384: 384, jwt.HS512: 512}
	hashBytes := map[string]int{jwt.PS256: 32, jwt.PS384: 48, jwt.PS512: 64}
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			var c tally
			for gi, g := range wycheproofGroups(t, file.name) {
				if h := hashFor[file.alg]; h != "" && g.Sha != "" && g.Sha != h {
					c.skipN("vectors with another hash than the JWS algorithm's", len(g.Tests))
					continue
				}
				if bytes := hashBytes[file.alg]; bytes != 0 && (g.SLen != bytes || g.MgfSha != g.Sha) {
					c.skipN("vectors with PSS parameters other than RFC 7518's", len(g.Tests))
					continue
				}
				if bits := hashBits[file.alg]; bits != 0 && g.TagSize != bits {
					c.skipN("vectors with truncated MACs (not a JWS algorithm)", len(g.Tests))
					continue
				}
				var key *jwt.Key
				var keyErr error
				if hashBits[file.alg] == 0 {
					jwk := g.PublicKeyJwk
					if len(jwk) == 0 {
						jwk = g.KeyJwk
					}
					switch {
					case len(jwk) > 0:
						key, keyErr = jwt.ParseJWK(jwk, file.alg)
					case g.PublicKeyPem != "":
						key, keyErr = jwt.ParsePEM("", file.alg, []byte(g.PublicKeyPem))
					default:
						t.Fatalf("group %d has neither a JWK nor a PEM key", gi)
					}
					if keyErr == nil && key.Alg() != file.alg {
						t.Fatalf("group %d: key bound to %s, want %s", gi, key.Alg(), file.alg)
					}
				}
				for _, tc := range g.Tests {
					msg, err1 := hex.DecodeString(tc.Msg)
					sigHex := tc.Sig
					if hashBits[file.alg] != 0 {
						sigHex = tc.Tag
						raw, err := hex.DecodeString(tc.Key)
						if err != nil {
							t.Fatal(err)
						}
						key, keyErr = jwt.NewHMACKey("", file.alg, raw)
					}
					sig, err2 := hex.DecodeString(sigHex)
					if err1 != nil || err2 != nil {
						t.Fatalf("tcId %d: bad hex", tc.TcID)
					}
					if keyErr != nil {
						// Our key policy refuses the key (an HMAC secret shorter
						// than the hash, a small RSA modulus): nothing it signs is
						// ever accepted. Asserted, and counted apart: the
						// signature itself was not run.
						if !policyRefusal(keyErr) {
							t.Fatalf("group %d tcId %d: key refused for an unexpected reason: %v", gi, tc.TcID, keyErr)
						}
						c.refuse(fmt.Sprintf("%s vectors, key refused", tc.Result))
						continue
					}
					c.checked++
					got := jwt.VerifyRaw(key, msg, sig)
					switch tc.Result {
					case "valid":
						if !got {
							t.Errorf("group %d tcId %d %s %v: refused a valid signature", gi, tc.TcID, tc.Comment, tc.Flags)
						}
					case "invalid":
						if got {
							t.Errorf("group %d tcId %d %s %v: accepted an invalid signature", gi, tc.TcID, tc.Comment, tc.Flags)
						}
					}
				}
			}
			if c.checked < 50 {
				t.Fatalf("too few vectors ran: %s", &c)
			}
			if want, ok := wycheproofPrimitiveRefusals[file.name]; !ok || c.total(c.refused) != want {
				t.Fatalf("%s; want %d key-refused", &c, want)
			}
			t.Log(&c)
		})
	}
}

// wycheproofPrimitiveRefusals is the number of vectors per primitive file
// whose key our policy refuses: HMAC secrets shorter than the hash
// (RFC 7518 §3.2). Pinned, so that a change of policy shows.
var wycheproofPrimitiveRefusals = map[string]int{
	"ecdsa_secp256r1_sha256_p1363_test.json": 0,
	"ecdsa_secp384r1_sha384_p1363_test.json": 0,
	"ecdsa_secp521r1_sha512_p1363_test.json": 0,
	"ed25519_test.json":                      0,
	"hmac_sha256_test.json":                  3,
	"hmac_sha384_test.json":                  3,
	"hmac_sha512_test.json":                  3,
	"rsa_signature_2048_sha256_test.json":    0,
	"rsa_signature_3072_sha384_test.json":    0,
	"rsa_signature_4096_sha512_test.json":    0,
	"rsa_pss_2048_sha256_mgf1_32_test.json":  0,
	"rsa_pss_2048_sha384_mgf1_48_test.json":  0,
	"rsa_pss_4096_sha512_mgf1_64_test.json":  0,
}

// policyRefusal reports whether a key error is our key policy at work
// (too short a secret, too small a modulus), not a parsing failure.
func policyRefusal(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "random bytes are required") || strings.Contains(msg, "at least 2048 are required")
}
