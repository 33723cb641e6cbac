package application

import (
	"errors"

	"github.com/kupe-voice/kupe/domain/fault"
)

// ErrInsufficientCredits: the caller's balance cannot start metered usage.
var ErrInsufficientCredits = errors.New("insufficient credits: add credits to place calls")

func invalidf(format string, args ...any) error { return fault.Invalidf(format, args...) }
