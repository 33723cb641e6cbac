package carrierhttp

import (
	"math"
	"testing"
	"time"
)

func TestCallDuration(t *testing.T) {
	for in, want := range map[int64]time.Duration{62: 62 * time.Second, 86400: 24 * time.Hour} {
		if d, ok := CallDuration(in); !ok || d != want {
			t.Errorf("CallDuration(%d) = %v, %v", in, d, ok)
		}
	}
	// 9227000000 seconds overflowed time.Duration into a negative value before this bound.
	for _, in := range []int64{0, -5, 86401, 9227000000, math.MaxInt64} {
		if d, ok := CallDuration(in); ok || d != 0 {
			t.Errorf("CallDuration(%d) = %v, %v; want refused", in, d, ok)
		}
	}
}
