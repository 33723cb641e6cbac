package configs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSimulatedDefaults(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := SimulatedConfig{Reject: []string{"+14155550199"}, Busy: []string{"+14155550198"}, NoAnswer: []string{"+14155550197"},
		Machine: []string{"+14155550196"}, RingAfter: time.Second, Talk: 5 * time.Second, RingTimeout: 3 * time.Second}
	if !reflect.DeepEqual(c.Carriers.Simulated, want) {
		t.Fatalf("simulated defaults %+v, want %+v", c.Carriers.Simulated, want)
	}
}

func TestSimulatedOverrides(t *testing.T) {
	c, err := load(env(map[string]string{
		"KUPE_SIMULATED_BUSY": "+14155550111, +919876543210", "KUPE_SIMULATED_NO_ANSWER": "", "KUPE_SIMULATED_MACHINE": "+14155550112",
		"KUPE_SIMULATED_RING_AFTER": "250ms", "KUPE_SIMULATED_TALK": "90s", "KUPE_SIMULATED_RING_TIMEOUT": "20s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	sc := c.Carriers.Simulated
	if !reflect.DeepEqual(sc.Busy, []string{"+14155550111", "+919876543210"}) || sc.NoAnswer != nil ||
		!reflect.DeepEqual(sc.Machine, []string{"+14155550112"}) || sc.RingAfter != 250*time.Millisecond ||
		sc.Talk != 90*time.Second || sc.RingTimeout != 20*time.Second || len(sc.Reject) != 1 {
		t.Fatalf("overrides: %+v", sc)
	}
}

func TestSimulatedSettingsRefused(t *testing.T) {
	for _, tc := range []map[string]string{
		{"KUPE_SIMULATED_REJECT": "+1 415 555 0199"}, {"KUPE_SIMULATED_BUSY": "4155550198"},
		{"KUPE_SIMULATED_NO_ANSWER": "+1415555019x"}, {"KUPE_SIMULATED_MACHINE": "machine"},
		{"KUPE_SIMULATED_RING_AFTER": "0s"}, {"KUPE_SIMULATED_RING_AFTER": "soon"}, {"KUPE_SIMULATED_TALK": "-5s"},
		{"KUPE_SIMULATED_RING_TIMEOUT": "2h"},
	} {
		var name string
		for k := range tc {
			name = k
		}
		if _, err := load(env(tc)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", tc, err, name)
		}
	}
}
