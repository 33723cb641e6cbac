package carrierhttp

import "time"

// MaxCallDuration bounds a duration a carrier reports: no call we place may run a day (the
// carriers' own time limits are far lower), so a larger figure is garbage, and believing it would
// overflow time.Duration or charge for time never talked.
const MaxCallDuration = 24 * time.Hour

// CallDuration turns a carrier's whole seconds into a duration, and reports false for a value
// that is not a plausible call length (zero, negative, or over MaxCallDuration).
func CallDuration(seconds int64) (time.Duration, bool) {
	if seconds <= 0 || seconds > int64(MaxCallDuration/time.Second) {
		return 0, false
	}
	return time.Duration(seconds) * time.Second, true
}
