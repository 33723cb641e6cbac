package httpapi

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The embedded document loads, validates and renders; when it does not, this says why (the
// routes only answer 500).
func TestEmbeddedAPIDocsBuild(t *testing.T) {
	d, err := buildAPIDocs()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.json) == 0 || len(d.html) == 0 {
		t.Fatalf("empty document (%d bytes) or page (%d bytes)", len(d.json), len(d.html))
	}
}

// Every KUPE_* variable the document names is one the service reads: a row of the README's
// configuration table, where configs' variables are listed.
func TestDocumentNamesRealVariables(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`KUPE_[A-Z0-9_]+`).FindAllString(string(openAPIYAML), -1)
	if len(names) == 0 {
		t.Fatal("the document names no KUPE_ variable; drop this test or fix its pattern")
	}
	for _, name := range names {
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("the document names %s, which the README's configuration table does not list", name)
		}
	}
}
