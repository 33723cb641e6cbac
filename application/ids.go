package application

import (
	"github.com/google/uuid"
)

// parseID checks that s, a client-supplied id, is a UUID and returns its canonical form. An
// empty s stays empty: the id was not given.
func parseID(name, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", invalidf("%s must be a UUID", name)
	}
	return id.String(), nil
}

// requireID is parseID for an id that must be given.
func requireID(name, s string) (string, error) {
	if s == "" {
		return "", invalidf("%s is required", name)
	}
	return parseID(name, s)
}

// NewID makes a random (version 4) UUID.
func NewID() string { return uuid.NewString() }
