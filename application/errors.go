package application

import (
	"errors"
	"fmt"
)

// Errors the use cases return beside the domain's own sentinels.
var (
	// ErrUnauthenticated: no credential, or one that stands for nobody.
	ErrUnauthenticated = errors.New("invalid or missing API key")
	// ErrInsufficientCredits: the caller's balance cannot start metered usage.
	ErrInsufficientCredits = errors.New("insufficient credits: add credits to place calls")
	// ErrConflict: a save was based on a stale read; reload and try again.
	ErrConflict = errors.New("concurrent update")
	// ErrNotFound: a record named by id does not exist for the caller.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique value (an email, a line number) is taken.
	ErrAlreadyExists = errors.New("already exists")
)

// InvalidInputError is input that can never succeed as sent; Detail says what to fix.
type InvalidInputError struct{ Detail string }

func (e *InvalidInputError) Error() string { return e.Detail }

func invalidf(format string, args ...any) error {
	return &InvalidInputError{Detail: fmt.Sprintf(format, args...)}
}
