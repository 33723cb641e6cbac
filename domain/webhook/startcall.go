package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Bounds on a start-call body. MaxVariables and MaxVariableValue match create_call's own limits
// on variable_values, so a body this parser accepts is not refused there for its variables.
const (
	MaxStartCallBody  = 64 << 10
	MaxStartCallDepth = 16
	MaxVariables      = 64
	maxDestinationLen = 64
)

// StartCall is a parsed start-call request: what create_call needs beside the agent.
type StartCall struct {
	// Destination is the number to call as sent (trimmed); create_call parses it as E.164.
	Destination string
	// PhoneNumberID is the line to call from, a lower-case UUID; empty lets create_call choose.
	PhoneNumberID string
	// VariableValues are the resolved variables: each a string, json.Number, bool or nil, the
	// types create_call's variable_values take. The start-call answer echoes them.
	VariableValues map[string]any
}

// The body fields that are not variables.
const (
	fieldPhoneNumber   = "phoneNumber"
	fieldToNumber      = "to_number"
	fieldPhoneNumber2  = "phone_number"
	fieldPhoneNumberID = "phone_number_id"
	fieldVarValues     = "variable_values"
	fieldVariables     = "variables"
	fieldContext       = "context_params"
)

var reservedBodyFields = map[string]bool{
	fieldPhoneNumber: true, fieldToNumber: true, fieldPhoneNumber2: true, fieldPhoneNumberID: true,
	fieldVarValues: true, fieldVariables: true, fieldContext: true,
}

// ParseStartCall reads a start-call body (Kupe's incomingWebhookStartOutbound): the destination
// from phoneNumber, to_number or phone_number (when more than one is given they must name the
// same number), the optional phone_number_id, and the variables, merged with later sources
// winning: the agent's attached_variables defaults, then the body's other top-level keys (those
// whose values are a string, number or boolean; objects, arrays and nulls there are the CRM's
// own data and are skipped), then context_params, then variables, then variable_values. Kupe's
// document says only that the request wins over the defaults; variable_values is the one it
// documents as the per-call overrides (and create_call's own name), so it wins over its aliases.
// Call it only once the signature has been checked.
func ParseStartCall(body []byte, defaults []AttachedVariable) (StartCall, error) {
	if len(body) > MaxStartCallBody {
		return StartCall{}, invalidf("body is larger than %d bytes", MaxStartCallBody)
	}
	if err := checkJSONShape(body); err != nil {
		return StartCall{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return StartCall{}, invalidf("body is not a JSON object")
	}
	var sc StartCall
	var err error
	if sc.Destination, err = destination(top); err != nil {
		return StartCall{}, err
	}
	if sc.PhoneNumberID, err = phoneNumberID(top[fieldPhoneNumberID]); err != nil {
		return StartCall{}, err
	}

	vars := make(map[string]any, len(defaults))
	for _, d := range defaults {
		vars[d.Name] = d.DefaultValue
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reservedBodyFields[k] || k == "" || len(k) > MaxVariableNameLen {
			continue
		}
		if v, ok := scalar(top[k]); ok && v != nil {
			if err := checkValue(k, v); err != nil {
				return StartCall{}, err
			}
			vars[k] = v
		}
	}
	for _, field := range []string{fieldContext, fieldVariables, fieldVarValues} {
		if err := mergeObject(vars, field, top[field]); err != nil {
			return StartCall{}, err
		}
	}
	if len(vars) > MaxVariables {
		return StartCall{}, invalidf("at most %d variables (attached defaults and the request's together)", MaxVariables)
	}
	if len(vars) > 0 {
		sc.VariableValues = vars
	}
	return sc, nil
}

func destination(top map[string]json.RawMessage) (string, error) {
	var dest, from string
	for _, field := range []string{fieldPhoneNumber, fieldToNumber, fieldPhoneNumber2} {
		raw, ok := top[field]
		if !ok {
			continue
		}
		v, isScalar := scalar(raw)
		var s string
		switch v := v.(type) {
		case nil:
			if !isScalar {
				return "", invalidf("%s must be a string", field)
			}
			continue
		case string:
			s = strings.TrimSpace(v)
		case json.Number:
			// A number sent as a JSON number (from a spreadsheet, say): its digits as written.
			if !allDigits(string(v)) {
				return "", invalidf("%s must be a string", field)
			}
			s = string(v)
		default:
			return "", invalidf("%s must be a string", field)
		}
		if s == "" {
			continue
		}
		if len(s) > maxDestinationLen {
			return "", invalidf("%s is longer than %d characters", field, maxDestinationLen)
		}
		if dest == "" {
			dest, from = s, field
			continue
		}
		if digitsOf(s) != digitsOf(dest) {
			return "", invalidf("%s and %s name different numbers; send one", from, field)
		}
	}
	if dest == "" {
		return "", invalidf("phoneNumber is required (or to_number or phone_number)")
	}
	return dest, nil
}

func phoneNumberID(raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", nil
	}
	v, _ := scalar(raw)
	switch v := v.(type) {
	case nil:
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return "", nil
		}
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		if s == "" {
			return "", nil
		}
		if isUUID(s) {
			return s, nil
		}
	}
	return "", invalidf("phone_number_id must be a UUID")
}

func mergeObject(vars map[string]any, field string, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if raw == nil || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return invalidf("%s must be an object", field)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return invalidf("%s must be an object", field)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || len(k) > MaxVariableNameLen {
			return invalidf("%s keys must be 1 to %d characters", field, MaxVariableNameLen)
		}
		v, ok := scalar(m[k])
		if !ok {
			return invalidf("%s[%q] must be a string, number or boolean", field, k)
		}
		if err := checkValue(k, v); err != nil {
			return err
		}
		vars[k] = v
	}
	return nil
}

func checkValue(k string, v any) error {
	var n int
	switch v := v.(type) {
	case string:
		n = len(v)
	case json.Number:
		n = len(v)
	}
	if n > MaxVariableValue {
		return invalidf("variable %q is longer than %d characters", k, MaxVariableValue)
	}
	return nil
}

// scalar decodes a JSON string, number, boolean or null (nil); ok is false for objects, arrays
// and anything unreadable.
func scalar(raw json.RawMessage) (v any, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return s, true
	case c == 't' || c == 'f':
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, false
		}
		return b, true
	case c == 'n':
		return nil, string(raw) == "null"
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return nil, false
		}
		return n, true
	}
	return nil, false
}

// checkJSONShape checks that body is one JSON object, nested at most MaxStartCallDepth deep,
// with no key given twice in any object: a signed body means one thing only.
func checkJSONShape(body []byte) error {
	if !utf8.Valid(body) {
		return invalidf("body is not valid UTF-8")
	}
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	started := false
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if started && len(stack) == 0 {
				return nil
			}
			return invalidf("body is not valid JSON")
		}
		if err != nil {
			return invalidf("body is not valid JSON")
		}
		if started && len(stack) == 0 {
			return invalidf("body holds more than one JSON value")
		}
		if !started {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return invalidf("body must be a JSON object")
			}
			started = true
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			if key, ok := tok.(string); ok {
				if _, dup := stack[n-1].keys[key]; dup {
					return invalidf("body gives the key %q twice", key)
				}
				stack[n-1].keys[key] = struct{}{}
				stack[n-1].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= MaxStartCallDepth {
				return invalidf("body is nested deeper than %d levels", MaxStartCallDepth)
			}
			obj := tok == json.Delim('{')
			f := frame{object: obj, expectKey: obj}
			if obj {
				f.keys = map[string]struct{}{}
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// digitsOf is a number's digits without its formatting: +1 (415) 555-0123 and 14155550123 are
// the same number to create_call.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
