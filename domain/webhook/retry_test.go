package webhook_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/webhook"
)

func TestClassify(t *testing.T) {
	netErr := errors.New("connection refused")
	for _, tc := range []struct {
		status int
		err    error
		want   webhook.Outcome
	}{
		{200, nil, webhook.Delivered}, {201, nil, webhook.Delivered}, {204, nil, webhook.Delivered}, {299, nil, webhook.Delivered},
		{0, netErr, webhook.Retryable}, {500, netErr, webhook.Retryable},
		{408, nil, webhook.Retryable}, {429, nil, webhook.Retryable}, {500, nil, webhook.Retryable},
		{502, nil, webhook.Retryable}, {503, nil, webhook.Retryable}, {599, nil, webhook.Retryable},
		{400, nil, webhook.Rejected}, {401, nil, webhook.Rejected}, {403, nil, webhook.Rejected},
		{404, nil, webhook.Rejected}, {410, nil, webhook.Rejected}, {422, nil, webhook.Rejected},
		{301, nil, webhook.Rejected}, {302, nil, webhook.Rejected}, {100, nil, webhook.Rejected},
		{600, nil, webhook.Rejected}, {0, nil, webhook.Rejected},
	} {
		got := webhook.Classify(tc.status, tc.err)
		if got != tc.want {
			t.Errorf("Classify(%d, %v) = %v, want %v", tc.status, tc.err, got, tc.want)
		}
		if got.Retry() != (tc.want == webhook.Retryable) {
			t.Errorf("%v.Retry() = %v", got, got.Retry())
		}
	}
}

func TestScheduleNominal(t *testing.T) {
	s, err := webhook.NewRetrySchedule(webhook.DefaultRetryBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
		6 * time.Hour, 6 * time.Hour, 6 * time.Hour}
	for i, w := range want {
		if got := s.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
	// Scaled down for tests: the same shape from a 100 ms base.
	fast, _ := webhook.NewRetrySchedule(100*time.Millisecond, nil)
	if fast.Delay(1) != 100*time.Millisecond || fast.Delay(6) != 216*time.Second || fast.Base() != 100*time.Millisecond {
		t.Fatalf("fast schedule: %v %v", fast.Delay(1), fast.Delay(6))
	}
	for _, bad := range []time.Duration{0, -time.Second, math.MaxInt64 / 100} {
		if _, err := webhook.NewRetrySchedule(bad, nil); err == nil {
			t.Errorf("base %v accepted", bad)
		}
	}
}

func TestScheduleJitter(t *testing.T) {
	var r float64
	s, _ := webhook.NewRetrySchedule(10*time.Second, func() float64 { return r })
	for _, tc := range []struct {
		r    float64
		want time.Duration
	}{
		{0, 8 * time.Second}, {0.5, 10 * time.Second}, {0.75, 11 * time.Second},
		{math.Nextafter(1, 0), 12 * time.Second}, // just under 1.2x, rounded below
		// A broken source gets the nominal delay.
		{-1, 10 * time.Second}, {1, 10 * time.Second}, {math.NaN(), 10 * time.Second}, {math.Inf(1), 10 * time.Second},
	} {
		r = tc.r
		got := s.Delay(1)
		if d := got - tc.want; d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("r=%v: Delay(1) = %v, want %v", tc.r, got, tc.want)
		}
	}
	r = 0
	if got := s.Delay(6); got != 4*time.Hour+48*time.Minute {
		t.Errorf("Delay(6) with r=0 = %v, want 4h48m", got)
	}
}

func TestScheduleNext(t *testing.T) {
	s, _ := webhook.NewRetrySchedule(time.Second, nil)
	for _, tc := range []struct {
		attempt, retryCount int
		o                   webhook.Outcome
		delay               time.Duration
		retry               bool
	}{
		{1, 5, webhook.Retryable, time.Second, true},
		{2, 5, webhook.Retryable, 6 * time.Second, true},
		{5, 5, webhook.Retryable, 720 * time.Second, true},
		{6, 5, webhook.Retryable, 0, false}, // five retries made: six attempts in all
		{1, 0, webhook.Retryable, 0, false},
		{8, 8, webhook.Retryable, 2160 * time.Second, true},
		{9, 8, webhook.Retryable, 0, false},
		{1, 5, webhook.Rejected, 0, false},
		{1, 5, webhook.Delivered, 0, false},
		{0, 5, webhook.Retryable, 0, false},
	} {
		d, retry := s.Next(tc.attempt, tc.o, tc.retryCount)
		if d != tc.delay || retry != tc.retry {
			t.Errorf("Next(%d, %v, %d) = %v, %v; want %v, %v", tc.attempt, tc.o, tc.retryCount, d, retry, tc.delay, tc.retry)
		}
	}
}

func TestHealthDisablesAfterADayOfFailures(t *testing.T) {
	t0 := time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)
	var h webhook.Health
	h = h.Record(t0, webhook.Retryable)
	if _, off := h.Disable(); off {
		t.Fatal("one failure disabled the endpoint")
	}
	h = h.Record(t0.Add(23*time.Hour), webhook.Rejected)
	if _, off := h.Disable(); off {
		t.Fatal("23 hours of failures disabled the endpoint")
	}
	h = h.Record(t0.Add(24*time.Hour), webhook.Retryable)
	reason, off := h.Disable()
	if !off || !strings.Contains(reason, "2026-07-15T10:00:00Z") || !strings.Contains(reason, "3 attempts") {
		t.Fatalf("after 24 hours: %q, %v", reason, off)
	}
}

func TestHealthDeliveryResets(t *testing.T) {
	t0 := time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)
	h := webhook.Health{}.Record(t0, webhook.Retryable).
		Record(t0.Add(12*time.Hour), webhook.Delivered).
		Record(t0.Add(13*time.Hour), webhook.Retryable).
		Record(t0.Add(25*time.Hour), webhook.Retryable)
	if _, off := h.Disable(); off || !h.FailingSince.Equal(t0.Add(13*time.Hour)) || h.Failures != 2 {
		t.Fatalf("a delivery at 12h did not restart the streak: %+v", h)
	}
	h = h.Record(t0.Add(37*time.Hour), webhook.Retryable)
	if _, off := h.Disable(); !off {
		t.Fatalf("24h after the streak began: %+v", h)
	}
	if h = h.Record(t0.Add(38*time.Hour), webhook.Delivered); h.Failures != 0 || !h.FailingSince.IsZero() {
		t.Fatalf("delivery did not clear: %+v", h)
	}
}

func TestHealthOutOfOrder(t *testing.T) {
	t0 := time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)
	// A failure older than the last delivery does not start a streak.
	h := webhook.Health{}.Record(t0.Add(time.Hour), webhook.Delivered).Record(t0, webhook.Retryable)
	if !h.FailingSince.IsZero() || h.Failures != 0 {
		t.Fatalf("old failure counted: %+v", h)
	}
	// Failures recorded latest-first still span from the earliest.
	h = webhook.Health{}.Record(t0.Add(30*time.Hour), webhook.Retryable).Record(t0.Add(5*time.Hour), webhook.Retryable)
	if _, off := h.Disable(); !off {
		t.Fatalf("out-of-order failures 25h apart: %+v", h)
	}
	// A delivery recorded after a later failure: the streak restarts at that failure.
	h = webhook.Health{}.Record(t0, webhook.Retryable).Record(t0.Add(20*time.Hour), webhook.Retryable).
		Record(t0.Add(10*time.Hour), webhook.Delivered).Record(t0.Add(30*time.Hour), webhook.Retryable)
	if _, off := h.Disable(); off || !h.FailingSince.Equal(t0.Add(20*time.Hour)) {
		t.Fatalf("delivery in the middle: %+v", h)
	}
	// A delivery older than the streak changes nothing.
	before := h
	if h = h.Record(t0.Add(time.Hour), webhook.Delivered); h.FailingSince != before.FailingSince || h.Failures != before.Failures {
		t.Fatalf("old delivery cleared the streak: %+v", h)
	}
}
