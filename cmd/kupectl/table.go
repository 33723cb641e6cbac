package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
)

// Output formats (-o): json, what scripts read, and table, for people.
const (
	outputJSON  = "json"
	outputTable = "table"
)

// splitOutput takes -o / --output (json or table) out of a command's arguments.
func splitOutput(args []string) (rest []string, format string, err error) {
	format = outputJSON
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, inline := strings.Cut(a, "=")
		if name != "-o" && name != "--o" && name != "-output" && name != "--output" {
			rest = append(rest, a)
			continue
		}
		if !inline {
			if i+1 == len(args) {
				return nil, "", usageError{name + " needs json or table"}
			}
			i++
			value = args[i]
		}
		if value != outputJSON && value != outputTable {
			return nil, "", usageError{fmt.Sprintf("%s %q: want json or table", name, value)}
		}
		format = value
	}
	return rest, format, nil
}

// writeTable prints v, as it encodes to JSON, for people: an object as FIELD and VALUE rows, a
// list of objects as one row each under their fields' names. Values that are objects or lists
// themselves are shown as compact JSON, text on one line.
func writeTable(w io.Writer, v any) error {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch raw = bytes.TrimSpace(raw); {
	case len(raw) > 0 && raw[0] == '{':
		fields, err := objectFields(raw)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "FIELD\tVALUE")
		for _, f := range fields {
			fmt.Fprintf(tw, "%s\t%s\n", f.name, cell(f.value))
		}
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		var header []string
		rows := make([]map[string]json.RawMessage, 0, len(items))
		for _, it := range items {
			fields, err := objectFields(it)
			if err != nil {
				return err
			}
			row := map[string]json.RawMessage{}
			for _, f := range fields {
				if _, seen := row[f.name]; !seen && !containsString(header, f.name) {
					header = append(header, f.name)
				}
				row[f.name] = f.value
			}
			rows = append(rows, row)
		}
		if len(header) == 0 {
			header = jsonFieldNames(reflect.TypeOf(v))
		}
		if len(header) == 0 {
			fmt.Fprintln(tw, "(none)")
			break
		}
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
		for _, row := range rows {
			cells := make([]string, len(header))
			for i, h := range header {
				cells[i] = cell(row[h])
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	default:
		fmt.Fprintln(tw, cell(raw))
	}
	return tw.Flush()
}

type field struct {
	name  string
	value json.RawMessage
}

// objectFields reads a JSON object's members in the order they are written.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %.40s", raw)
	}
	var out []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{name: t.(string), value: v})
	}
	return out, nil
}

// cell is a JSON value as a table shows it: text as is (on one line), null and nothing as "-",
// anything else as compact JSON.
func cell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "-"
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			if s == "" {
				return "-"
			}
			return strings.Join(strings.Fields(s), " ")
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

// jsonFieldNames are the JSON names of a slice's struct elements, for the header of an empty
// list.
func jsonFieldNames(t reflect.Type) []string {
	if t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return nil
	}
	el := t.Elem()
	for el.Kind() == reflect.Pointer {
		el = el.Elem()
	}
	if el.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range el.NumField() {
		f := el.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
