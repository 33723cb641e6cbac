package webhook

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every InvalidError: input that can never succeed as sent.
var ErrInvalid = errors.New("invalid webhook input")

// InvalidError is a configuration or start-call body that is refused; Detail says what to fix and
// is safe to show the client (it never holds a token or secret).
type InvalidError struct{ Detail string }

func (e *InvalidError) Error() string { return e.Detail }

// Is makes errors.Is(err, ErrInvalid) hold for every InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &InvalidError{Detail: fmt.Sprintf(format, args...)}
}
