// Package bind decodes JSON request bodies strictly and validates them,
// answering every way a body can be wrong with the right problem:
//
//	415 Content-Type is not application/json (or a +json type)
//	413 body over the cap: bodylimit.DefaultMaxBytes (1 MiB) unless a
//	    bodylimit guard (or another http.MaxBytesReader) set one
//	400 empty body, malformed JSON (with "offset", "line", "column"),
//	    data after the JSON value, top-level null, a body of the wrong
//	    kind ("the request body must be a JSON object" for an array);
//	    an unknown field, a field name in the wrong case, or a name used
//	    twice in one object (with "field" and the position)
//	422 a value of the wrong type (with "field"; rule "type"), a number
//	    out of the field's range (1e400 for a float64: rule "range", the
//	    message names the bounds), or struct validation failures
//	    (go-playground/validator tags), listed per field
//
// An application adds its own rules with RegisterRule — a name for
// `validate` tags, a check, and the message its 422 field errors carry —
// once, when the program starts.
//
// Field names are reported as the client wrote them — their `json` names,
// dotted for nested structs — and messages never repeat the submitted
// values, so a problem response cannot reflect a password or a card number.
//
// Member names are matched exactly, and each may appear once per object.
// encoding/json, which does the decoding, would fill Username from
// "USERNAME" and let a repeated name overwrite the first; then two parsers
// — a gateway and the service behind it, a signature check and the code
// that acts on the body — can read one request two ways. So bind refuses
// both, in every object of the body: the struct's fields, nested structs,
// slices and maps of them (names of map keys and of values a type decodes
// itself get the duplicate check only). The check is one pass over the
// body before decoding; it allocates nothing for ordinary bodies.
//
//	var in struct {
//		Username string `json:"username" validate:"required,max=64"`
//		Password string `json:"password" validate:"required,min=8"`
//	}
//	if p := bind.JSON(w, r, &in); p != nil {
//		problem.Write(w, r, p)
//		return
//	}
package bind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/bodylimit"
	"github.com/bulwark-go/bulwark/problem"
)

// MaxFieldErrors is the most field errors listed in one 422 problem.
const MaxFieldErrors = 50

// JSON decodes r's body into dst (a non-nil pointer) and validates it. It
// returns nil on success and otherwise the problem to send; it writes
// nothing itself (w is needed only so that http.MaxBytesReader can close
// the connection after an oversized body).
func JSON(w http.ResponseWriter, r *http.Request, dst any) *problem.Problem {
	if p := checkContentType(r); p != nil {
		return p
	}
	data, p := readBody(w, r)
	if p != nil {
		return p
	}
	if p := decode(data, dst); p != nil {
		return p
	}
	return Validate(dst)
}

// Decode is JSON for a value of type T.
func Decode[T any](w http.ResponseWriter, r *http.Request) (T, *problem.Problem) {
	var v T
	p := JSON(w, r, &v)
	return v, p
}

// IsJSONContentType reports whether a Content-Type header value names JSON:
// application/json or an application/*+json type, with parameters allowed
// but a charset, if any, of UTF-8.
func IsJSONContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

func checkContentType(r *http.Request) *problem.Problem {
	if IsJSONContentType(r.Header.Get("Content-Type")) {
		return nil
	}
	p := problem.New(http.StatusUnsupportedMediaType, problem.TypeUnsupportedMediaType,
		"the request body must be JSON, sent with Content-Type: application/json").
		WithReason("unsupported_media_type")
	switch r.Method {
	case http.MethodPatch:
		p.WithHeader("Accept-Patch", "application/json")
	default:
		p.WithHeader("Accept-Post", "application/json")
	}
	return p
}

// maxBytesReaderType is the dynamic type of http.MaxBytesReader's result,
// used to tell whether a body is capped already.
var maxBytesReaderType = reflect.TypeOf(http.MaxBytesReader(nil, http.NoBody, 1))

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *problem.Problem) {
	body := r.Body
	if body == nil || body == http.NoBody {
		return nil, emptyBody()
	}
	if reflect.TypeOf(body) != maxBytesReaderType {
		if r.ContentLength > bodylimit.DefaultMaxBytes {
			return nil, bodylimit.TooLarge(bodylimit.DefaultMaxBytes)
		}
		body = http.MaxBytesReader(w, body, bodylimit.DefaultMaxBytes)
		r.Body = body
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(min(r.ContentLength, 64<<10)) + 1 // a declared size is a hint, not a promise
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, bodylimit.TooLarge(mbe.Limit)
		}
		return nil, problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the request body could not be read").
			WithReason("body_read_failed").WithErr(err)
	}
	return buf.Bytes(), nil
}

func emptyBody() *problem.Problem {
	return problem.New(http.StatusBadRequest, problem.TypeMalformedJSON, "the request body is empty; a JSON value is required").
		WithReason("empty_body")
}

func decode(data []byte, dst any) *problem.Problem {
	start := skipSpace(data, 0)
	if start == len(data) {
		return emptyBody()
	}
	if bytes.Equal(bytes.TrimRight(data[start:], " \t\r\n"), []byte("null")) {
		return problem.New(http.StatusBadRequest, problem.TypeMalformedJSON, "the request body must not be null").
			WithReason("null_body")
	}
	if rv := reflect.ValueOf(dst); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		if p := checkMembers(data, dst); p != nil {
			return p
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(data, dst, err)
	}
	if off := skipSpace(data, int(dec.InputOffset())); off < len(data) {
		return at(problem.New(http.StatusBadRequest, problem.TypeMalformedJSON,
			"unexpected data after the JSON value; send exactly one value"), data, off+1).
			WithReason("trailing_data")
	}
	return nil
}

func decodeProblem(data []byte, dst any, err error) *problem.Problem {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		inv *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &syn):
		return at(problem.New(http.StatusBadRequest, problem.TypeMalformedJSON, "the request body is not valid JSON"),
			data, int(syn.Offset)).WithReason("malformed_json")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return at(problem.New(http.StatusBadRequest, problem.TypeMalformedJSON, "the request body ends in the middle of a JSON value"),
			data, len(data)).WithReason("malformed_json")
	case errors.As(err, &typ):
		field := jsonPath(reflect.TypeOf(dst), typ.Field)
		if field == "" {
			// The body itself has the wrong shape (an array for an
			// object): no field to name, so not a 422 without errors.
			return at(problem.New(http.StatusBadRequest, problem.TypeBadRequest,
				"the request body must be "+article("JSON "+jsonKind(typ.Type))), data, int(typ.Offset)).
				WithReason("body_type_mismatch")
		}
		msg, rule := "must be "+article(jsonKind(typ.Type)), "type"
		if m := outOfRange(typ); m != "" {
			msg, rule = m, "range"
		}
		return at(problem.Validation([]problem.FieldError{{Field: field, Message: msg, Rule: rule}}),
			data, int(typ.Offset)).WithReason("type_mismatch")
	case errors.As(err, &inv):
		return problem.New(http.StatusInternalServerError, problem.TypeInternal, "").WithErr(err).WithReason("bind_misuse")
	}
	if name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		name = strings.TrimSuffix(name, `"`)
		p := problem.New(http.StatusBadRequest, problem.TypeBadRequest, "the request body has a field this endpoint does not accept").
			WithReason("unknown_field")
		if len(name) <= 64 && printable(name) {
			p.With("field", name)
		}
		return p
	}
	// An UnmarshalJSON/UnmarshalText method refused a value (a time in the
	// wrong format, say). Its message may quote the value — a password, a
	// card number — so not even the audit log gets it: only its type.
	return problem.New(http.StatusUnprocessableEntity, problem.TypeValidation, "a value in the request body has the wrong format").
		WithReason("invalid_value").WithErr(fmt.Errorf("a value was refused by its decoder (%T)", err))
}

// outOfRange is the message for a JSON number that has the field's kind
// but not its range (1e400 for a float64, 300 for a uint8), else "". It
// quotes the type's bounds, never the value.
func outOfRange(e *json.UnmarshalTypeError) string {
	num, ok := strings.CutPrefix(e.Value, "number ")
	if !ok || e.Type == nil {
		return ""
	}
	t := e.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		limit := math.MaxFloat64
		if t.Kind() == reflect.Float32 {
			limit = math.MaxFloat32
		}
		return "is out of range: must be a number between -" + strconv.FormatFloat(limit, 'g', 4, 64) + " and " + strconv.FormatFloat(limit, 'g', 4, 64)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.ContainsAny(num, ".eE") {
			return "" // not an integer: the type message says so
		}
		bits := t.Bits()
		return "is out of range: must be an integer between " + strconv.FormatInt(-1<<(bits-1), 10) + " and " + strconv.FormatInt(1<<(bits-1)-1, 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if strings.ContainsAny(num, ".eE") {
			return ""
		}
		return "is out of range: must be an integer between 0 and " + strconv.FormatUint(math.MaxUint64>>(64-t.Bits()), 10)
	}
	return ""
}

// at records where in data a problem was found: the byte offset and the
// 1-based line and column of the byte just before off (encoding/json
// reports offsets just past the offending byte).
func at(p *problem.Problem, data []byte, off int) *problem.Problem {
	off = max(0, min(off, len(data)))
	prefix := data[:off]
	line := bytes.Count(prefix, []byte("\n")) + 1
	col := off - (bytes.LastIndexByte(prefix, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return p.With("offset", off).With("line", line).With("column", col)
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '\uFFFD' {
			return false
		}
	}
	return true
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integer" // or one out of range for the field
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "value"
}

func article(kind string) string {
	switch kind[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + kind
	}
	return "a " + kind
}

// jsonPath turns a field path made of JSON names but with the Go names of
// embedded structs (as encoding/json and the validator report them) into
// the path the client wrote.
func jsonPath(t reflect.Type, path string) string {
	if path == "" {
		return ""
	}
	var out []string
	for comp := range strings.SplitSeq(path, ".") {
		st := structOf(t)
		if st == nil {
			out = append(out, comp)
			t = nil
			continue
		}
		name, _, _ := strings.Cut(comp, "[")
		if f, ok := st.FieldByName(name); ok && f.Anonymous && jsonName(f) == "" {
			t = f.Type // an embedded struct: not part of the JSON path
			continue
		}
		out = append(out, comp)
		t = fieldByJSONName(st, name, 0)
	}
	return strings.Join(out, ".")
}

func structOf(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			return t
		default:
			return nil
		}
	}
	return nil
}

// maxEmbedDepth bounds the walk through embedded structs: a type that
// embeds itself (type T struct{ *T; ... }) is legal Go, and without a bound
// a client's field error would recurse until the stack overflowed.
const maxEmbedDepth = 16

func fieldByJSONName(st reflect.Type, name string, depth int) reflect.Type {
	var found reflect.Type
	for i := range st.NumField() {
		f := st.Field(i)
		if f.Anonymous && jsonName(f) == "" {
			if depth >= maxEmbedDepth {
				continue
			}
			if t := fieldByJSONName(structOfOrSelf(f.Type), name, depth+1); t != nil {
				found = t
			}
			continue
		}
		n := jsonName(f)
		if n == "" {
			n = f.Name
		}
		if n == name {
			return f.Type
		}
		if found == nil && strings.EqualFold(n, name) {
			found = f.Type
		}
	}
	return found
}

func structOfOrSelf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return reflect.TypeOf(struct{}{})
	}
	return t
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

var validate = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if f.Tag.Get("json") == "-" {
			return "-"
		}
		return jsonName(f)
	})
	return v
})

// Validate checks v (a struct or a pointer to one) against its `validate`
// tags and returns a 422 problem listing every failed field (at most
// MaxFieldErrors), or nil. Values of other kinds are not validated.
func Validate(v any) *problem.Problem {
	st := structOfValue(v)
	if st == nil {
		return nil
	}
	rules.mu.RLock()
	defer rules.mu.RUnlock()
	err, misuse := validateStruct(v)
	if misuse != nil {
		return problem.New(http.StatusInternalServerError, problem.TypeInternal, "").WithErr(misuse).WithReason("bind_misuse")
	}
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return nil // an InvalidValidationError: not a struct after all
	}
	fields := make([]problem.FieldError, 0, min(len(ves), MaxFieldErrors))
	for _, fe := range ves[:min(len(ves), MaxFieldErrors)] {
		ns := fe.Namespace()
		if _, rest, ok := strings.Cut(ns, "."); ok {
			ns = rest // drop the top-level type name
		}
		fields = append(fields, problem.FieldError{Field: jsonPath(st, ns), Message: message(fe), Rule: fe.Tag()})
	}
	return problem.Validation(fields)
}

// validateStruct runs the validator, turning its panic over a tag that
// names no rule (a typo, or a rule used before RegisterRule) into an error:
// the handler answers 500 with the cause in the audit log, not a crash.
// Any other panic, from an application rule, say, is not ours to hide.
func validateStruct(v any) (err, misuse error) {
	defer func() {
		if e := recover(); e != nil {
			if s, ok := e.(string); ok && strings.HasPrefix(s, "Undefined validation function") {
				misuse = fmt.Errorf("bind: %s: register the rule with bind.RegisterRule before use, or fix the tag", s)
				return
			}
			panic(e)
		}
	}()
	return validate().Struct(v), nil
}

// count writes a rule's number with its noun: "1 character", "8 characters".
func count(n, noun string) string {
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}

func structOfValue(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	return t
}

// message is a client-safe explanation of one failed rule. It quotes only
// the rule's parameter, which the server wrote, never the value.
func message(fe validator.FieldError) string {
	p := fe.Param()
	if m, ok := rules.messages[fe.Tag()]; ok {
		return strings.ReplaceAll(m, "{param}", p)
	}
	kind := fe.Kind()
	if kind == reflect.Pointer && fe.Type() != nil {
		kind = fe.Type().Elem().Kind()
	}
	size := func(least string) string {
		switch kind {
		case reflect.String:
			return "must be " + least + " " + count(p, "character") + " long"
		case reflect.Slice, reflect.Array, reflect.Map:
			return "must contain " + least + " " + count(p, "item")
		}
		return ""
	}
	isTime := fe.Type() != nil && strings.HasSuffix(fe.Type().String(), "time.Time")
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_with_all",
		"required_without", "required_without_all":
		return "is required"
	case "excluded_if", "excluded_unless", "excluded_with", "excluded_with_all", "excluded_without", "excluded_without_all":
		return "must not be set here"
	case "min", "gte":
		if m := size("at least"); m != "" {
			return m
		}
		if isTime && p == "" {
			return "must not be in the past"
		}
		return "must be at least " + p
	case "max", "lte":
		if m := size("at most"); m != "" {
			return m
		}
		if isTime && p == "" {
			return "must not be in the future"
		}
		return "must be at most " + p
	case "len":
		if m := size("exactly"); m != "" {
			return m
		}
		return "must be " + p
	case "gt":
		if m := size("more than"); m != "" {
			return m
		}
		if isTime && p == "" {
			return "must be in the future"
		}
		return "must be greater than " + p
	case "lt":
		if m := size("fewer than"); m != "" {
			return m
		}
		if isTime && p == "" {
			return "must be in the past"
		}
		return "must be less than " + p
	case "eq":
		return "must be " + p
	case "ne":
		return "must not be " + p
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(p), ", ")
	case "eqfield", "eqcsfield":
		return "does not match"
	case "nefield", "necsfield":
		return "must differ from " + p
	case "email":
		return "must be a valid email address"
	case "url", "http_url", "https_url", "uri", "url_encoded":
		return "must be a valid URL"
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid3_rfc4122", "uuid4_rfc4122", "uuid5_rfc4122":
		return "must be a valid UUID"
	case "alpha", "alphaunicode":
		return "must contain only letters"
	case "alphanum", "alphanumunicode":
		return "must contain only letters and digits"
	case "numeric", "number":
		return "must contain only digits"
	case "boolean":
		return "must be true or false"
	case "lowercase":
		return "must be lower case"
	case "uppercase":
		return "must be upper case"
	case "ascii", "printascii":
		return "must contain only ASCII characters"
	case "e164":
		return "must be a phone number in E.164 format"
	case "datetime":
		return "must be a date or time in the format " + p
	case "credit_card", "luhn_checksum":
		return "must be a valid card number"
	case "ip", "ipv4", "ipv6", "ip_addr", "ip4_addr", "ip6_addr":
		return "must be a valid IP address"
	case "cidr", "cidrv4", "cidrv6":
		return "must be a valid CIDR prefix"
	case "hostname", "hostname_rfc1123", "fqdn":
		return "must be a valid host name"
	case "hexadecimal":
		return "must be hexadecimal"
	case "base64", "base64url", "base64rawurl":
		return "must be valid base64"
	case "json":
		return "must be valid JSON"
	case "jwt":
		return "must be a JSON Web Token"
	case "startswith":
		return "must start with " + strconv.Quote(p)
	case "endswith":
		return "must end with " + strconv.Quote(p)
	case "contains":
		return "must contain " + strconv.Quote(p)
	case "excludes":
		return "must not contain " + strconv.Quote(p)
	case "unique":
		return "must not contain duplicates"
	case "iso3166_1_alpha2", "iso3166_1_alpha3":
		return "must be a valid country code"
	case "iso4217":
		return "must be a valid currency code"
	case "timezone":
		return "must be a valid time zone"
	}
	return "is invalid"
}
