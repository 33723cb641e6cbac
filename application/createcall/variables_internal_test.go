package createcall

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// decodeVars reads a variable_values object as the HTTP adapter does: numbers stay json.Number.
func decodeVars(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Any JSON value is accepted: objects and arrays fill a placeholder as compact JSON.
func TestNormalizeVariablesRendersJSON(t *testing.T) {
	in := decodeVars(t, `{"name": "Ada", "n": 0.10, "vip": true, "none": null,
		"order": {"id": 42, "items": ["tea", "<cake> & co"], "b": {"z": 1, "a": 2}}, "tags": [], "empty": {}}`)
	vars, composite, err := normalizeVariables(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"name": "Ada", "n": "0.10", "vip": "true", "none": "",
		"order": `{"b":{"a":2,"z":1},"id":42,"items":["tea","<cake> & co"]}`, "tags": "[]", "empty": "{}",
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("vars[%q] = %q, want %q", k, vars[k], v)
		}
	}
	if len(vars) != len(want) {
		t.Errorf("vars = %v", vars)
	}
	for _, k := range []string{"order", "tags", "empty"} {
		if !composite[k] {
			t.Errorf("%s is not marked as JSON", k)
		}
	}
	if len(composite) != 3 {
		t.Errorf("composite = %v", composite)
	}
	if got := call.Render("Order {{order}} for {{name}}", vars); got != `Order {"b":{"a":2,"z":1},"id":42,"items":["tea","<cake> & co"]} for Ada` {
		t.Errorf("rendered %q", got)
	}
}

// Only the sizes are refused: keys, their length, and each value's length as text (nested
// values counted as their compact JSON).
func TestNormalizeVariablesSizeCaps(t *testing.T) {
	many := map[string]any{}
	for i := range maxVariables + 1 {
		many[strings.Repeat("k", 1+i%60)+string(rune('a'+i%26))+string(rune('A'+i/26))] = "x"
	}
	big := []any{strings.Repeat("x", maxVariableValueLen-4)} // ["xxx…"] is 4 bytes longer
	for name, tc := range map[string]struct {
		in     map[string]any
		detail string
	}{
		"too many keys":     {many, "variable_values may hold at most 64 keys"},
		"empty key":         {map[string]any{"": "x"}, "variable_values keys must be 1 to 64 characters"},
		"long key":          {map[string]any{strings.Repeat("k", 65): "x"}, "variable_values keys must be 1 to 64 characters"},
		"long string":       {map[string]any{"a": strings.Repeat("x", maxVariableValueLen+1)}, `variable_values["a"] is longer than 4096 characters`},
		"long nested array": {map[string]any{"a": append(big, "y")}, `variable_values["a"] is longer than 4096 characters`},
		"not JSON":          {map[string]any{"a": make(chan int)}, `variable_values["a"] is not a JSON value`},
	} {
		_, _, err := normalizeVariables(tc.in)
		var inv *fault.InvalidInputError
		if !errors.As(err, &inv) || inv.Detail != tc.detail {
			t.Errorf("%s: err = %v, want %q", name, err, tc.detail)
		}
	}
	if vars, _, err := normalizeVariables(map[string]any{"a": big}); err != nil || len(vars["a"]) != maxVariableValueLen {
		t.Errorf("an array of exactly %d bytes: %d bytes, %v", maxVariableValueLen, len(vars["a"]), err)
	}
}

// The request hash of a request with only scalar variables is the one records stored before
// objects were accepted hold: a retry across the upgrade still replays.
func TestRequestHashIsStable(t *testing.T) {
	req := call.LineRequest{LineID: "5f0c3a52-3b9e-4a8e-9d1e-0c9a4b7d2e11", Target: call.Target{AgentID: "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01"}}
	vars, composite, err := normalizeVariables(decodeVars(t, `{"name": "Ada", "balance": 0.10, "vip": true}`))
	if err != nil {
		t.Fatal(err)
	}
	// Computed by create_call/1 before this change.
	if got, want := requestHash("+14155550123", req, vars, composite, call.Options{}), "b6ce8d143c2c2fcaf80bd15dd566a2cc148c5b77a77f719c04a39f29c9a033b3"; got != want {
		t.Errorf("hash = %s, want %s", got, want)
	}
	if got, want := requestHash("+14155550123", call.LineRequest{}, nil, nil, call.Options{}), "3ab0b623fc7b4a82f4d5af2beb7d82efc80d3d7daddb9cc0a16f0a7bbfd11652"; got != want {
		t.Errorf("hash without variables = %s, want %s", got, want)
	}
}

// JSON and a string of the same text are different requests; the order of an object's keys is
// not a difference.
func TestRequestHashTellsJSONFromText(t *testing.T) {
	hash := func(body string) string {
		vars, composite, err := normalizeVariables(decodeVars(t, body))
		if err != nil {
			t.Fatal(err)
		}
		return requestHash("+14155550123", call.LineRequest{}, vars, composite, call.Options{})
	}
	obj := hash(`{"a": {"b": 1, "c": [1, 2]}, "d": "x"}`)
	if other := hash(`{"a": {"c": [1, 2], "b": 1}, "d": "x"}`); other != obj {
		t.Error("reordering an object's keys changed the hash")
	}
	for _, body := range []string{
		`{"a": "{\"b\":1,\"c\":[1,2]}", "d": "x"}`, // the same text, as a string
		`{"a": {"b": 1, "c": [1, 2]}, "d": "[x]"}`,
		`{"a": {"b": 1, "c": [2, 1]}, "d": "x"}`,
		`{"a": {"b": 1, "c": [1, 2]}}`,
	} {
		if hash(body) == obj {
			t.Errorf("%s hashes as the object", body)
		}
	}
	if hash(`{"a": "[]"}`) == hash(`{"a": []}`) {
		t.Error(`"[]" and [] hash the same`)
	}
}

// FuzzNormalizeVariables: for any JSON object, normalisation either refuses it with an invalid
// input or renders every key; rendering and hashing are deterministic, and objects are filled in
// as JSON that decodes to the same value.
func FuzzNormalizeVariables(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a": "x"}`, `{"a": {"b": [1, "2", null, true]}}`, `{"a": []}`, `{"a": 1e400}`,
		`{"a": "\u2028<>&"}`, `{"": 1}`, `{"a": {"a": {"a": {"a": {}}}}}`, `{"a": -0.0, "b": 12345678901234567890}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var in map[string]any
		if dec.Decode(&in) != nil {
			return
		}
		vars, composite, err := normalizeVariables(in)
		if err != nil {
			var inv *fault.InvalidInputError
			if !errors.As(err, &inv) || inv.Detail == "" {
				t.Fatalf("normalizeVariables(%s) = %v, want an invalid input", body, err)
			}
			return
		}
		if len(vars) != len(in) {
			t.Fatalf("%d variables from %d keys", len(vars), len(in))
		}
		for k := range composite {
			var back any
			if err := json.Unmarshal([]byte(vars[k]), &back); err != nil {
				t.Fatalf("vars[%q] = %q is not JSON: %v", k, vars[k], err)
			}
		}
		again, composite2, _ := normalizeVariables(in)
		if requestHash("+1", call.LineRequest{}, vars, composite, call.Options{}) != requestHash("+1", call.LineRequest{}, again, composite2, call.Options{}) {
			t.Fatal("the hash of one request changed")
		}
	})
}
