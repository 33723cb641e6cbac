package campaign_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/campaign"
)

func TestNewRetryPolicy(t *testing.T) {
	p, err := campaign.NewRetryPolicy(0, nil, 0)
	if err != nil || p.MaxAttempts() != 1 || p.Backoff() != 600*time.Second || !slices.Equal(p.On(), []string{"busy", "no_answer"}) {
		t.Fatalf("defaults: %d %v %v, %v", p.MaxAttempts(), p.Backoff(), p.On(), err)
	}
	p, err = campaign.NewRetryPolicy(5, []string{"failed", "BUSY", "no_answer"}, 86400)
	if err != nil || p.MaxAttempts() != 5 || p.Backoff() != 24*time.Hour || !slices.Equal(p.On(), []string{"busy", "no_answer", "failed"}) {
		t.Fatalf("full: %d %v %v, %v", p.MaxAttempts(), p.Backoff(), p.On(), err)
	}
	bad := []struct {
		attempts int
		on       []string
		backoff  int
	}{
		{6, nil, 0}, {-1, nil, 0}, {3, nil, -1}, {3, nil, 86401},
		{3, []string{"completed"}, 0}, {3, []string{"canceled"}, 0}, {3, []string{"busy", "busy"}, 0},
		{3, []string{"calling"}, 0}, {3, []string{""}, 0}, {3, []string{"busy", "no_answer", "failed", "busy"}, 0},
	}
	for _, c := range bad {
		if _, err := campaign.NewRetryPolicy(c.attempts, c.on, c.backoff); !errors.Is(err, campaign.ErrInvalidRetry) {
			t.Errorf("NewRetryPolicy(%d, %q, %d) = %v, want ErrInvalidRetry", c.attempts, c.on, c.backoff, err)
		}
	}
}

func TestRetryPolicyNextDoublesTheBackoff(t *testing.T) {
	p, err := campaign.NewRetryPolicy(5, []string{"busy"}, 600)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 6, 7, 12, 0, 0, 0, time.UTC)
	for attempt, wait := range map[int]time.Duration{1: 10 * time.Minute, 2: 20 * time.Minute, 3: 40 * time.Minute, 4: 80 * time.Minute} {
		next, ok := p.Next(attempt, campaign.RowBusy, now)
		if !ok || !next.Equal(now.Add(wait)) {
			t.Errorf("Next(%d, busy) = %v, %v; want now+%v", attempt, next, ok, wait)
		}
	}
	if _, ok := p.Next(5, campaign.RowBusy, now); ok {
		t.Error("a sixth attempt of five")
	}
	if _, ok := p.Next(1, campaign.RowNoAnswer, now); ok {
		t.Error("retried no_answer, which the policy does not name")
	}
	for _, st := range []campaign.RowStatus{campaign.RowCompleted, campaign.RowCanceled, campaign.RowCalling, campaign.RowNotStarted} {
		if _, ok := p.Next(1, st, now); ok {
			t.Errorf("retried after %s", st)
		}
	}
	if _, ok := p.Next(0, campaign.RowBusy, now); ok {
		t.Error("Next(0) has no attempt to follow")
	}
}

func TestRetryPolicyDefaultsDialOnce(t *testing.T) {
	now := time.Date(2027, 6, 7, 12, 0, 0, 0, time.UTC)
	for name, p := range map[string]campaign.RetryPolicy{"zero": {}, "default": campaign.DefaultRetryPolicy()} {
		if _, ok := p.Next(1, campaign.RowBusy, now); ok || p.MaxAttempts() != 1 {
			t.Errorf("%s policy retries", name)
		}
	}
	// max_attempts 3 with no outcomes named: busy and no_answer, three calls in all.
	p, _ := campaign.NewRetryPolicy(3, nil, 60)
	n := 1
	for at := now; ; n++ {
		next, ok := p.Next(n, campaign.RowBusy, at)
		if !ok {
			break
		}
		at = next
	}
	if n != 3 {
		t.Errorf("a busy row is dialled %d times, want 3", n)
	}
	if _, ok := p.Next(1, campaign.RowFailed, now); ok {
		t.Error("failed is retried without being named")
	}
}
