package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// readJSONObject decodes the request body, one JSON object, into v (a pointer to a struct). An
// absent or empty body reads as {}. Fields v does not name are ignored: Kupe's clients send
// more than this service reads. A field of the wrong type is a 422 that names the field, never
// its value (a credential may be in it).
func (s *server) readJSONObject(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return errBodyTooLarge
	}
	b := getBuf()
	defer putBuf(b)
	var err error
	if b.b, err = readAtMost(r.Body, b.b, s.cfg.MaxBodyBytes); err != nil {
		return err
	}
	raw := bytes.TrimSpace(b.b)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] != '{' {
		return invalid("Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			if isMap(fieldType(reflect.TypeOf(v), typ.Field)) {
				// encoding/json names the map, not the key, when a value is of the wrong type.
				return invalid(typ.Field + " values must each be " + jsonKind(typ.Type))
			}
			return invalid(typ.Field + " must be " + jsonKind(typ.Type))
		}
		return malformedBody(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("Request body must hold one JSON object and nothing after it")
	}
	return nil
}

// jsonKind names what a JSON value must be to decode into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}

// fieldType follows a dotted JSON field path ("agent.name") through t's struct fields by their
// json names; nil when it leads nowhere.
func fieldType(t reflect.Type, path string) reflect.Type {
	for _, name := range strings.Split(path, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		var next reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
				next = f.Type
				break
			}
		}
		t = next
	}
	return t
}

func isMap(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Map
}
