package bind

import (
	"bytes"
	"encoding"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/problem"
)

// maxNesting is encoding/json's own nesting limit; deeper bodies are left
// to it to refuse.
const maxNesting = 10000

// dupScanMax is the number of members an object may have before its names
// are checked for repeats through a map instead of a linear scan.
const dupScanMax = 16

// maxReportedPath bounds the member path a problem repeats to the client.
const maxReportedPath = 128

// memberFinding is a refused member name: what is wrong and where.
type memberFinding struct {
	reason string   // duplicate_field, field_name_case or unknown_field
	path   []string // components, innermost first: a name or "[i]"
	want   string   // field_name_case: the name as the struct spells it
	off    int      // offset of the member name's opening quote
}

// checkMembers reports the first member name of data (in document order)
// that breaks the member-name rules of the package doc for a value decoded
// into dst (a non-nil pointer), or nil. It walks the body once, beside the
// type, before encoding/json sees it, and leaves syntax to encoding/json:
// at the first malformed byte it stops without a finding, and the decoder
// reports the error with its position.
func checkMembers(data []byte, dst any) *problem.Problem {
	np := namesPool.Get().(*[][]byte)
	s := memberScan{data: data, names: (*np)[:0]}
	s.value(0, 0, typeInfoOf(reflect.TypeOf(dst)))
	if names := s.names[:s.high]; cap(names) <= maxPooledNames {
		clear(names) // keep no reference to the body
		*np = names[:0]
		namesPool.Put(np)
	}
	if s.found == nil {
		return nil
	}
	return s.found.problem(data)
}

// namesPool holds the walk's stacks of member names; one that grew past
// maxPooledNames (a body built to be expensive) is left to the collector.
var namesPool = sync.Pool{New: func() any { s := make([][]byte, 0, 64); return &s }}

const maxPooledNames = 1024

func (f *memberFinding) problem(data []byte) *problem.Problem {
	var p *problem.Problem
	switch f.reason {
	case "duplicate_field":
		p = problem.New(http.StatusBadRequest, problem.TypeBadRequest,
			"the request body names a field twice in one object; send each field once")
	case "field_name_case":
		p = problem.New(http.StatusBadRequest, problem.TypeBadRequest,
			"field names are case-sensitive: the request body has a field this endpoint accepts only as "+strconv.Quote(f.want))
	default:
		p = problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the request body has a field this endpoint does not accept")
	}
	p.WithReason(f.reason)
	if path := f.pathString(); len(path) <= maxReportedPath && printable(path) {
		p.With("field", path)
	}
	return at(p, data, f.off+1)
}

// pathString joins the components outermost first: "items[2].name".
func (f *memberFinding) pathString() string {
	var b strings.Builder
	for i := len(f.path) - 1; i >= 0; i-- {
		c := f.path[i]
		if b.Len() > 0 && !strings.HasPrefix(c, "[") {
			b.WriteByte('.')
		}
		b.WriteString(c)
		if b.Len() > maxReportedPath {
			break
		}
	}
	return b.String()
}

type memberScan struct {
	data  []byte
	names [][]byte // member names of the open objects, innermost object last
	high  int      // the most names held at once
	found *memberFinding
}

// value walks the JSON value starting at or after i, decoded into t (nil:
// unknown), and returns the offset just past it, or -1 to stop: at a
// finding (s.found set) or at malformed input (s.found nil).
func (s *memberScan) value(i, depth int, t *typeInfo) int {
	i = skipSpace(s.data, i)
	if i >= len(s.data) {
		return -1
	}
	switch s.data[i] {
	case '{':
		return s.object(i, depth+1, t)
	case '[':
		return s.array(i, depth+1, t)
	case '"':
		end, _ := stringEnd(s.data, i)
		return end
	}
	// A number or a literal: its syntax is encoding/json's business.
	for ; i < len(s.data); i++ {
		switch s.data[i] {
		case ',', ']', '}', ':', ' ', '\t', '\r', '\n', '"', '{', '[':
			return i
		}
	}
	return i
}

func (s *memberScan) object(i, depth int, t *typeInfo) int {
	if depth > maxNesting {
		return -1
	}
	var fields map[string]*field
	var elem *typeInfo
	if t != nil && (t.kind == reflect.Struct || t.kind == reflect.Map) {
		fields, elem = t.fields, t.elem.info()
	}
	base := len(s.names)
	var seen map[string]struct{}
	defer func() { s.names = s.names[:base] }()

	i = skipSpace(s.data, i+1)
	if i < len(s.data) && s.data[i] == '}' {
		return i + 1
	}
	for {
		i = skipSpace(s.data, i)
		if i >= len(s.data) || s.data[i] != '"' {
			return -1
		}
		start := i
		end, plain := stringEnd(s.data, i)
		if end < 0 {
			return -1
		}
		name := s.data[start+1 : end-1]
		if !plain && (bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name)) {
			// Compare names as encoding/json does: unescaped, invalid
			// UTF-8 replaced by U+FFFD.
			var u string
			if json.Unmarshal(s.data[start:end], &u) != nil {
				return -1
			}
			name = []byte(u)
		}

		// Repeated names: a linear scan while the object is small.
		if seen == nil {
			for _, n := range s.names[base:] {
				if bytes.Equal(n, name) {
					s.found = &memberFinding{reason: "duplicate_field", path: []string{string(name)}, off: start}
					return -1
				}
			}
			if len(s.names)-base < dupScanMax {
				s.names = append(s.names, name)
				s.high = max(s.high, len(s.names))
			} else {
				seen = make(map[string]struct{}, 2*dupScanMax)
				for _, n := range s.names[base:] {
					seen[string(n)] = struct{}{}
				}
				seen[string(name)] = struct{}{}
			}
		} else {
			if _, dup := seen[string(name)]; dup {
				s.found = &memberFinding{reason: "duplicate_field", path: []string{string(name)}, off: start}
				return -1
			}
			seen[string(name)] = struct{}{}
		}

		next := elem
		if fields != nil {
			f, ok := fields[string(name)]
			if !ok {
				s.found = &memberFinding{reason: "unknown_field", path: []string{string(name)}, off: start}
				if want, ok := t.foldedName(string(name)); ok {
					s.found.reason, s.found.want = "field_name_case", want
				}
				return -1
			}
			next = f.info()
		}

		i = skipSpace(s.data, end)
		if i >= len(s.data) || s.data[i] != ':' {
			return -1
		}
		if i = s.value(i+1, depth, next); i < 0 {
			if s.found != nil {
				s.found.path = append(s.found.path, string(name))
			}
			return -1
		}
		i = skipSpace(s.data, i)
		if i >= len(s.data) {
			return -1
		}
		switch s.data[i] {
		case ',':
			i++
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func (s *memberScan) array(i, depth int, t *typeInfo) int {
	if depth > maxNesting {
		return -1
	}
	var elem *typeInfo
	if t != nil && (t.kind == reflect.Slice || t.kind == reflect.Array) {
		elem = t.elem.info()
	}
	i = skipSpace(s.data, i+1)
	if i < len(s.data) && s.data[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		if i = s.value(i, depth, elem); i < 0 {
			if s.found != nil {
				s.found.path = append(s.found.path, "["+strconv.Itoa(n)+"]")
			}
			return -1
		}
		i = skipSpace(s.data, i)
		if i >= len(s.data) {
			return -1
		}
		switch s.data[i] {
		case ',':
			i++
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// stringEnd returns the offset just past the JSON string starting at i
// (on its opening quote), or -1 if it does not end, and whether the string
// is plain: ASCII without escapes, its bytes its value.
func stringEnd(data []byte, i int) (int, bool) {
	plain := true
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain
		case c == '\\':
			plain = false
			i++
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return -1, plain
}

// typeInfo is what the walk needs to know about a Go type a JSON value is
// decoded into.
type typeInfo struct {
	// fields maps each JSON name of a struct (as encoding/json resolves
	// embedded and tagged fields) to its field; nil for other kinds.
	fields map[string]*field
	// elem is the element type of a slice or array, the value type of a
	// map; nil for other kinds.
	elem *field
	// kind is reflect.Struct, Map, Slice or Array: a JSON object is walked
	// with fields or elem only when decoded into a struct or map, an array
	// only when decoded into a slice or array.
	kind reflect.Kind
}

// field is a struct field or the element of a container; its type's info
// is resolved on first use, so that recursive types are fine.
type field struct {
	typ  reflect.Type
	once sync.Once
	ti   *typeInfo
}

func (f *field) info() *typeInfo {
	if f == nil || f.typ == nil {
		return nil
	}
	f.once.Do(func() { f.ti = typeInfoOf(f.typ) })
	return f.ti
}

// foldedName returns the struct's JSON name that equals name but for case.
func (t *typeInfo) foldedName(name string) (string, bool) {
	for n := range t.fields {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

var (
	typeInfos         sync.Map // reflect.Type → *typeInfo
	jsonUnmarshaler   = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
	maxPointerDerefs  = 16 // type P *P is legal Go
	opaque            = (*typeInfo)(nil)
	emptyStructFields = map[string]*field{}
)

// typeInfoOf returns the walk's view of t, computed once per type; nil
// means "names unknown: check duplicates only".
func typeInfoOf(t reflect.Type) *typeInfo {
	if t == nil {
		return opaque
	}
	if ti, ok := typeInfos.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := buildTypeInfo(t)
	actual, _ := typeInfos.LoadOrStore(t, ti)
	return actual.(*typeInfo)
}

func buildTypeInfo(t reflect.Type) *typeInfo {
	for n := 0; ; n++ {
		if decodesItself(t) {
			return opaque
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		if n == maxPointerDerefs {
			return opaque
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return &typeInfo{fields: structFields(t), kind: reflect.Struct}
	case reflect.Slice, reflect.Array, reflect.Map:
		return &typeInfo{elem: &field{typ: t.Elem()}, kind: t.Kind()}
	}
	return opaque
}

// decodesItself reports whether encoding/json hands values of t (or *t) to
// their own UnmarshalJSON or UnmarshalText.
func decodesItself(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return true
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshaler) {
		return true
	}
	return t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler)
}

// structFields resolves the JSON names of t's fields the way encoding/json
// does (typeFields in its encode.go): exported fields and the exported
// fields of embedded structs, named by a valid `json` tag or else the Go
// name; among fields with one name the shallowest wins, and among equally
// shallow ones the single tagged one; two equals cancel out and the name
// is unknown. Where encoding/json drops a name that this keeps, it refuses
// the member itself (an unknown field), so the walk never accepts a name
// the decoder would match to another field.
func structFields(t reflect.Type) map[string]*field {
	type candidate struct {
		typ    reflect.Type
		depth  int
		tagged bool
	}
	cands := map[string][]candidate{}
	visited := map[reflect.Type]bool{}
	next := []reflect.Type{t}
	for depth := 0; len(next) > 0; depth++ {
		current := next
		next = nil
		for _, st := range current {
			if visited[st] {
				continue
			}
			visited[st] = true
			for i := range st.NumField() {
				sf := st.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					cands[name] = append(cands[name], candidate{typ: sf.Type, depth: depth, tagged: tagged})
					continue
				}
				next = append(next, ft)
			}
		}
	}
	if len(cands) == 0 {
		return emptyStructFields
	}
	fields := make(map[string]*field, len(cands))
	for name, cs := range cands {
		minDepth := cs[0].depth // candidates arrive shallowest first
		var win *candidate
		tagged, same := 0, 0
		for i := range cs {
			if cs[i].depth != minDepth {
				break
			}
			same++
			if cs[i].tagged {
				tagged++
				win = &cs[i]
			}
		}
		switch {
		case same == 1:
			fields[name] = &field{typ: cs[0].typ}
		case tagged == 1:
			fields[name] = &field{typ: win.typ}
		default:
			// encoding/json drops the name: a member with it is unknown.
		}
	}
	return fields
}

// isValidTag is encoding/json's rule for a usable name in a `json` tag.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
