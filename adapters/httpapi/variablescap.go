package httpapi

import (
	"encoding/json"
	"errors"
)

// maxVariableValuesBytes bounds create_call's variable_values, as sent (its JSON text), below
// the body cap: the values are rendered into prompts and stored with every session.
const maxVariableValuesBytes = 16 << 10

// errVariablesTooLarge: variable_values is longer than maxVariableValuesBytes.
var errVariablesTooLarge = errors.New("variable_values too large")

// variablesTooLarge reports whether the variable_values of body, a create_call body that has
// already decoded, is longer than maxVariableValuesBytes. Only bodies longer than that are
// looked at again.
func variablesTooLarge(body []byte) bool {
	var v struct {
		VariableValues json.RawMessage `json:"variable_values"`
	}
	return json.Unmarshal(body, &v) == nil && len(v.VariableValues) > maxVariableValuesBytes
}
