package apikey_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

// The example key in the package documentation is a well-formed key: its
// checksum matches, so that a reader who tries it sees the format work.
func TestDocumentedKeyParses(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//\t(bwk_live_[0-9A-Za-z_]+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no example key in doc.go")
	}
	if _, err := apikey.Parse(string(m[1]), []string{apikey.DefaultPrefix}); err != nil {
		t.Fatalf("the documented key %s: %v", m[1], err)
	}
}
