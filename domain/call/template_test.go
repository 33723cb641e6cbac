package call_test

import (
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestRender(t *testing.T) {
	vars := map[string]string{"name": "Alex", "balance": "$50", "x": "{{name}}"}
	for tpl, want := range map[string]string{
		"Hello {{name}}, your balance is {{ balance }}.": "Hello Alex, your balance is $50.",
		"{{missing}} stays": "{{missing}} stays",
		"no placeholders":   "no placeholders",
		"{{x}}":             "{{name}}", // values are not rendered again
		"unclosed {{name":   "unclosed {{name",
		"{{name}}{{name}}":  "AlexAlex",
		"":                  "",
	} {
		if got := call.Render(tpl, vars); got != want {
			t.Errorf("Render(%q) = %q, want %q", tpl, got, want)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Hi {{name}} {{ x }} {{", "name", "v")
	f.Fuzz(func(t *testing.T, tpl, k, v string) {
		out := call.Render(tpl, map[string]string{k: v})
		if v == "" && len(out) > len(tpl) {
			t.Fatalf("rendering with an empty value grew %q to %q", tpl, out)
		}
	})
}
