// Package gencheck proves that the committed ent code is exactly what `go generate ./ent` makes
// from ent/schema, so nobody edits generated code by hand or forgets to regenerate.
package gencheck

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

var versionStamp = regexp.MustCompile(`\n\nconst \(\n\tVersion = "[^"]*" *// Version of ent codegen\.\n\tSum +=[^\n]*\n\)`)

func TestGeneratedCodeIsCurrent(t *testing.T) {
	tmp := t.TempDir()
	err := entc.Generate("../schema", &gen.Config{
		Target:   tmp,
		Package:  "github.com/kupe-voice/kupe/ent",
		Features: []gen.Feature{gen.FeatureUpsert}, // keep in step with ent/generate.go
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	want := map[string]bool{}
	err = filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, path)
		want[rel] = true
		fresh, _ := os.ReadFile(path)
		committed, err := os.ReadFile(filepath.Join("..", rel))
		if err != nil {
			t.Errorf("ent/%s is missing: run `go generate ./ent`", rel)
			return nil
		}
		// The ent command stamps its own version into runtime.go; a library run cannot.
		committed = versionStamp.ReplaceAll(committed, nil)
		if !bytes.Equal(fresh, committed) {
			t.Errorf("ent/%s differs from what ent/schema generates: run `go generate ./ent`", rel)

		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing generated may linger after its schema is gone.
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		if d.IsDir() {
			if rel == "schema" || rel == "gencheck" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "generate.go" || !strings.HasSuffix(rel, ".go") {
			return nil
		}
		if !want[rel] {
			t.Errorf("ent/%s is not generated from ent/schema: remove it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
