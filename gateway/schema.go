package gateway

import (
	"encoding"
	"encoding/json"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

//go:generate go test -run ^TestSchema$ -update

// SchemaID is the $id of the configuration's JSON Schema.
const SchemaID = "https://bulwark.dev/schemas/gateway.json"

var (
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Schema returns the JSON Schema of Config, generated from the Go types (the
// guards' Options included): schema.json in the repository is its output,
// kept in step by a test.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		// Required fields carry jsonschema:"required"; the guards'
		// own required options are checked by their New.
		RequiredFromJSONSchemaTags: true,
		AllowAdditionalProperties:  false,
		DoNotReference:             false,
		// Several packages call their type Options: name definitions
		// by package too (CorsOptions, RatelimitLimit).
		Namer: func(t reflect.Type) string {
			pkg := path.Base(t.PkgPath())
			if pkg == "gateway" || pkg == "." || pkg == "" {
				return t.Name()
			}
			return strings.ToUpper(pkg[:1]) + pkg[1:] + t.Name()
		},
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch {
			case t == durationType:
				return &jsonschema.Schema{Type: "string", Pattern: `^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`,
					Description: `a Go duration: "300ms", "5s", "1h30m"`}
			case reflect.PointerTo(t).Implements(textType) && t.Kind() != reflect.String:
				return &jsonschema.Schema{Type: "string"}
			}
			return nil
		},
	}
	s := r.Reflect(&Config{})
	s.ID = SchemaID
	s.Title = "Bulwark gateway configuration"
	return json.MarshalIndent(s, "", "  ")
}
