package webhook_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/webhook"
)

func TestParseStartCallKupeExample(t *testing.T) {
	sc, err := webhook.ParseStartCall([]byte(`{ "phoneNumber": "+14155550123", "variable_values": {} }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Destination != "+14155550123" || sc.PhoneNumberID != "" || sc.VariableValues != nil {
		t.Fatalf("parsed %+v", sc)
	}
}

func TestParseStartCallMergeOrder(t *testing.T) {
	defaults := []webhook.AttachedVariable{
		{Name: "a", DefaultValue: "default-a"}, {Name: "b", DefaultValue: "default-b"}, {Name: "c", DefaultValue: "default-c"},
		{Name: "d", DefaultValue: "default-d"}, {Name: "e", DefaultValue: "default-e"}, {Name: "only_default", DefaultValue: "kept"},
	}
	body := `{
		"to_number": "+14155550123",
		"phone_number_id": "0F8FAD5B-D9CB-469F-A165-70867728950E",
		"b": "top-b", "c": "top-c", "d": "top-d", "e": "top-e", "count": 3, "vip": true,
		"crm": {"nested": "skipped"}, "tags": ["skipped"], "gone": null,
		"context_params": {"c": "ctx-c", "d": "ctx-d", "e": "ctx-e"},
		"variables": {"d": "vars-d", "e": "vars-e"},
		"variable_values": {"e": "vv-e", "amount": 12.50, "cleared": null}
	}`
	sc, err := webhook.ParseStartCall([]byte(body), defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "default-a", "b": "top-b", "c": "ctx-c", "d": "vars-d", "e": "vv-e", "only_default": "kept",
		"count": json.Number("3"), "vip": true, "amount": json.Number("12.50"), "cleared": nil,
	}
	if !reflect.DeepEqual(sc.VariableValues, want) {
		t.Fatalf("variables = %#v\nwant        %#v", sc.VariableValues, want)
	}
	if sc.Destination != "+14155550123" || sc.PhoneNumberID != "0f8fad5b-d9cb-469f-a165-70867728950e" {
		t.Fatalf("parsed %+v", sc)
	}
}

func TestParseStartCallDestination(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"phoneNumber":" +14155550123 "}`, "+14155550123"},
		{`{"to_number":"+14155550123"}`, "+14155550123"},
		{`{"phone_number":"+14155550123"}`, "+14155550123"},
		{`{"phone_number":14155550123}`, "14155550123"},
		// The same number written twice, formatted differently, is one number.
		{`{"phoneNumber":"+1 (415) 555-0123","phone_number":"14155550123"}`, "+1 (415) 555-0123"},
		{`{"phoneNumber":"","to_number":null,"phone_number":"+14155550123"}`, "+14155550123"},
	} {
		sc, err := webhook.ParseStartCall([]byte(tc.body), nil)
		if err != nil || sc.Destination != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.body, sc.Destination, err, tc.want)
		}
	}
}

func TestParseStartCallRefuses(t *testing.T) {
	deep := strings.Repeat(`{"x":`, webhook.MaxStartCallDepth) + `1` + strings.Repeat(`}`, webhook.MaxStartCallDepth)
	var many strings.Builder
	many.WriteString(`{"phoneNumber":"+14155550123","variable_values":{`)
	for i := 0; i <= webhook.MaxVariables; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `"v%d":"x"`, i)
	}
	many.WriteString("}}")
	for _, tc := range []struct{ body, detail string }{
		{``, "not valid JSON"},
		{`   `, "not valid JSON"},
		{`[]`, "must be a JSON object"},
		{`"+14155550123"`, "must be a JSON object"},
		{`{"phoneNumber":"+14155550123"`, "not valid JSON"},
		{`{"phoneNumber":"+14155550123"}{}`, "more than one"},
		{`{"phoneNumber":"+14155550123"} x`, "JSON"},
		{`{"phoneNumber" "+14155550123"}`, "not valid JSON"},
		{"{\"phoneNumber\":\"+1415555\xff0123\"}", "UTF-8"},
		{`{}`, "phoneNumber is required"},
		{`{"phoneNumber":"  "}`, "phoneNumber is required"},
		{`{"variable_values":{"a":"b"}}`, "phoneNumber is required"},
		{`{"phoneNumber":["+14155550123"]}`, "phoneNumber must be a string"},
		{`{"to_number":{"n":"+14155550123"}}`, "to_number must be a string"},
		{`{"phoneNumber":true}`, "must be a string"},
		{`{"phoneNumber":1.5e10}`, "must be a string"},
		{`{"phoneNumber":"` + strings.Repeat("1", 65) + `"}`, "longer than"},
		{`{"phoneNumber":"+14155550123","to_number":"+14155550124"}`, "different numbers"},
		{`{"phoneNumber":"+14155550123","phoneNumber":"+14155550124"}`, "twice"},
		{`{"phoneNumber":"+14155550123","variable_values":{"a":1,"a":2}}`, "twice"},
		{`{"phoneNumber":"+14155550123","phone_number_id":"line-1"}`, "phone_number_id must be a UUID"},
		{`{"phoneNumber":"+14155550123","phone_number_id":42}`, "phone_number_id must be a UUID"},
		{`{"phoneNumber":"+14155550123","phone_number_id":{}}`, "phone_number_id must be a UUID"},
		{`{"phoneNumber":"+14155550123","variable_values":"a=b"}`, "variable_values must be an object"},
		{`{"phoneNumber":"+14155550123","variables":[1]}`, "variables must be an object"},
		{`{"phoneNumber":"+14155550123","context_params":7}`, "context_params must be an object"},
		{`{"phoneNumber":"+14155550123","variable_values":{"a":{"b":1}}}`, `variable_values["a"] must be a string`},
		{`{"phoneNumber":"+14155550123","variables":{"a":[1]}}`, `variables["a"] must be a string`},
		{`{"phoneNumber":"+14155550123","variable_values":{"":"x"}}`, "keys must be"},
		{`{"phoneNumber":"+14155550123","variable_values":{"a":"` + strings.Repeat("x", 4097) + `"}}`, "longer than 4096"},
		{`{"phoneNumber":"+14155550123","note":"` + strings.Repeat("x", 4097) + `"}`, "longer than 4096"},
		{`{"phoneNumber":"+14155550123","a":` + deep + `}`, "nested deeper"},
		{many.String(), "at most 64 variables"},
		{`{"phoneNumber":"+14155550123","pad":"` + strings.Repeat(" ", webhook.MaxStartCallBody) + `"}`, "larger than"},
	} {
		_, err := webhook.ParseStartCall([]byte(tc.body), nil)
		var ie *webhook.InvalidError
		if !errors.As(err, &ie) || !errors.Is(err, webhook.ErrInvalid) || !strings.Contains(ie.Detail, tc.detail) {
			name := tc.body
			if len(name) > 80 {
				name = name[:80] + "..."
			}
			t.Errorf("%s: %v, want an InvalidError saying %q", name, err, tc.detail)
		}
	}
}

func TestParseStartCallBounds(t *testing.T) {
	// Exactly at the depth bound parses; the variables count counts defaults too.
	atDepth := `{"phoneNumber":"+14155550123","a":` + strings.Repeat(`[`, webhook.MaxStartCallDepth-1) +
		strings.Repeat(`]`, webhook.MaxStartCallDepth-1) + `}`
	if _, err := webhook.ParseStartCall([]byte(atDepth), nil); err != nil {
		t.Fatalf("depth %d: %v", webhook.MaxStartCallDepth, err)
	}
	defaults := make([]webhook.AttachedVariable, webhook.MaxVariables)
	for i := range defaults {
		defaults[i] = webhook.AttachedVariable{Name: fmt.Sprintf("d%d", i)}
	}
	sc, err := webhook.ParseStartCall([]byte(`{"phoneNumber":"+14155550123","variable_values":{"d0":"x"}}`), defaults)
	if err != nil || len(sc.VariableValues) != webhook.MaxVariables || sc.VariableValues["d0"] != "x" {
		t.Fatalf("64 defaults, one overridden: %d, %v", len(sc.VariableValues), err)
	}
	if _, err := webhook.ParseStartCall([]byte(`{"phoneNumber":"+14155550123","variable_values":{"new":"x"}}`), defaults); err == nil {
		t.Fatal("65 variables accepted")
	}
	// Keys in nested objects may repeat across objects.
	if _, err := webhook.ParseStartCall([]byte(`{"phoneNumber":"+1","x":{"a":1},"y":{"a":1},"z":[{"a":1},{"a":2}]}`), nil); err != nil {
		t.Fatalf("same key in sibling objects: %v", err)
	}
}
