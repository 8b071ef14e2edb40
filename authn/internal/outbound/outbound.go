// Package outbound holds what the authenticators that call an authorization
// server share: the rule on which URLs they may call, bounded reads, and a
// strict reader of JSON objects.
package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"unicode/utf8"
)

// ErrTooLarge is returned by ReadLimited for a body over its limit.
var ErrTooLarge = errors.New("response too large")

// IsLoopback reports whether host (without port) is a loopback address or
// "localhost".
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckURL parses raw, an endpoint named what, and refuses anything but an
// absolute https URL without fragment or user information; plain http is
// allowed for a loopback host only (tests, sidecars).
func CheckURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL: %v", what, raw, err)
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s %q must be an absolute https:// URL", what, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s %q must use https:// (plain http is allowed only for a loopback address): "+
				"credentials and tokens sent over http can be read and answers replaced in transit", what, raw)
		}
	default:
		return nil, fmt.Errorf("%s %q must be an https:// URL", what, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s must not carry credentials in the URL; configure them separately", what)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return nil, fmt.Errorf("%s %q must not have a fragment", what, raw)
	}
	return u, nil
}

// ReadLimited reads r to its end, or fails with ErrTooLarge as soon as it
// has read more than limit bytes.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Members splits data, which must be exactly one JSON object in valid
// UTF-8, into its members, refusing a member named twice (which readers
// would resolve differently: the first or the last wins).
func Members(data []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	if !json.Valid(data) {
		return nil, errors.New("not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errors.New("not a JSON object")
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("member %q appears twice", k)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return m, nil
}

// String decodes raw as a JSON string.
func String(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// Strings decodes raw as a JSON array of strings (null elements refused).
func Strings(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var rs []json.RawMessage
	if json.Unmarshal(raw, &rs) != nil {
		return nil, false
	}
	ss := make([]string, len(rs))
	for i, r := range rs {
		s, ok := String(r)
		if !ok {
			return nil, false
		}
		ss[i] = s
	}
	return ss, true
}
