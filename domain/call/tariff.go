package call

import (
	"errors"
	"math"
	"math/bits"
	"time"

	"github.com/kupe-voice/kupe/domain/money"
)

// Tariff prices a call's talk time: PerMinute for each minute, billed in whole increments of
// IncrementSeconds, every increment begun charged in full. An increment of 60 bills per started
// minute, 1 per second.
type Tariff struct {
	PerMinute        money.Amount
	IncrementSeconds int
}

// ErrInvalidTariff is a tariff that cannot price anything: a negative rate or increment.
var ErrInvalidTariff = errors.New("invalid tariff: want a rate of zero or more and an increment of at least one second")

// ErrChargeOverflow is a charge too large to count in a money.Amount.
var ErrChargeOverflow = errors.New("call charge overflows")

// Charge prices talk: the seconds billed (talk rounded up to whole seconds, then up to the
// increment) and their cost, rounded up to the next millionth. Integers throughout, so the same
// call always costs the same. A zero increment bills per second.
func (t Tariff) Charge(talk time.Duration) (billedSeconds int, cost money.Amount, err error) {
	if t.PerMinute < 0 || t.IncrementSeconds < 0 {
		return 0, 0, ErrInvalidTariff
	}
	if talk <= 0 {
		return 0, 0, nil
	}
	inc := int64(max(t.IncrementSeconds, 1))
	secs := int64((talk + time.Second - 1) / time.Second)
	billed := (secs + inc - 1) / inc * inc
	// billed × rate can pass 2⁶³: multiply into 128 bits, then divide by 60 rounding up.
	hi, lo := bits.Mul64(uint64(billed), uint64(t.PerMinute))
	if hi >= 60 {
		return 0, 0, ErrChargeOverflow
	}
	q, r := bits.Div64(hi, lo, 60)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 || billed > math.MaxInt32 {
		return 0, 0, ErrChargeOverflow
	}
	return int(billed), money.Amount(q), nil
}
