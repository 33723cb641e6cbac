// Package money holds amounts of customer credit as exact integers, never floats.
package money

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Scale is how many Amount units make one unit of currency: amounts are counted in millionths.
const Scale = 1_000_000

// Amount is a quantity of credit in millionths of a currency unit. It may be negative (a balance
// overdrawn by a call that ran longer than the credit left).
type Amount int64

// ErrInvalidAmount is returned for text that is not a decimal amount with at most six places.
var ErrInvalidAmount = errors.New("invalid amount: want a decimal number such as 12.50")

// FromUnits is a whole number of currency units.
func FromUnits(n int64) Amount { return Amount(n * Scale) }

// ParseAmount reads "12", "12.5" or "-0.000001".
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || (hasDot && frac == "") || len(whole) > 12 {
		return 0, ErrInvalidAmount
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, ErrInvalidAmount
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, ErrInvalidAmount
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	a := Amount(w*Scale + f)
	if neg {
		a = -a
	}
	return a, nil
}

// String prints the amount as a plain decimal with no trailing zeros: "12.5", "-0.000001", "0".
func (a Amount) String() string {
	if a == math.MinInt64 {
		return "-9223372036854.775808"
	}
	neg := a < 0
	if neg {
		a = -a
	}
	s := strconv.FormatInt(int64(a/Scale), 10)
	if f := int64(a % Scale); f != 0 {
		fs := strconv.FormatInt(f+Scale, 10)[1:]
		s += "." + strings.TrimRight(fs, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Positive reports whether the amount is above zero.
func (a Amount) Positive() bool { return a > 0 }

// MarshalJSON writes the amount as a JSON number with exact decimals.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }
