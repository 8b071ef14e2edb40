package mtls

import (
	"encoding/base64"
	"errors"
	"strings"
)

// MaxCertHeaderLen bounds a Client-Cert header value, in bytes: a DER
// certificate of 12 KiB, base64-encoded, with room for parameters.
const MaxCertHeaderLen = 16 << 10

// MaxChainHeaderLen bounds the Client-Cert-Chain header lines together.
const MaxChainHeaderLen = 64 << 10

var errSyntax = errors.New("mtls: not a structured-field byte sequence")

// ParseClientCert parses the value of an RFC 9440 Client-Cert header: an
// RFC 8941 Item whose value is a Byte Sequence (":" base64 ":"), with
// optional parameters, which are ignored. It returns the DER bytes.
func ParseClientCert(v string) ([]byte, error) {
	if len(v) > MaxCertHeaderLen {
		return nil, errors.New("mtls: Client-Cert header too long")
	}
	s := strings.Trim(v, " ")
	der, rest, err := parseItem(s)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, errSyntax
	}
	return der, nil
}

// ParseClientCertChain parses the lines of an RFC 9440 Client-Cert-Chain
// header: an RFC 8941 List of Byte Sequences (lines are joined with ", "
// first, as RFC 9110 §5.3 combines them). It returns at most max DER
// certificates, in order, and an error for more.
func ParseClientCertChain(lines []string, max int) ([][]byte, error) {
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	if n > MaxChainHeaderLen {
		return nil, errors.New("mtls: Client-Cert-Chain header too long")
	}
	s := strings.Trim(strings.Join(lines, ", "), " ")
	var out [][]byte
	for s != "" {
		der, rest, err := parseItem(s)
		if err != nil {
			return nil, err
		}
		out = append(out, der)
		if len(out) > max {
			return nil, errors.New("mtls: Client-Cert-Chain has too many certificates")
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return nil, errSyntax
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		if rest == "" {
			return nil, errSyntax // a trailing comma
		}
		s = rest
	}
	return out, nil
}

// parseItem parses a Byte Sequence and its parameters from the start of s.
func parseItem(s string) (der []byte, rest string, err error) {
	if len(s) < 2 || s[0] != ':' {
		return nil, "", errSyntax
	}
	end := strings.IndexByte(s[1:], ':')
	if end < 0 {
		return nil, "", errSyntax
	}
	b64 := s[1 : 1+end]
	for i := 0; i < len(b64); i++ {
		c := b64[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, "", errSyntax
		}
	}
	enc := base64.StdEncoding.Strict()
	if !strings.HasSuffix(b64, "=") && len(b64)%4 != 0 {
		enc = base64.RawStdEncoding.Strict() // RFC 8941 §4.2.7: parsers may accept it unpadded
	}
	der, err = enc.DecodeString(b64)
	if err != nil || len(der) == 0 {
		return nil, "", errSyntax
	}
	rest, err = skipParams(s[2+end:])
	return der, rest, err
}

// skipParams skips RFC 8941 parameters (";" key ["=" bare-item]).
func skipParams(s string) (string, error) {
	for len(s) > 0 && s[0] == ';' {
		s = strings.TrimLeft(s[1:], " ")
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] == '*' || i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '-' || s[i] == '.')) {
			i++
		}
		if i == 0 {
			return "", errSyntax
		}
		s = s[i:]
		if len(s) == 0 || s[0] != '=' {
			continue // a boolean true
		}
		var err error
		if s, err = skipBareItem(s[1:]); err != nil {
			return "", err
		}
	}
	return s, nil
}

// skipBareItem skips one bare item: a string, byte sequence, boolean,
// number or token.
func skipBareItem(s string) (string, error) {
	if s == "" {
		return "", errSyntax
	}
	switch c := s[0]; {
	case c == '"':
		for i := 1; i < len(s); i++ {
			switch {
			case s[i] == '\\':
				if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
					return "", errSyntax
				}
				i++
			case s[i] == '"':
				return s[i+1:], nil
			case s[i] < 0x20 || s[i] > 0x7e:
				return "", errSyntax
			}
		}
		return "", errSyntax
	case c == ':':
		end := strings.IndexByte(s[1:], ':')
		if end < 0 {
			return "", errSyntax
		}
		return s[end+2:], nil
	case c == '?':
		if len(s) < 2 || (s[1] != '0' && s[1] != '1') {
			return "", errSyntax
		}
		return s[2:], nil
	case c == '-' || c >= '0' && c <= '9':
		i := 1
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		return s[i:], nil
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '*':
		i := 1
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		return s[i:], nil
	}
	return "", errSyntax
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}
