package csp

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Keyword sources, quoted as they must appear in a policy. An unquoted
// keyword (self instead of 'self') is a host name to a browser, which is
// why New refuses it.
const (
	None                   = "'none'"
	Self                   = "'self'"
	UnsafeInline           = "'unsafe-inline'"
	UnsafeEval             = "'unsafe-eval'"
	WasmUnsafeEval         = "'wasm-unsafe-eval'"
	StrictDynamic          = "'strict-dynamic'"
	UnsafeHashes           = "'unsafe-hashes'"
	ReportSample           = "'report-sample'"
	InlineSpeculationRules = "'inline-speculation-rules'"
	// Script is the only value of require-trusted-types-for.
	Script = "'script'"
	// WebRTCBlock and WebRTCAllow are the values of the webrtc directive.
	WebRTCBlock = "'block'"
	WebRTCAllow = "'allow'"
)

// keywords are the quoted keyword-sources of CSP Level 3, lower case
// (browsers match them case-insensitively).
var keywords = map[string]bool{
	Self: true, UnsafeInline: true, UnsafeEval: true, WasmUnsafeEval: true,
	StrictDynamic: true, UnsafeHashes: true, ReportSample: true,
	InlineSpeculationRules: true,
}

// SourceKind classifies a source expression.
type SourceKind uint8

// The kinds of source expression (CSP Level 3 §2.3.1).
const (
	KindNone     SourceKind = iota + 1 // 'none'
	KindKeyword                        // 'self', 'unsafe-inline', 'strict-dynamic', …
	KindWildcard                       // *
	KindScheme                         // https:, data:, blob:
	KindHost                           // example.com, https://*.example.com:443/path
	KindHash                           // 'sha256-…', 'sha384-…', 'sha512-…'
	KindNonce                          // 'nonce-…' (only from the nonce mechanism)
)

var kindNames = [...]string{"", "none", "keyword", "wildcard", "scheme", "host", "hash", "nonce"}

// String returns the kind's name.
func (k SourceKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "SourceKind(" + strconv.Itoa(int(k)) + ")"
}

// Source is one validated source expression in its canonical form:
// keywords, schemes and hosts in lower case, paths as given.
type Source struct {
	Kind  SourceKind
	Value string // canonical text, as written into the header
}

// String returns the source as written into the header.
func (s Source) String() string { return s.Value }

// maxSourceLen bounds a single source expression; real ones are far
// shorter, and the bound keeps error messages and headers sane.
const maxSourceLen = 1024

// ParseSource validates one source expression and returns its canonical
// form. It accepts every form of CSP Level 3's grammar: 'none', quoted
// keywords, *, scheme sources ("https:"), host sources with an optional
// scheme, a wildcard first label ("*.example.com"), a port or ":*", and a
// path; hashes ('sha256-<base64>' of the right length) and nonces. It
// refuses everything else with an error that says how to fix it, notably
// unquoted keywords ("self": did you mean 'self'?), and any whitespace,
// ';' or ',' (which would end the source, the directive or the policy).
//
// Policies built with New accept nonces only from the Nonce option: a
// nonce written into configuration is the same on every response and
// protects nothing.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return Source{}, errors.New("empty source")
	}
	if len(s) > maxSourceLen {
		return Source{}, fmt.Errorf("source of %d bytes is longer than %d", len(s), maxSourceLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return Source{}, fmt.Errorf("source %q contains %q; a source is one token of visible ASCII without ';' or ','", s, rune(c))
		}
	}
	if s[0] == '\'' {
		return parseQuoted(s)
	}
	if s == "*" {
		return Source{Kind: KindWildcard, Value: s}, nil
	}
	lower := strings.ToLower(s)
	if keywords["'"+lower+"'"] || lower == "none" {
		return Source{}, fmt.Errorf("source %q is an unquoted keyword, which browsers read as a host name; did you mean '%s'?", s, lower)
	}
	if strings.HasPrefix(lower, "nonce-") || strings.HasPrefix(lower, "sha256-") || strings.HasPrefix(lower, "sha384-") || strings.HasPrefix(lower, "sha512-") {
		return Source{}, fmt.Errorf("source %q must be quoted: '%s'", s, s)
	}
	switch lower {
	case "data", "blob", "https", "http", "wss", "ws", "mediastream", "filesystem":
		return Source{}, fmt.Errorf("source %q is a host name to a browser; did you mean the scheme %s:?", s, lower)
	}
	if i := strings.IndexByte(s, ':'); i > 0 && i == len(s)-1 {
		if strings.IndexByte(s[:i], '.') >= 0 {
			return Source{}, fmt.Errorf("source %q: a host followed by an empty port (or a scheme with a dot, which browsers do not use); drop the ':' or add a port", s)
		}
		if !validScheme(s[:i]) {
			return Source{}, fmt.Errorf("source %q: invalid scheme %q", s, s[:i])
		}
		return Source{Kind: KindScheme, Value: lower}, nil
	}
	return parseHost(s)
}

func parseQuoted(s string) (Source, error) {
	if len(s) < 3 || s[len(s)-1] != '\'' {
		return Source{}, fmt.Errorf("source %q: unbalanced quote", s)
	}
	inner := s[1 : len(s)-1]
	if strings.IndexByte(inner, '\'') >= 0 {
		return Source{}, fmt.Errorf("source %q: quote inside a quoted source", s)
	}
	lower := strings.ToLower(s)
	if lower == None {
		return Source{Kind: KindNone, Value: None}, nil
	}
	if keywords[lower] {
		return Source{Kind: KindKeyword, Value: lower}, nil
	}
	dash := strings.IndexByte(inner, '-')
	if dash > 0 {
		prefix := strings.ToLower(inner[:dash])
		value := inner[dash+1:]
		switch prefix {
		case "nonce":
			if !validBase64Value(value) {
				return Source{}, fmt.Errorf("source %q: a nonce must be base64", s)
			}
			if len(value) < 22 {
				return Source{}, fmt.Errorf("source %q: a nonce needs at least 128 bits (22 base64 characters)", s)
			}
			return Source{Kind: KindNonce, Value: "'nonce-" + value + "'"}, nil
		case "sha256", "sha384", "sha512":
			want := map[string]int{"sha256": sha256.Size, "sha384": sha512.Size384, "sha512": sha512.Size}[prefix]
			if !validBase64Value(value) {
				return Source{}, fmt.Errorf("source %q: a hash must be base64 (use csp.Hash to compute one)", s)
			}
			if n := decodedLen(value); n != want {
				return Source{}, fmt.Errorf("source %q: a %s hash is %d bytes, this one decodes to %d (use csp.Hash to compute one)", s, prefix, want, n)
			}
			return Source{Kind: KindHash, Value: "'" + prefix + "-" + value + "'"}, nil
		}
	}
	return Source{}, fmt.Errorf("source %q: unknown keyword; valid keywords are 'self', 'none', 'unsafe-inline', 'unsafe-eval', 'wasm-unsafe-eval', 'strict-dynamic', 'unsafe-hashes', 'report-sample', 'inline-speculation-rules', and 'sha256-…'/'sha384-…'/'sha512-…' hashes", s)
}

// validBase64Value matches CSP's base64-value: 1*( ALPHA / DIGIT / "+" /
// "/" / "-" / "_" ) *2"=".
func validBase64Value(v string) bool {
	body := strings.TrimRight(v, "=")
	if pad := len(v) - len(body); body == "" || pad > 2 || (pad > 0 && len(v)%4 != 0) {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isAlnum(c) && c != '+' && c != '/' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// decodedLen decodes a base64-value in either alphabet, padded or not,
// and returns the number of bytes, or -1 when it does not decode.
func decodedLen(v string) int {
	body := strings.TrimRight(v, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(body, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(body)
	if err != nil {
		return -1
	}
	return len(b)
}

// Hash returns the hash source ('sha256-<base64>') of an inline script
// or style, for use in script-src or style-src. alg is "sha256", "sha384"
// or "sha512"; content is the exact text between the tags.
func Hash(alg, content string) (string, error) {
	var sum []byte
	switch alg {
	case "sha256":
		s := sha256.Sum256([]byte(content))
		sum = s[:]
	case "sha384":
		s := sha512.Sum384([]byte(content))
		sum = s[:]
	case "sha512":
		s := sha512.Sum512([]byte(content))
		sum = s[:]
	default:
		return "", fmt.Errorf("csp: hash algorithm %q: use sha256, sha384 or sha512", alg)
	}
	return "'" + alg + "-" + base64.StdEncoding.EncodeToString(sum) + "'", nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// validScheme matches scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// parseHost parses host-source = [ scheme-part "://" ] host-part
// [ ":" port-part ] [ path-part ].
func parseHost(s string) (Source, error) {
	rest := s
	var b strings.Builder
	b.Grow(len(s))
	if i := strings.Index(rest, "://"); i >= 0 {
		scheme := rest[:i]
		if !validScheme(scheme) {
			return Source{}, fmt.Errorf("source %q: invalid scheme %q", s, scheme)
		}
		b.WriteString(strings.ToLower(scheme))
		b.WriteString("://")
		rest = rest[i+3:]
	} else if strings.Contains(rest, ":/") {
		return Source{}, fmt.Errorf("source %q: a scheme is followed by \"://\"", s)
	}
	end := strings.IndexAny(rest, ":/")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	rest = rest[end:]
	if err := validHost(host); err != nil {
		return Source{}, fmt.Errorf("source %q: %v", s, err)
	}
	b.WriteString(strings.ToLower(host))
	if strings.HasPrefix(rest, ":") {
		pend := strings.IndexByte(rest, '/')
		if pend < 0 {
			pend = len(rest)
		}
		port := rest[1:pend]
		rest = rest[pend:]
		if port != "*" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 || !allDigits(port) {
				return Source{}, fmt.Errorf("source %q: port %q is not a number from 1 to 65535 or *", s, port)
			}
		}
		b.WriteByte(':')
		b.WriteString(port)
	}
	if rest != "" {
		if err := validPath(rest); err != nil {
			return Source{}, fmt.Errorf("source %q: %v", s, err)
		}
		b.WriteString(rest)
	}
	return Source{Kind: KindHost, Value: b.String()}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// validHost matches host-part = "*" / [ "*." ] 1*host-char *( "."
// 1*host-char ) [ "." ], host-char = ALPHA / DIGIT / "-".
func validHost(h string) error {
	if h == "" {
		return errors.New("missing host")
	}
	if h == "*" {
		return nil
	}
	labels := strings.TrimSuffix(strings.TrimPrefix(h, "*."), ".")
	if labels == "" {
		return fmt.Errorf("host %q has no name", h)
	}
	if len(labels) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", h)
	}
	for label := range strings.SplitSeq(labels, ".") {
		if label == "" {
			return fmt.Errorf("host %q has an empty label", h)
		}
		if len(label) > 63 {
			return fmt.Errorf("host %q has a label longer than 63 characters", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c == '*' {
				return fmt.Errorf("host %q: a wildcard is allowed only as the whole first label (*.example.com)", h)
			}
			if !isAlnum(c) && c != '-' {
				return fmt.Errorf("host %q: invalid character %q (IPv6 literals are not allowed in CSP; use punycode for IDNs)", h, rune(c))
			}
		}
	}
	return nil
}

// validPath matches path-absolute without ';' or ',' (already excluded):
// "/" followed by pchars and "/".
func validPath(p string) error {
	if p[0] != '/' {
		return fmt.Errorf("path %q must start with /", p)
	}
	for i := 1; i < len(p); i++ {
		c := p[i]
		switch {
		case isAlnum(c), strings.IndexByte("-._~!$&'()*+=:@/", c) >= 0:
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return fmt.Errorf("path %q: bad percent-encoding", p)
			}
			i += 2
		default:
			return fmt.Errorf("path %q: invalid character %q (percent-encode it)", p, rune(c))
		}
	}
	return nil
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
