package httpapi

import (
	"net/url"
	"strings"
)

// errMalformedQuery: a query string whose escapes do not decode.
var errMalformedQuery = invalid("Malformed query string")

// queryParams reads the values of a few keys from a raw query string in one pass, without the
// map url.ParseQuery builds. For each key the first value wins, as url.Values.Get has it; found
// tells a key sent empty from a key not sent. A value is unescaped as url.QueryUnescape does, so
// an unencoded "+" becomes a space (the phone number parser allows for that).
type queryParams struct {
	keys   []string
	values []string
	found  []bool
}

func (q *queryParams) parse(raw string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return errMalformedQuery
		}
		for i, want := range q.keys {
			if k != want || q.found[i] {
				continue
			}
			if v, err = url.QueryUnescape(v); err != nil {
				return errMalformedQuery
			}
			q.values[i], q.found[i] = v, true
			break
		}
	}
	return nil
}
