package configs

import (
	"strings"
	"testing"
)

func TestWorkers(t *testing.T) {
	c, err := load(env(nil))
	if err != nil || c.Jobs.Workers != 10 {
		t.Fatalf("default workers = %d, %v; want 10", c.Jobs.Workers, err)
	}
	c, err = load(env(map[string]string{"KUPE_WORKERS": " 25 "}))
	if err != nil || c.Jobs.Workers != 25 {
		t.Fatalf("KUPE_WORKERS=25: %d, %v", c.Jobs.Workers, err)
	}
	for _, bad := range []string{"0", "-1", "ten", "1001", ""} {
		if _, err := load(env(map[string]string{"KUPE_WORKERS": bad})); err == nil || !strings.Contains(err.Error(), "KUPE_WORKERS") {
			t.Errorf("KUPE_WORKERS=%q: %v", bad, err)
		}
	}
}
