package bulwark_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// minRedis is the oldest Redis release Bulwark supports
// (docs/operations.md, "Versions"): store/redisstore's Take is GETDEL.
const minRedis = "6.2"

// TestRedisMinimumStatedOnce: every "Redis X.Y or later" in the
// documentation, the package docs and the messages names the same
// release (they once said 6.0, 6.2 and "tests run against 7.0").
func TestRedisMinimumStatedOnce(t *testing.T) {
	stated := regexp.MustCompile(`(?i)\bredis\s+(\d+\.\d+)(?:\.\d+)?\s+or\s+(?:later|newer|above)`)
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range stated.FindAllStringSubmatch(string(b), -1) {
			n++
			if m[1] != minRedis {
				t.Errorf("%s: %q; the minimum is Redis %s", path, m[0], minRedis)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no statement of the minimum Redis version found")
	}
}
