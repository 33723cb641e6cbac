package money_test

import (
	"testing"

	"github.com/kupe-voice/kupe/domain/money"
)

func TestParseAndPrint(t *testing.T) {
	for in, want := range map[string]string{
		"12": "12", "12.50": "12.5", "0.000001": "0.000001", "-3.25": "-3.25", "0": "0", " 7.1 ": "7.1", "-0.5": "-0.5",
	} {
		a, err := money.ParseAmount(in)
		if err != nil || a.String() != want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, in := range []string{"", "1.", ".5", "1.0000001", "abc", "1e3", "1,5", "--1", "12345678901234"} {
		if a, err := money.ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) = %v, want an error", in, a)
		}
	}
	if money.FromUnits(3) != 3_000_000 {
		t.Error("FromUnits")
	}
	b, _ := money.Amount(1_500_000).MarshalJSON()
	if string(b) != "1.5" {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.5", "-0.000001", "0", "1.", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := money.ParseAmount(s)
		if err != nil {
			return
		}
		back, err := money.ParseAmount(a.String())
		if err != nil || back != a {
			t.Fatalf("%q → %v → %v, %v", s, a, back, err)
		}
	})
}
