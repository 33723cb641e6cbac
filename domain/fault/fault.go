// Package fault holds the errors every feature shares: a record that is not there, a write that
// lost a race, a credential that stands for nobody, a dependency that did not answer, input that
// can never succeed. Features wrap or return them; transports map them to their own codes in one
// table (the HTTP adapter's errorTable).
package fault

import (
	"errors"
	"fmt"
)

var (
	// ErrUnauthenticated: no credential, or one that stands for nobody.
	ErrUnauthenticated = errors.New("invalid or missing API key")
	// ErrConflict: a save was based on a stale read; reload and try again.
	ErrConflict = errors.New("concurrent update")
	// ErrNotFound: a record named by id does not exist for the caller.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique value (an email, a line number) is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnavailable: a dependency the use case needs (the database) did not answer, or answered
	// that it cannot serve now. Nothing was changed by the failed call; the same request may
	// succeed once the dependency is back. Stores mark such errors so that errors.Is finds this
	// sentinel.
	ErrUnavailable = errors.New("database unavailable")
)

// InvalidInputError is input that can never succeed as sent; Detail says what to fix.
type InvalidInputError struct{ Detail string }

func (e *InvalidInputError) Error() string { return e.Detail }

// Invalidf is an *InvalidInputError with a formatted detail.
func Invalidf(format string, args ...any) error {
	return &InvalidInputError{Detail: fmt.Sprintf(format, args...)}
}
