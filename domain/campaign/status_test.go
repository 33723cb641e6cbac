package campaign_test

import (
	"errors"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

var allBatch = []campaign.BatchStatus{campaign.BatchNotStarted, campaign.BatchScheduled, campaign.BatchInProgress,
	campaign.BatchPaused, campaign.BatchCompleted, campaign.BatchCanceled}

func TestBatchStatusNames(t *testing.T) {
	for _, s := range allBatch {
		got, err := campaign.ParseBatchStatus(s.String())
		if err != nil || got != s {
			t.Errorf("ParseBatchStatus(%s) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "running", "Completed", "in-progress"} {
		if _, err := campaign.ParseBatchStatus(bad); err == nil {
			t.Errorf("ParseBatchStatus(%q) accepted", bad)
		}
	}
	var zero campaign.BatchStatus
	if zero.Valid() || zero.CanMove(campaign.BatchInProgress) {
		t.Error("the zero status is valid")
	}
}

func TestBatchTransitions(t *testing.T) {
	type op struct {
		name string
		do   func(campaign.BatchStatus) (campaign.BatchStatus, error)
		from map[campaign.BatchStatus]campaign.BatchStatus // allowed: from → to
	}
	ops := []op{
		{"Start(now)", func(s campaign.BatchStatus) (campaign.BatchStatus, error) { return s.Start(false) },
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchNotStarted: campaign.BatchInProgress}},
		{"Start(later)", func(s campaign.BatchStatus) (campaign.BatchStatus, error) { return s.Start(true) },
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchNotStarted: campaign.BatchScheduled}},
		{"Begin", campaign.BatchStatus.Begin,
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchScheduled: campaign.BatchInProgress}},
		{"Pause", campaign.BatchStatus.Pause, map[campaign.BatchStatus]campaign.BatchStatus{
			campaign.BatchScheduled: campaign.BatchPaused, campaign.BatchInProgress: campaign.BatchPaused}},
		{"Resume(now)", func(s campaign.BatchStatus) (campaign.BatchStatus, error) { return s.Resume(false) },
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchPaused: campaign.BatchInProgress}},
		{"Resume(later)", func(s campaign.BatchStatus) (campaign.BatchStatus, error) { return s.Resume(true) },
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchPaused: campaign.BatchScheduled}},
		{"Complete", campaign.BatchStatus.Complete,
			map[campaign.BatchStatus]campaign.BatchStatus{campaign.BatchInProgress: campaign.BatchCompleted}},
		{"Cancel", campaign.BatchStatus.Cancel, map[campaign.BatchStatus]campaign.BatchStatus{
			campaign.BatchNotStarted: campaign.BatchCanceled, campaign.BatchScheduled: campaign.BatchCanceled,
			campaign.BatchInProgress: campaign.BatchCanceled, campaign.BatchPaused: campaign.BatchCanceled}},
	}
	for _, o := range ops {
		for _, from := range allBatch {
			got, err := o.do(from)
			want, allowed := o.from[from]
			switch {
			case allowed && (err != nil || got != want):
				t.Errorf("%s from %s = %s, %v; want %s", o.name, from, got, err, want)
			case !allowed:
				var te *campaign.BatchTransitionError
				if !errors.As(err, &te) || te.From != from || got != from {
					t.Errorf("%s from %s = %s, %v; want a BatchTransitionError", o.name, from, got, err)
				}
			}
		}
	}
	for _, s := range allBatch {
		if s.Final() != (s == campaign.BatchCompleted || s == campaign.BatchCanceled) {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
		if s.Final() {
			for _, to := range allBatch {
				if s.CanMove(to) {
					t.Errorf("final %s may move to %s", s, to)
				}
			}
		}
	}
}

func TestRowTransitions(t *testing.T) {
	all := campaign.AllRowStatuses()
	for _, s := range all {
		got, err := campaign.ParseRowStatus(s.String())
		if err != nil || got != s {
			t.Errorf("ParseRowStatus(%s) = %v, %v", s, got, err)
		}
		dial, err := s.Dial()
		if wantOK := s == campaign.RowNotStarted || s.Retryable(); (err == nil) != wantOK || (wantOK && dial != campaign.RowCalling) {
			t.Errorf("%s.Dial() = %s, %v", s, dial, err)
		}
		cancel, err := s.Cancel()
		if wantOK := s == campaign.RowNotStarted || s.Retryable(); (err == nil) != wantOK || (wantOK && cancel != campaign.RowCanceled) {
			t.Errorf("%s.Cancel() = %s, %v", s, cancel, err)
		}
		for _, out := range all {
			got, err := s.Settle(out)
			wantOK := s == campaign.RowCalling && out.Outcome()
			if (err == nil) != wantOK || (wantOK && got != out) {
				t.Errorf("%s.Settle(%s) = %s, %v", s, out, got, err)
			}
			var te *campaign.RowTransitionError
			if !wantOK && (!errors.As(err, &te) || got != s) {
				t.Errorf("%s.Settle(%s): want a RowTransitionError, got %v", s, out, err)
			}
		}
	}
	if _, err := campaign.ParseRowStatus("dialing"); err == nil {
		t.Error("ParseRowStatus(dialing) accepted")
	}
}

func TestOutcomeOf(t *testing.T) {
	want := map[call.Status]campaign.RowStatus{
		call.StatusCompleted: campaign.RowCompleted, call.StatusBusy: campaign.RowBusy,
		call.StatusNoAnswer: campaign.RowNoAnswer, call.StatusFailed: campaign.RowFailed,
		call.StatusCanceled: campaign.RowFailed,
	}
	for _, st := range call.AllStatuses() {
		got, ok := campaign.OutcomeOf(st)
		w, final := want[st]
		if ok != final || (ok && got != w) {
			t.Errorf("OutcomeOf(%s) = %s, %v", st, got, ok)
		}
		if ok != st.Terminal() {
			t.Errorf("OutcomeOf(%s) ok = %v but Terminal = %v", st, ok, st.Terminal())
		}
	}
}

func TestBatchSizeAndTarget(t *testing.T) {
	for _, n := range []int{1, 50, 100} {
		if s, err := campaign.NewBatchSize(n); err != nil || s.Int() != n {
			t.Errorf("NewBatchSize(%d) = %v, %v", n, s, err)
		}
	}
	for _, n := range []int{0, -1, 101} {
		if _, err := campaign.NewBatchSize(n); !errors.Is(err, campaign.ErrInvalidBatchSize) {
			t.Errorf("NewBatchSize(%d) = %v", n, err)
		}
	}
	if tg, err := campaign.NewTarget("a", ""); err != nil || tg.AgentID() != "a" || tg.WorkflowID() != "" {
		t.Errorf("agent target: %v, %v", tg, err)
	}
	if tg, err := campaign.NewTarget("", "w"); err != nil || tg.WorkflowID() != "w" || tg.AgentID() != "" {
		t.Errorf("workflow target: %v, %v", tg, err)
	}
	for _, c := range [][2]string{{"", ""}, {"a", "w"}} {
		if _, err := campaign.NewTarget(c[0], c[1]); !errors.Is(err, campaign.ErrTarget) {
			t.Errorf("NewTarget(%q, %q) = %v", c[0], c[1], err)
		}
	}
}
