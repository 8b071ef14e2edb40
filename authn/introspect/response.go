package introspect

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/bulwark-go/bulwark/authn/internal/outbound"
)

// Response is a decoded introspection response (RFC 7662 §2.2). Members
// that Bulwark reads have their specified types; the others are in Extra,
// decoded with encoding/json (numbers as float64).
type Response struct {
	Active    bool
	Scope     []string // the scope member, split at spaces
	ClientID  string
	Username  string
	TokenType string
	Subject   string
	Issuer    string
	Audience  []string // a string is a one-element list
	TokenID   string   // jti
	// Exp, Iat and Nbf are Unix seconds; 0 when absent.
	Exp, Iat, Nbf int64
	// Extra holds the members not listed above (active aside).
	Extra map[string]any
}

// maxTime bounds exp, iat and nbf: year 5138, far beyond any token, but
// small enough that arithmetic in nanoseconds cannot overflow.
const maxTime = 1 << 37

// ParseResponse decodes an introspection response strictly: exactly one
// JSON object in UTF-8, no member named twice, "active" a boolean
// (required), "scope", "client_id", "username", "token_type", "sub",
// "iss", "jti" strings, "aud" a string or an array of strings, "exp",
// "iat", "nbf" integer numbers of seconds (a fraction is refused), each
// scope a valid scope-token (RFC 6749 §3.3). Anything else is an error
// wrapping ErrMalformedResponse.
func ParseResponse(body []byte) (*Response, error) {
	m, err := outbound.Members(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	bad := func(name, want string) error {
		return fmt.Errorf("%w: %q is not %s", ErrMalformedResponse, name, want)
	}
	res := &Response{}
	raw, ok := m["active"]
	if !ok {
		return nil, fmt.Errorf("%w: the required member \"active\" is missing", ErrMalformedResponse)
	}
	switch string(raw) {
	case "true":
		res.Active = true
	case "false":
	default:
		return nil, bad("active", "a boolean")
	}
	delete(m, "active")
	for name, dst := range map[string]*string{
		"client_id": &res.ClientID, "username": &res.Username, "token_type": &res.TokenType,
		"sub": &res.Subject, "iss": &res.Issuer, "jti": &res.TokenID,
	} {
		raw, ok := m[name]
		if !ok {
			continue
		}
		s, ok := outbound.String(raw)
		if !ok {
			return nil, bad(name, "a string")
		}
		*dst = s
		delete(m, name)
	}
	if raw, ok := m["scope"]; ok {
		s, ok := outbound.String(raw)
		if !ok {
			return nil, bad("scope", "a string")
		}
		if res.Scope, ok = splitScope(s); !ok {
			return nil, bad("scope", "a space-separated list of scope tokens")
		}
		delete(m, "scope")
	}
	if raw, ok := m["aud"]; ok {
		if s, ok := outbound.String(raw); ok {
			res.Audience = []string{s}
		} else if ss, ok := outbound.Strings(raw); ok {
			res.Audience = ss
		} else {
			return nil, bad("aud", "a string or an array of strings")
		}
		delete(m, "aud")
	}
	for name, dst := range map[string]*int64{"exp": &res.Exp, "iat": &res.Iat, "nbf": &res.Nbf} {
		raw, ok := m[name]
		if !ok {
			continue
		}
		n, ok := seconds(raw)
		if !ok {
			return nil, bad(name, "a whole number of seconds")
		}
		*dst = n
		delete(m, name)
	}
	if len(m) > 0 {
		res.Extra = make(map[string]any, len(m))
		for k, raw := range m {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
			}
			res.Extra[k] = v
		}
	}
	return res, nil
}

// seconds reads a JSON number that is a whole, positive number of seconds
// no larger than maxTime ("1.7e9" is accepted; "1.5" and "-1" are not).
func seconds(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || f < 0 || f > maxTime {
		return 0, false
	}
	return int64(f), true
}

// splitScope splits a scope value at single spaces into scope-tokens
// (RFC 6749 §3.3: 1*( %x21 / %x23-5B / %x5D-7E ) each). An empty value is
// no scope.
func splitScope(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	parts := strings.Split(s, " ")
	for _, p := range parts {
		if p == "" {
			return nil, false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return nil, false
			}
		}
	}
	return parts, true
}
