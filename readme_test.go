package bulwark_test

import (
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeTestCommand: the quick start's test command is the one CI runs,
// it names every module of go.work (./... stops at a nested module), and
// CI's go vet and staticcheck cover the same packages.
func TestReadmeTestCommand(t *testing.T) {
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	const packages = "./... ./bench/... ./examples/stdlib/... ./examples/chi/... ./examples/gin/... ./examples/echo/... ./examples/shared/..."
	const cmd = "go test -race -count=1 " + packages
	if !strings.Contains(readme(t), "\n"+cmd+"\n") {
		t.Errorf("the README's quick start does not show %q", cmd)
	}
	lines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if last := lines[len(lines)-1]; last != cmd {
		t.Errorf(".ci/run ends with %q, the README shows %q", last, cmd)
	}
	for _, check := range []string{"go vet ", "staticcheck "} {
		if !slices.Contains(lines, check+packages) {
			t.Errorf(".ci/run lacks the line %q", check+packages)
		}
	}
	work, err := os.ReadFile("go.work")
	if err != nil {
		t.Fatal(err)
	}
	named := strings.Fields(packages)
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:use\s+)?(\./[\w./-]*|\.)\s*$`).FindAllStringSubmatch(string(work), -1) {
		want := strings.TrimSuffix(m[1], "/") + "/..."
		if !slices.Contains(named, want) {
			t.Errorf("go.work uses %s, but the test command does not name %s", m[1], want)
		}
	}
}

// TestReadmeRequestPath: the README's request-path table names every
// Policy field, in the order Policy.Handler composes them.
func TestReadmeRequestPath(t *testing.T) {
	md := readme(t)
	start := strings.Index(md, "## The request path")
	end := strings.Index(md[start:], "\n## ")
	section := md[start : start+end]
	pos := 0
	pt := reflect.TypeFor[bulwark.Policy]()
	for i := range pt.NumField() {
		name := "`" + pt.Field(i).Name + "`"
		j := strings.Index(section[pos:], name)
		if j < 0 {
			t.Errorf("the request-path table lacks %s, or names it out of order", name)
			continue
		}
		pos += j
	}
}

// TestReadmeLinks: every package and file the README links to exists.
func TestReadmeLinks(t *testing.T) {
	md := readme(t)
	pkgs := map[string]bool{}
	for _, m := range regexp.MustCompile(`pkg\.go\.dev/(github\.com/bulwark-go/bulwark[a-z/]*)`).FindAllStringSubmatch(md, -1) {
		pkgs[m[1]] = true
	}
	args := []string{"list"}
	for p := range pkgs {
		args = append(args, p)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Errorf("README links to a package that does not exist: %s", out)
	}
	for _, m := range regexp.MustCompile(`\]\(([a-z][a-z_/-]*\.(?:md|go))\)`).FindAllStringSubmatch(md, -1) {
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("README links to %s: %v", m[1], err)
		}
	}
}
