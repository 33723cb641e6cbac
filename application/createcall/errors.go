package createcall

import (
	"errors"
)

// ErrInsufficientCredits: the caller's balance cannot start metered usage.
var ErrInsufficientCredits = errors.New("insufficient credits: add credits to place calls")
