package call

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/fault"
)

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions("", "", "")
	if err != nil || o != (Options{}) || o.Asked() != nil {
		t.Fatalf("no options = %+v, %v (asked %v)", o, err, o.Asked())
	}
	o, err = ParseOptions("5", "14400", "detect_end_of_greeting")
	if err != nil || o.RingTimeout != 5*time.Second || o.MaxDuration != 4*time.Hour || o.MachineDetection != MachineDetectionEndOfGreeting {
		t.Fatalf("all options = %+v, %v", o, err)
	}
	if got := o.Asked(); !reflect.DeepEqual(got, []string{OptionRingTimeout, OptionMaxDuration, OptionMachineDetection}) {
		t.Fatalf("Asked = %v", got)
	}
	o, err = ParseOptions(" 120 ", "10", "off")
	if err != nil || o.RingTimeout != 2*time.Minute || o.MaxDuration != 10*time.Second || o.MachineDetection != MachineDetectionOff {
		t.Fatalf("bounds = %+v, %v", o, err)
	}
	for _, tc := range []struct{ ring, max, amd, name string }{
		{"4", "", "", OptionRingTimeout}, {"121", "", "", OptionRingTimeout}, {"5.5", "", "", OptionRingTimeout},
		{"ten", "", "", OptionRingTimeout}, {"", "9", "", OptionMaxDuration}, {"", "14401", "", OptionMaxDuration},
		{"", "-10", "", OptionMaxDuration}, {"", "", "yes", OptionMachineDetection}, {"", "", "DETECT", OptionMachineDetection},
	} {
		_, err := ParseOptions(tc.ring, tc.max, tc.amd)
		var inv *fault.InvalidInputError
		if !errors.As(err, &inv) || !strings.Contains(inv.Detail, tc.name) {
			t.Errorf("ParseOptions(%q, %q, %q) = %v, want an invalid input naming %s", tc.ring, tc.max, tc.amd, err, tc.name)
		}
	}
}

func TestAnsweredBy(t *testing.T) {
	for _, name := range []string{"human", "machine", "unknown"} {
		a, err := ParseAnsweredBy(name)
		if err != nil || !a.Valid() || a.String() != name {
			t.Errorf("ParseAnsweredBy(%q) = %v, %v", name, a, err)
		}
	}
	if _, err := ParseAnsweredBy("fax"); err == nil {
		t.Error("ParseAnsweredBy(fax) succeeded")
	}
	var zero AnsweredBy
	if zero.Valid() || zero.String() != "" {
		t.Errorf("zero AnsweredBy: valid %v, %q", zero.Valid(), zero.String())
	}
	s := NewSession(Session{ID: "s"}, time.Unix(0, 0))
	if !s.RecordAnsweredBy(AnsweredByMachine, time.Unix(5, 0)) || s.AnsweredBy != AnsweredByMachine {
		t.Fatal("first result not recorded")
	}
	if s.RecordAnsweredBy(AnsweredByHuman, time.Unix(6, 0)) || s.AnsweredBy != AnsweredByMachine {
		t.Fatal("a later result replaced the first")
	}
	if s.RecordAnsweredBy(zero, time.Unix(7, 0)) {
		t.Fatal("no result recorded as one")
	}
}
