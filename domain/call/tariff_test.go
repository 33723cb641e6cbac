package call_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

func TestTariffCharge(t *testing.T) {
	nickel := money.Amount(50_000) // 0.05 a minute
	tests := []struct {
		name       string
		tariff     call.Tariff
		talk       time.Duration
		wantBilled int
		wantCost   money.Amount
	}{
		{"no talk", call.Tariff{PerMinute: nickel, IncrementSeconds: 60}, 0, 0, 0},
		{"one second is a started minute", call.Tariff{PerMinute: nickel, IncrementSeconds: 60}, time.Second, 60, 50_000},
		{"exactly a minute", call.Tariff{PerMinute: nickel, IncrementSeconds: 60}, time.Minute, 60, 50_000},
		{"62 seconds are two minutes", call.Tariff{PerMinute: nickel, IncrementSeconds: 60}, 62 * time.Second, 120, 100_000},
		{"a fraction of a second is a second", call.Tariff{PerMinute: nickel, IncrementSeconds: 1}, 1500 * time.Millisecond, 2, 1_667},
		{"per second", call.Tariff{PerMinute: nickel, IncrementSeconds: 1}, 62 * time.Second, 62, 51_667},
		{"six-second increments", call.Tariff{PerMinute: money.FromUnits(1), IncrementSeconds: 6}, 7 * time.Second, 12, 200_000},
		{"zero increment bills per second", call.Tariff{PerMinute: nickel}, 61 * time.Second, 61, 50_834},
		{"a millionth's fraction rounds up", call.Tariff{PerMinute: 1, IncrementSeconds: 1}, time.Second, 1, 1},
		{"free", call.Tariff{IncrementSeconds: 60}, time.Hour, 3600, 0},
		{"beyond int64 before the division", call.Tariff{PerMinute: money.Amount(math.MaxInt64 / 30), IncrementSeconds: 1},
			20 * time.Second, 20, money.Amount((math.MaxInt64/30*20 + 59) / 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			billed, cost, err := tt.tariff.Charge(tt.talk)
			if err != nil || billed != tt.wantBilled || cost != tt.wantCost {
				t.Fatalf("Charge(%v) = %d s, %v, %v; want %d s, %v", tt.talk, billed, cost, err, tt.wantBilled, tt.wantCost)
			}
		})
	}
	if _, _, err := (call.Tariff{PerMinute: -1, IncrementSeconds: 60}).Charge(time.Minute); !errors.Is(err, call.ErrInvalidTariff) {
		t.Fatalf("negative rate: %v", err)
	}
	if _, _, err := (call.Tariff{PerMinute: math.MaxInt64, IncrementSeconds: 60}).Charge(time.Hour); !errors.Is(err, call.ErrChargeOverflow) {
		t.Fatalf("huge charge: %v", err)
	}
}
