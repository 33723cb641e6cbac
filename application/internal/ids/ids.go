// Package ids checks the record ids clients send (UUIDs, in their canonical form) and makes new
// ones, for every feature package under application/.
package ids

import (
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/fault"
)

// Parse checks that s, a client-supplied id, is a UUID and returns its canonical form. An empty
// s stays empty: the id was not given. name is the parameter's name, for the error's detail.
func Parse(name, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", fault.Invalidf("%s must be a UUID", name)
	}
	return id.String(), nil
}

// Require is Parse for an id that must be given.
func Require(name, s string) (string, error) {
	if s == "" {
		return "", fault.Invalidf("%s is required", name)
	}
	return Parse(name, s)
}

// New makes a random (version 4) UUID.
func New() string { return uuid.NewString() }
