package bulwark_test

import (
	"encoding/json"
	"go/ast"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// publicPackage is a package of the module as go list describes it.
type publicPackage struct {
	ImportPath, Dir, Name              string
	GoFiles, TestGoFiles, XTestGoFiles []string
}

// publicPackages lists the module's importable library packages: not
// internal, not a command, not test-only.
func publicPackages(t *testing.T) []publicPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Dir,Name,GoFiles,TestGoFiles,XTestGoFiles", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []publicPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p publicPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := rel("github.com/bulwark-go/bulwark", p.ImportPath)
		if p.Name == "main" || len(p.GoFiles) == 0 || rel == "internal" || strings.HasPrefix(rel, "internal/") || strings.Contains(rel, "/internal/") {
			continue
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 30 {
		t.Fatalf("found only %d public packages", len(pkgs))
	}
	return pkgs
}

// TestEveryPackageTeaches fails when a public package has no package
// documentation, or no runnable Example (one with an output comment, so
// that go test runs it and `go doc` readers see code that works).
func TestEveryPackageTeaches(t *testing.T) {
	for _, p := range publicPackages(t) {
		fset := token.NewFileSet()
		var pkgDoc string
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil {
				pkgDoc += file.Doc.Text()
			}
		}
		if !strings.HasPrefix(pkgDoc, "Package "+p.Name+" ") || len(pkgDoc) < 200 {
			t.Errorf("%s: no package documentation that teaches (a doc.go starting \"Package %s …\", a few paragraphs)", p.ImportPath, p.Name)
		}
		var files []*ast.File
		for _, f := range append(append([]string(nil), p.TestGoFiles...), p.XTestGoFiles...) {
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, file)
		}
		runnable := 0
		for _, ex := range doc.Examples(files...) {
			if ex.Output != "" || ex.EmptyOutput {
				runnable++
			}
		}
		if runnable == 0 {
			t.Errorf("%s: no runnable Example (func Example… with an // Output: comment in an example_test.go)", p.ImportPath)
		}
	}
}

// TestRootDocLinksEveryPackage fails when the root package documentation
// does not link a public library package with a doc link
// ([github.com/bulwark-go/bulwark/csrf]): from the front page, every
// guard is one hop away.
func TestRootDocLinksEveryPackage(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, f := range []string{"doc.go"} {
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/bulwark-go/bulwark")
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	var walk func(texts []comment.Text)
	walk = func(texts []comment.Text) {
		for _, x := range texts {
			switch x := x.(type) {
			case *comment.DocLink:
				if x.Name == "" && x.Recv == "" {
					linked[x.ImportPath] = true
				}
			case *comment.Link:
				walk(x.Text)
			case *comment.Italic, comment.Plain:
			}
		}
	}
	for _, b := range pkg.Parser().Parse(pkg.Doc).Content {
		switch b := b.(type) {
		case *comment.Paragraph:
			walk(b.Text)
		case *comment.List:
			for _, item := range b.Items {
				for _, c := range item.Content {
					if p, ok := c.(*comment.Paragraph); ok {
						walk(p.Text)
					}
				}
			}
		}
	}
	for _, p := range publicPackages(t) {
		if p.ImportPath == "github.com/bulwark-go/bulwark" || p.Name == "demo" {
			continue
		}
		if !linked[p.ImportPath] {
			t.Errorf("the root package documentation (doc.go) does not link [%s]", p.ImportPath)
		}
	}
}
