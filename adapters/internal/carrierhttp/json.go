package carrierhttp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Text reads a JSON string, number or boolean as trimmed text, so that a field a carrier sends
// as "34001" one day and 34001 the next reads the same. null, an object or an array read as
// empty instead of failing the whole answer.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")) || b[0] == '{' || b[0] == '[':
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Text(strings.TrimSpace(v))
	default: // a number or a boolean: its literal text
		*s = Text(b)
	}
	return nil
}

// Int is the text as a decimal integer, 0 when it is not one.
func (s Text) Int() int {
	n, err := strconv.Atoi(string(s))
	if err != nil {
		return 0
	}
	return n
}

// MaxID bounds a carrier's id for a call or a queued lead: real ones are a few dozen characters.
const MaxID = 128

// ValidID accepts a carrier id fit to store and log as a leg id: 1 to MaxID printable ASCII
// characters without spaces.
func ValidID(s string) bool {
	if s == "" || len(s) > MaxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
