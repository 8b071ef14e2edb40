package jwt

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/authn/jwt/internal/jose"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/problem"
)

// Header is the JOSE header of a verified JWS, as VerifyJWS returns it.
type Header struct {
	Alg string // the algorithm (always one of the allowed ones)
	Kid string // the key ID, "" when absent
	Typ string // the media type, "" when absent
	Cty string // the content type, "" when absent
}

// VerifyJWS verifies a compact JWS without interpreting its payload as JWT
// claims: the structure checks, the header rules (alg allowlist, key
// binding, crit, jku/x5u/jwk, b64) and the signature. It returns the
// header and the payload bytes. Use Verify for tokens.
func (v *Verifier) VerifyJWS(ctx context.Context, token string) (Header, []byte, error) {
	var hdrBuf [256]byte
	hdr, p64, _, prob := v.verifySigned(ctx, token, hdrBuf[:0])
	if prob != nil {
		return Header{}, nil, prob
	}
	payload, err := jose.DecodeSegment(nil, p64)
	if err != nil {
		return Header{}, nil, refused(err)
	}
	return Header{Alg: string(hdr.Alg), Kid: string(hdr.Kid), Typ: string(hdr.Typ), Cty: string(hdr.Cty)}, payload, nil
}

// verifySigned checks the structure, the header and the signature, and
// returns the header, the encoded payload and the key that verified it.
func (v *Verifier) verifySigned(ctx context.Context, token string, hdrBuf []byte) (jose.Header, string, *Key, *problem.Problem) {
	h64, p64, s64, err := jose.Split(token, v.maxSize)
	if err != nil {
		return jose.Header{}, "", nil, refused(err)
	}
	hb, err := jose.DecodeSegment(hdrBuf, h64)
	if err != nil {
		return jose.Header{}, "", nil, refused(err)
	}
	hdr, err := jose.ParseHeader(hb, v.maxDepth)
	if err != nil {
		return jose.Header{}, "", nil, refused(err)
	}
	if err := hdr.Check(v.allowed); err != nil {
		return jose.Header{}, "", nil, refused(err)
	}
	alg := algorithms[string(hdr.Alg)]
	var cands []*Key
	var lerr error
	if v.static != nil {
		cands = v.static.lookupBytes(hdr.Kid, alg.name)
	} else {
		var kid string
		if len(hdr.Kid) > 0 {
			kid = string(hdr.Kid)
		}
		cands, lerr = v.keys.Lookup(ctx, kid, alg.name)
	}
	n := 0
	for _, k := range cands {
		if k.alg == alg {
			n++
		}
	}
	if n == 0 {
		var e error = errNoKey
		if len(cands) > 0 {
			e = errOtherAlg
		} else if lerr != nil {
			if p, ok := problem.As(lerr); ok {
				return jose.Header{}, "", nil, p // the set's own answer, e.g. a 503
			}
			e = errors.Join(errNoKey, lerr)
		}
		return jose.Header{}, "", nil, refused(e)
	}
	if n > maxKeyTries {
		return jose.Header{}, "", nil, refused(errTooManyKeys)
	}
	signingInput := token[:len(h64)+1+len(p64)]
	var key *Key
	if alg.kind == kindHMAC {
		key, err = verifyMAC(cands, alg, signingInput, s64)
	} else {
		key, err = verifyPublic(cands, alg, signingInput, s64)
	}
	if err != nil {
		return jose.Header{}, "", nil, refused(err)
	}
	if key == nil {
		return jose.Header{}, "", nil, refused(errBadSig)
	}
	return hdr, p64, key, nil
}

// verifyMAC decodes the signature on the stack and checks it against the
// HMAC candidates; it returns the key that verified it, if any.
func verifyMAC(cands []*Key, alg *algorithm, signingInput, s64 string) (*Key, error) {
	var arr [64]byte
	sig, err := jose.DecodeSegment(arr[:0], s64)
	if err != nil {
		return nil, err
	}
	for _, k := range cands {
		if k.alg == alg && k.mac.verify(signingInput, sig) {
			return k, nil
		}
	}
	return nil, nil
}

// verifyPublic checks the signature with golang-jwt's implementation of
// the public-key algorithm; it returns the key that verified it, if any.
func verifyPublic(cands []*Key, alg *algorithm, signingInput, s64 string) (*Key, error) {
	sig, err := jose.DecodeSegment(nil, s64)
	if err != nil {
		return nil, err
	}
	for _, k := range cands {
		if k.alg == alg && k.verifySignature(signingInput, sig) {
			return k, nil
		}
	}
	return nil, nil
}

// checkType applies the JWT typing rules: a refresh token never passes as
// an access token, and the reverse.
func (v *Verifier) checkType(h *jose.Header) error {
	if strings.EqualFold(string(h.Cty), "JWT") {
		return errNested
	}
	isRefresh := typMatches(h.Typ, TypeRefresh)
	switch v.use {
	case useRefresh:
		if !isRefresh {
			return errTyp
		}
	default:
		if isRefresh {
			return errTyp
		}
		if v.typ != "" && !typMatches(h.Typ, v.typ) {
			return errTyp
		}
	}
	return nil
}

func stripApplication(s string) string {
	if len(s) > 12 && strings.EqualFold(s[:12], "application/") {
		return s[12:]
	}
	return s
}

// typMatches compares a typ header with want as RFC 7515 §4.1.9 says:
// case-insensitively, with the "application/" prefix optional.
func typMatches(got []byte, want string) bool {
	g := got
	if len(g) > 12 && strings.EqualFold(string(g[:12]), "application/") {
		g = g[12:]
	}
	return strings.EqualFold(string(g), stripApplication(want))
}

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// verify runs the full verification of a JWT, but for revocation.
func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (*verifiedToken, *problem.Problem) {
	var hdrBuf [256]byte
	hdr, p64, key, prob := v.verifySigned(ctx, token, hdrBuf[:0])
	if prob != nil {
		return nil, prob
	}
	if err := v.checkType(&hdr); err != nil {
		switch {
		case v.use == useAccess && typMatches(hdr.Typ, TypeRefresh):
			return nil, lifecycle.InvalidToken(reasonWrongType, detailRefreshAsAccess, err)
		case v.use == useRefresh && err == errTyp:
			return nil, lifecycle.InvalidToken(reasonWrongType, detailAccessAsRefresh, err)
		}
		return nil, refused(err)
	}
	bp := payloadPool.Get().(*[]byte)
	payload, err := jose.DecodeSegment((*bp)[:0], p64)
	if err != nil {
		payloadPool.Put(bp)
		return nil, refused(err)
	}
	claims, err := jose.DecodeClaims(payload, v.maxDepth)
	if cap(payload) <= 64<<10 {
		*bp = payload[:0]
		payloadPool.Put(bp)
	}
	if err != nil {
		return nil, refused(err)
	}
	vt, prob := v.validateClaims(claims, now)
	if prob != nil {
		return nil, prob
	}
	vt.key = key
	return vt, nil
}
