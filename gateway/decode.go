package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxConfigSize bounds a configuration file: 4 MiB.
const MaxConfigSize = 4 << 20

// MaxConfigDepth bounds the nesting of flow collections ([…], {…}) in a
// configuration file: 100 levels, where a real one needs fewer than ten.
// The YAML library's time grows faster than linearly with flow nesting
// (10,000 levels of "{a: " take seconds, 100,000 of "[" minutes), so a
// malformed file is refused before it is parsed.
const MaxConfigDepth = 100

// A ConfigError is a decoding error at a position of a file.
type ConfigError struct {
	File   string // the file name, as given
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Msg    string
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// LoadFile reads and decodes the configuration file at path (see Parse).
// Relative file paths in it (certificates, keys, secret files, the audit
// log) are taken relative to the file's directory.
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAtMost(f, MaxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	cfg.relativeTo(filepath.Dir(path))
	return cfg, nil
}

// relativeTo makes the file paths of cfg that are relative, relative to
// dir (the configuration file's directory), so that a configuration reads
// the same files whatever the working directory.
func (cfg *Config) relativeTo(dir string) {
	fix := func(p *string) {
		if *p != "" && *p != "-" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	fixTLS := func(t *ServerTLS) {
		if t != nil {
			fix(&t.CertFile)
			fix(&t.KeyFile)
			fix(&t.ClientCAFile)
		}
	}
	fixTLS(cfg.Listen.TLS)
	fixTLS(cfg.Admin.TLS)
	fix(&cfg.Admin.TokenFile)
	fix(&cfg.Log.AuditFile)
	for name, u := range cfg.Upstreams {
		if u.TLS != nil {
			t := *u.TLS
			fix(&t.CAFile)
			fix(&t.CertFile)
			fix(&t.KeyFile)
			u.TLS = &t
			cfg.Upstreams[name] = u
		}
	}
	fixAll := func(list []string) {
		for i := range list {
			fix(&list[i])
		}
	}
	for _, a := range cfg.Authenticators {
		if a.APIKey != nil {
			fix(&a.APIKey.RecordsFile)
			fixAll(a.APIKey.SecretFiles)
		}
		if a.Basic != nil {
			fix(&a.Basic.File)
		}
		if a.Introspect != nil {
			fix(&a.Introspect.ClientSecretFile)
			fix(&a.Introspect.PrivateKeyFile)
		}
		if a.MTLS != nil {
			fix(&a.MTLS.CAFile)
		}
		if a.Session != nil {
			fixAll(a.Session.CookieKeyFiles)
		}
		if a.JWT != nil {
			for i := range a.JWT.Keys {
				k := &a.JWT.Keys[i]
				fix(&k.SecretFile)
				fix(&k.PEMFile)
				fix(&k.JWKFile)
			}
		}
	}
	cfg.relativeToGuards(fix)
}

func (cfg *Config) relativeToGuards(fix func(*string)) {
	for _, c := range cfg.CSRF {
		for i := range c.KeyFiles {
			fix(&c.KeyFiles[i])
		}
	}
	for name, d := range cfg.Abuse {
		if d.SecretFile != "" {
			fix(&d.SecretFile)
			cfg.Abuse[name] = d
		}
	}
}

// Parse decodes a YAML or JSON configuration (JSON is read as the YAML it
// is) strictly: an unknown key, a duplicate key, a value of the wrong type
// or a trailing second document is a *ConfigError naming file, line and
// column. It does not validate the guards (Build does) nor read secrets.
func Parse(file string, data []byte) (cfg *Config, err error) {
	if len(data) > MaxConfigSize {
		return nil, &ConfigError{File: file, Msg: fmt.Sprintf("larger than %d bytes", MaxConfigSize)}
	}
	if line, col, ok := tooDeep(data, MaxConfigDepth); ok {
		return nil, &ConfigError{File: file, Line: line, Column: col, Msg: fmt.Sprintf("nested more than %d levels deep", MaxConfigDepth)}
	}
	defer func() {
		// The YAML library is not ours: a panic on hostile input is an
		// error, never a crash of the process reloading its config.
		if p := recover(); p != nil {
			cfg, err = nil, &ConfigError{File: file, Msg: fmt.Sprintf("malformed configuration (%v)", p)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	cfg = new(Config)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, errEOF) || err.Error() == "EOF" {
			return nil, &ConfigError{File: file, Msg: "empty configuration"}
		}
		return nil, positioned(file, data, err)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, &ConfigError{File: file, Msg: "more than one YAML document"}
	}
	return cfg, nil
}

var errEOF = errors.New("EOF")

// positioned turns the YAML library's error into a ConfigError. The
// library gives no position for errors from values parsed by their own
// text parsers (durations, the guards' enums: "time: invalid duration
// \"banana\""); for those, the position is that of the first scalar whose
// value the message quotes.
func positioned(file string, data []byte, err error) error {
	var te interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &te) {
		ce := &ConfigError{File: file, Msg: te.GetMessage()}
		if strings.Contains(ce.Msg, "cannot unmarshal map[string]") && strings.HasSuffix(ce.Msg, "of type string") {
			// app: {urls: [http://127.0.0.1:8000]} reads the URL as
			// the mapping {"http": "//127.0.0.1:8000"}.
			ce.Msg += `; a value with a colon inside {…} or […] is read as a mapping: quote it ("http://127.0.0.1:8000")`
		}
		if tk := te.GetToken(); tk != nil && tk.Position != nil {
			ce.Line, ce.Column = tk.Position.Line, tk.Position.Column
		}
		return ce
	}
	ce := &ConfigError{File: file, Msg: err.Error()}
	if v, ok := quotedValue(ce.Msg); ok {
		ce.Line, ce.Column = scalarPosition(data, v)
	}
	return ce
}

// quotedValue returns the first Go-quoted string in msg.
func quotedValue(msg string) (string, bool) {
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		return "", false
	}
	q, err := strconv.QuotedPrefix(msg[i:])
	if err != nil {
		return "", false
	}
	v, err := strconv.Unquote(q)
	return v, err == nil && v != ""
}

// scalarPosition is the line and column of the first scalar in data whose
// value is v, or 0, 0.
func scalarPosition(data []byte, v string) (line, col int) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return 0, 0
	}
	find := &scalarFinder{want: v}
	for _, doc := range f.Docs {
		if find.tok == nil {
			ast.Walk(find, doc)
		}
	}
	if find.tok == nil || find.tok.Position == nil {
		return 0, 0
	}
	return find.tok.Position.Line, find.tok.Position.Column
}

type scalarFinder struct {
	want string
	tok  *token.Token
}

func (s *scalarFinder) Visit(n ast.Node) ast.Visitor {
	if s.tok != nil {
		return nil
	}
	if mv, ok := n.(*ast.MappingValueNode); ok { // values only, never keys
		ast.Walk(s, mv.Value)
		return nil
	}
	if sc, ok := n.(ast.ScalarNode); ok {
		if fmt.Sprint(sc.GetValue()) == s.want {
			s.tok = n.GetToken()
			return nil
		}
	}
	return s
}

func readAtMost(f *os.File, n int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(ioLimit(f, n+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > n {
		return nil, fmt.Errorf("larger than %d bytes", n)
	}
	return buf.Bytes(), nil
}

func ioLimit(f *os.File, n int64) *io.LimitedReader { return &io.LimitedReader{R: f, N: n} }

// tooDeep reports the position where flow collections in data nest deeper
// than max. Brackets inside quoted scalars do not count; a quote opens a
// scalar only where YAML starts one (after space, a flow indicator, ':' or
// at a line's start), so the apostrophe of "don't" opens nothing. Block
// nesting is bounded by the YAML library itself.
func tooDeep(data []byte, max int) (line, col int, deep bool) {
	depth, line, col := 0, 1, 0
	var quote byte
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if c == '\n' {
			line, col = line+1, 0
		}
		switch {
		case quote == '"':
			if c == '\\' {
				i++
				col++
			} else if c == '"' {
				quote = 0
			}
		case quote == '\'':
			if c == '\'' {
				if i+1 < len(data) && data[i+1] == '\'' {
					i++
					col++
				} else {
					quote = 0
				}
			}
		case c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case (c == '"' || c == '\'') && strings.IndexByte(" \t\n\r[{,:-", prev) >= 0:
			quote = c
		case c == '[' || c == '{':
			if depth++; depth > max {
				return line, col, true
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
		prev = c
	}
	return 0, 0, false
}
