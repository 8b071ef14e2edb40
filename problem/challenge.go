package problem

import "strings"

// Challenge returns one WWW-Authenticate challenge (RFC 9110 §11.6.1): the
// scheme, the realm, then params as name/value pairs, e.g.
//
//	Challenge("Bearer", "api")                       // Bearer realm="api"
//	Challenge("Basic", "api", "charset", "UTF-8")    // Basic realm="api", charset="UTF-8"
//	Challenge("Bearer", "api", "error", "invalid_token", "error_description", "the token has expired")
//
// Every value is written as a quoted-string. The realm and ordinary values
// have quotes and backslashes escaped and control characters dropped; the
// RFC 6750 §3 parameters (error, error_description, scope) keep only the
// characters that RFC allows in them (%x20-21 / %x23-5B / %x5D-7E), so no
// client-controlled text can break the header. A parameter with an empty
// value, or a trailing name without one, is left out.
func Challenge(scheme, realm string, params ...string) string {
	var b strings.Builder
	b.Grow(len(scheme) + len(realm) + 10 + 16*len(params))
	b.WriteString(scheme)
	b.WriteString(" realm=")
	quoteTo(&b, realm, false)
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] == "" {
			continue
		}
		b.WriteString(", ")
		b.WriteString(params[i])
		b.WriteByte('=')
		switch params[i] {
		case "error", "error_description", "scope":
			quoteTo(&b, params[i+1], true)
		default:
			quoteTo(&b, params[i+1], false)
		}
	}
	return b.String()
}

// quoteTo writes s as an RFC 9110 quoted-string. With strict (RFC 6750
// attribute values) it drops '"', '\' and every byte outside printable
// ASCII; otherwise it escapes '"' and '\' and drops control characters.
func quoteTo(b *strings.Builder, s string, strict bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			// dropped: never allowed in a quoted-string
		case c == '"' || c == '\\':
			if !strict {
				b.WriteByte('\\')
				b.WriteByte(c)
			}
		case c > 0x7e && strict:
			// dropped: RFC 6750 values are ASCII
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
