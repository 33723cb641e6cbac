package httpapi

import "testing"

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
