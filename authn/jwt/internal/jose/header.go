package jose

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// MaxKidLen bounds a kid: it ends up in key lookups and logs.
const MaxKidLen = 256

// Header is a parsed JOSE header. The string members are slices of the
// decoded header (no copies), nil when absent.
type Header struct {
	Alg, Kid, Typ, Cty []byte
	seen               member // the recognised members present
}

// member is a header member the parser recognises; each may appear once.
type member uint32

const (
	hAlg member = 1 << iota
	hKid
	hTyp
	hCty
	hCrit
	hJku
	hX5u
	hJwk
	hX5c
	hX5t
	hX5tS256
	hB64
	hEnc
	hZip
)

var headerNames = map[string]member{
	"alg": hAlg, "kid": hKid, "typ": hTyp, "cty": hCty, "crit": hCrit,
	"jku": hJku, "x5u": hX5u, "jwk": hJwk, "x5c": hX5c, "x5t": hX5t, "x5t#S256": hX5tS256,
	"b64": hB64, "enc": hEnc, "zip": hZip,
}

var (
	errHeaderJSON      = Refuse(ErrMalformed, ReasonMalformed, "the header is not a JSON object")
	errHeaderType      = Refuse(ErrMalformed, ReasonHeader, "a header member has the wrong type")
	errDuplicateHeader = Refuse(ErrMalformed, ReasonHeader, "a header member appears twice")
	errUTF8            = Refuse(ErrMalformed, ReasonMalformed, "not valid UTF-8")
	errTooDeep         = Refuse(ErrMalformed, ReasonMalformed, "JSON nested too deeply")
)

// ParseHeader reads a decoded JOSE header: valid UTF-8 and JSON, an
// object, nested no deeper than maxDepth, and no recognised member twice
// (RFC 7515 §4 allows refusing duplicates; we do, so that no two parsers
// can read one header two ways). Member names are compared exactly: JOSE
// names are case-sensitive, unlike encoding/json's struct matching.
func ParseHeader(h []byte, maxDepth int) (Header, error) {
	var out Header
	if !utf8.Valid(h) {
		return out, errUTF8
	}
	if !json.Valid(h) {
		return out, errHeaderJSON
	}
	i := skipWS(h, 0)
	if i >= len(h) || h[i] != '{' {
		return out, errHeaderJSON
	}
	i = skipWS(h, i+1)
	if i < len(h) && h[i] == '}' {
		return out, nil
	}
	for i < len(h) {
		if h[i] != '"' {
			return out, errHeaderJSON
		}
		keyStart := i
		key, next, escaped := scanString(h, i)
		if next < 0 {
			return out, errHeaderJSON
		}
		var name string
		if escaped {
			var err error
			if name, err = unescapeString(h[keyStart:next]); err != nil {
				return out, errHeaderJSON
			}
		}
		i = skipWS(h, next)
		if i >= len(h) || h[i] != ':' {
			return out, errHeaderJSON
		}
		i = skipWS(h, i+1)
		valStart := i
		i = skipValue(h, i, 1, maxDepth)
		if i < 0 {
			return out, errTooDeep
		}
		val := h[valStart:i]
		var bit member
		if escaped {
			bit = headerNames[name]
		} else {
			bit = headerNames[string(key)] // no allocation for map lookups
		}
		if bit != 0 {
			if out.seen&bit != 0 {
				return out, errDuplicateHeader
			}
			out.seen |= bit
			switch bit {
			case hAlg, hKid, hTyp, hCty:
				s, err := stringValue(val)
				if err != nil {
					return out, err
				}
				switch bit {
				case hAlg:
					out.Alg = s
				case hKid:
					out.Kid = s
				case hTyp:
					out.Typ = s
				case hCty:
					out.Cty = s
				}
			}
		}
		i = skipWS(h, i)
		if i >= len(h) {
			return out, errHeaderJSON
		}
		if h[i] == '}' {
			return out, nil
		}
		if h[i] != ',' {
			return out, errHeaderJSON
		}
		i = skipWS(h, i+1)
	}
	return out, errHeaderJSON
}

var (
	errAlgMissing    = Refuse(ErrAlgorithm, ReasonHeader, "no alg")
	errAlgNone       = Refuse(ErrAlgorithm, ReasonAlgorithm, `alg "none"`)
	errAlgNotAllowed = Refuse(ErrAlgorithm, ReasonAlgorithm, "alg not in the allowlist")
	errCrit          = Refuse(ErrHeader, ReasonCrit, "crit names extensions we do not understand")
	errKeyURL        = Refuse(ErrHeader, ReasonHeader, "jku, x5u and jwk are never followed or trusted")
	errB64           = Refuse(ErrHeader, ReasonHeader, "b64 (RFC 7797) is not supported")
	errJWE           = Refuse(ErrHeader, ReasonHeader, "enc or zip: not a JWS")
	errKidTooLong    = Refuse(ErrMalformed, ReasonHeader, "kid too long")
)

// Check applies the header rules every verification shares, in order:
// alg present, not "none" in any casing, and in allowed; no crit (no JWS
// extension is implemented, so every crit is unknown: RFC 7515 §4.1.11
// says to reject it); no jku, x5u or jwk (keys are never fetched from or
// trusted because of a token); no b64 (RFC 7797); no enc or zip (a JWE);
// a kid of at most MaxKidLen bytes. x5c and x5t are ignored.
func (h *Header) Check(allowed map[string]bool) error {
	if h.seen&hAlg == 0 {
		return errAlgMissing
	}
	if strings.EqualFold(string(h.Alg), "none") {
		return errAlgNone
	}
	if !allowed[string(h.Alg)] {
		return errAlgNotAllowed
	}
	if h.seen&hCrit != 0 {
		return errCrit
	}
	if h.seen&(hJku|hX5u|hJwk) != 0 {
		return errKeyURL
	}
	if h.seen&hB64 != 0 {
		return errB64
	}
	if h.seen&(hEnc|hZip) != 0 {
		return errJWE
	}
	if len(h.Kid) > MaxKidLen {
		return errKidTooLong
	}
	return nil
}

// stringValue returns the content of a JSON string value, unescaping only
// when it holds escapes.
func stringValue(val []byte) ([]byte, error) {
	if len(val) < 2 || val[0] != '"' {
		return nil, errHeaderType
	}
	inner := val[1 : len(val)-1]
	for _, c := range inner {
		if c == '\\' {
			s, err := unescapeString(val)
			if err != nil {
				return nil, errHeaderJSON
			}
			return []byte(s), nil
		}
	}
	return inner, nil
}
