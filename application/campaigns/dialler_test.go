package campaigns_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/money"
)

// TestThousandRowCampaign is the first "done when": on the embedded default (SQLite),
// a 1,000-row campaign with batch_size 10 completes, with never more than 10 calls in flight
// and each row dialled once.
func TestThousandRowCampaign(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	r := newRig(t, sqliteDSN(t), clk, newCarrier(), rigOptions{})
	o := r.owner(money.FromUnits(1000))
	nums := numbers("+1415555", 1000, 1000)
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 10, VariableNames: []string{"name"}},
		csvOf("to_phonenumber,name", nums, func(i int) string { return "Ada" }))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	c := r.waitStatus(o, b.ID, campaign.BatchCompleted)
	if c.Total != 1000 || c.Of(campaign.RowCompleted) != 1000 {
		t.Fatalf("counts %+v, want 1000 completed", c)
	}
	dials, maxActive := r.carrier.totals()
	if dials != 1000 || maxActive > 10 {
		t.Fatalf("%d dials with up to %d in flight; want 1000, at most 10", dials, maxActive)
	}
	if maxActive < 2 {
		t.Fatalf("at most %d call in flight: the batch never ran calls side by side", maxActive)
	}
	for _, n := range nums {
		if d := r.carrier.dialsOf(n); d != 1 {
			t.Fatalf("a row was dialled %d times", d)
		}
	}
}

// TestBusyRowsAreRetriedUpToMaxAttempts: rows whose calls are busy are dialled again after the
// backoff (the fake clock moves it), each attempt its own session, and exactly max_attempts
// times in all; the others once.
func TestBusyRowsAreRetriedUpToMaxAttempts(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	busy, fine := numbers("+1415555", 2000, 5), numbers("+1415555", 3000, 5)
	for _, n := range busy {
		cr.busy[n] = true
	}
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(1000))
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 3, RetryMaxAttempts: 3, RetryOn: []string{"busy"}, RetryBackoffSeconds: 60},
		csvOf("to_phonenumber", append(append([]string{}, busy...), fine...), nil))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 3; round++ {
		want := len(busy)*round + len(fine)
		waitFor(t, "the round's dials to end", func() bool {
			dials, _ := cr.totals()
			_, c := r.status(o, b.ID)
			return dials == want && c.Of(campaign.RowCalling) == 0
		})
		if round < 3 {
			// Not yet due: the retry waits for its backoff (60 s, then 120 s).
			rows, _, err := r.svc.Entries(ctx, o.userID, b.ID, "busy", 1, 100)
			must(t, err)
			for _, e := range rows {
				wantAt := clk.Now().Add(time.Duration(60<<(round-1)) * time.Second)
				if !e.Pending || !e.NextAttemptAt.Equal(wantAt) || e.Attempts != round {
					t.Fatalf("round %d: busy row pending %v next %s attempts %d; want pending, next at %s", round, e.Pending, e.NextAttemptAt, e.Attempts, wantAt)
				}
			}
			clk.Advance(10 * time.Minute)
			_, err = r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil)
			must(t, err)
		}
	}
	c := r.waitStatus(o, b.ID, campaign.BatchCompleted)
	if c.Of(campaign.RowBusy) != 5 || c.Of(campaign.RowCompleted) != 5 {
		t.Fatalf("counts %+v", c)
	}
	for _, n := range busy {
		if d := cr.dialsOf(n); d != 3 {
			t.Fatalf("a busy row was dialled %d times, want 3", d)
		}
	}
	for _, n := range fine {
		if d := cr.dialsOf(n); d != 1 {
			t.Fatalf("a completed row was dialled %d times, want 1", d)
		}
	}
	rows, _, err := r.svc.Entries(ctx, o.userID, b.ID, "busy", 1, 100)
	must(t, err)
	sessions := map[string]bool{}
	for _, e := range rows {
		if e.Attempts != 3 || e.Pending || e.LastSessionID == "" {
			t.Fatalf("final busy row: attempts %d pending %v session %q", e.Attempts, e.Pending, e.LastSessionID)
		}
		sessions[e.LastSessionID] = true
	}
	if len(sessions) != 5 {
		t.Fatalf("%d distinct last sessions for 5 rows", len(sessions))
	}
}

// TestWindowClosedForUSOpenForIndia: at 10:00 UTC on a Tuesday a 09:00-20:00 window is open in
// India (15:30) and closed in California (02:00): only the Indian rows are dialled, and the
// US ones wait for 09:00 Pacific; when the clock gets there, they are dialled too.
func TestWindowClosedForUSOpenForIndia(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	cr := newCarrier()
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(1000))
	us, in := numbers("+1415555", 4000, 5), numbers("+91987654", 3200, 5)
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 4, HasWindow: true, WindowStart: "09:00", WindowEnd: "20:00"},
		csvOf("to_phonenumber", append(append([]string{}, us...), in...), nil))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Indian rows", func() bool {
		_, c := r.status(o, b.ID)
		return c.Of(campaign.RowCompleted) == 5 && c.Of(campaign.RowCalling) == 0
	})
	for _, n := range us {
		if d := cr.dialsOf(n); d != 0 {
			t.Fatalf("a US row was dialled at 02:00 local")
		}
	}
	for _, n := range in {
		if d := cr.dialsOf(n); d != 1 {
			t.Fatalf("an Indian row was dialled %d times", d)
		}
	}
	opens := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC) // 09:00 in Los Angeles (PST)
	rows, _, err := r.svc.Entries(ctx, o.userID, b.ID, "not_started", 1, 100)
	must(t, err)
	if len(rows) != 5 {
		t.Fatalf("%d rows not started, want the 5 US ones", len(rows))
	}
	for _, e := range rows {
		if !e.Pending || !e.NextAttemptAt.Equal(opens) {
			t.Fatalf("US row waits until %s (pending %v), want %s", e.NextAttemptAt, e.Pending, opens)
		}
	}
	bt, _ := r.status(o, b.ID)
	if bt.Status() != campaign.BatchInProgress {
		t.Fatalf("batch %s while rows wait for their window", bt.Status())
	}
	clk.Advance(7 * time.Hour)
	_, err = r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil)
	must(t, err)
	c := r.waitStatus(o, b.ID, campaign.BatchCompleted)
	if c.Of(campaign.RowCompleted) != 10 {
		t.Fatalf("counts %+v", c)
	}
}

// TestNoCreditsPausesTheBatch: create_call's 402 pauses the batch with its reason and puts the
// row back; once credits are added, resume completes it.
func TestNoCreditsPausesTheBatch(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(0)
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 2}, csvOf("to_phonenumber", numbers("+1415555", 5000, 4), nil))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	c := r.waitStatus(o, b.ID, campaign.BatchPaused)
	bt, _ := r.status(o, b.ID)
	if bt.PauseReason == "" || c.Of(campaign.RowNotStarted) != 4 {
		t.Fatalf("paused with reason %q and counts %+v; want a reason and every row back", bt.PauseReason, c)
	}
	if dials, _ := cr.totals(); dials != 0 {
		t.Fatalf("%d dials without credits", dials)
	}
	must(t, r.acc.SetCredits(ctx, o.userID, money.FromUnits(100)))
	bt, err := r.svc.Resume(ctx, o.userID, b.ID)
	must(t, err)
	if bt.PauseReason != "" {
		t.Fatalf("resumed batch keeps pause reason %q", bt.PauseReason)
	}
	c = r.waitStatus(o, b.ID, campaign.BatchCompleted)
	if c.Of(campaign.RowCompleted) != 4 {
		t.Fatalf("counts %+v", c)
	}
}

// TestDoNotCallNumbersAreNeverDialled: a listed number is refused at upload; one listed after
// the upload is canceled when its turn comes, not dialled.
func TestDoNotCallNumbersAreNeverDialled(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(100))
	nums := numbers("+1415555", 6000, 4)
	if _, err := r.dnc.Add(ctx, o.userID, []string{nums[0]}); err != nil {
		t.Fatal(err)
	}
	bt, err := r.svc.Create(ctx, campaigns.CreateBatch{UserID: o.userID, AgentID: o.agentID, CallerPhoneID: o.lineID, Name: "dnc", BatchSize: 2})
	must(t, err)
	res, err := r.svc.UploadCSV(ctx, o.userID, bt.ID, strings.NewReader(csvOf("to_phonenumber", nums, nil)))
	must(t, err)
	if res.Inserted != 3 || len(res.Failed) != 1 || res.Failed[0].Index != 0 || res.Failed[0].Reason != campaigns.ReasonSuppressed {
		t.Fatalf("upload: %+v", res)
	}
	if _, err := r.dnc.Add(ctx, o.userID, []string{nums[1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Start(ctx, o.userID, bt.ID); err != nil {
		t.Fatal(err)
	}
	c := r.waitStatus(o, bt.ID, campaign.BatchCompleted)
	if c.Of(campaign.RowCompleted) != 2 || c.Of(campaign.RowCanceled) != 1 {
		t.Fatalf("counts %+v", c)
	}
	if cr.dialsOf(nums[0]) != 0 || cr.dialsOf(nums[1]) != 0 {
		t.Fatal("a number on the do-not-call list was dialled")
	}
}

// TestCancelStopsNewDials: a canceled batch dials nothing more; its rows waiting are canceled
// and it cannot be started or resumed.
func TestCancelStopsNewDials(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(100))
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 1}, csvOf("to_phonenumber", numbers("+1415555", 7000, 30), nil))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Start(ctx, o.userID, b.ID); !campaigns.IsConflict(err) {
		t.Fatalf("second start: %v, want a conflict", err)
	}
	bt, err := r.svc.Cancel(ctx, o.userID, b.ID)
	must(t, err)
	if bt.Status() != campaign.BatchCanceled || bt.CompletedAt.IsZero() {
		t.Fatalf("canceled batch: %s", bt.Status())
	}
	waitFor(t, "calls in flight to end", func() bool {
		_, c := r.status(o, b.ID)
		return c.Of(campaign.RowCalling) == 0
	})
	time.Sleep(200 * time.Millisecond) // any dial job still queued has run by now
	_, c := r.status(o, b.ID)
	dials, _ := cr.totals()
	if dials > 1 || c.Of(campaign.RowCanceled) < 29 || c.Of(campaign.RowCompleted) != dials {
		t.Fatalf("after cancel: %d dials, counts %+v", dials, c)
	}
	for _, f := range []func() (*campaign.Batch, error){
		func() (*campaign.Batch, error) { return r.svc.Resume(ctx, o.userID, b.ID) },
		func() (*campaign.Batch, error) { return r.svc.Pause(ctx, o.userID, b.ID) },
		func() (*campaign.Batch, error) { return r.svc.Cancel(ctx, o.userID, b.ID) },
	} {
		if _, err := f(); !campaigns.IsConflict(err) {
			t.Fatalf("change of a canceled batch: %v, want a conflict", err)
		}
	}
}

// TestLostCallsFreeTheirSlots: a call whose end the carrier never reports holds its slot only
// until create_call's bound on an active call (2 h by the fake clock): then its row fails, is
// not dialled again, and the batch completes.
func TestLostCallsFreeTheirSlots(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	nums := numbers("+1415555", 9000, 6)
	cr.lost[nums[0]], cr.lost[nums[1]] = true, true
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(100))
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 2, RetryMaxAttempts: 3, RetryOn: []string{"failed"}, RetryBackoffSeconds: 1},
		csvOf("to_phonenumber", nums, nil))
	if _, err := r.svc.Start(ctx, o.userID, b.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the two lost calls to hold both slots", func() bool {
		dials, _ := cr.totals()
		_, c := r.status(o, b.ID)
		return dials == 2 && c.Of(campaign.RowCalling) == 2
	})
	clk.Advance(time.Hour)
	_, err := r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil)
	must(t, err)
	time.Sleep(300 * time.Millisecond)
	if dials, _ := cr.totals(); dials != 2 {
		t.Fatalf("%d dials an hour into two lost calls, want still 2", dials)
	}
	clk.Advance(2 * time.Hour)
	_, err = r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil)
	must(t, err)
	c := r.waitStatus(o, b.ID, campaign.BatchCompleted)
	if c.Of(campaign.RowFailed) != 2 || c.Of(campaign.RowCompleted) != 4 {
		t.Fatalf("counts %+v", c)
	}
	rows, _, err := r.svc.Entries(ctx, o.userID, b.ID, "failed", 1, 10)
	must(t, err)
	for _, e := range rows {
		if e.Error != campaigns.ReasonCallLost || e.Attempts != 1 {
			t.Fatalf("lost row: %q after %d attempts", e.Error, e.Attempts)
		}
	}
	if cr.dialsOf(nums[0]) != 1 || cr.dialsOf(nums[1]) != 1 {
		t.Fatal("a lost call was dialled again")
	}
}

// TestStartAtHoldsTheBatch: a batch started before its start_at is scheduled and dials nothing
// until then (the fake clock); from then on it runs.
func TestStartAtHoldsTheBatch(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	cr := newCarrier()
	r := newRig(t, sqliteDSN(t), clk, cr, rigOptions{})
	o := r.owner(money.FromUnits(100))
	b := r.batch(o, campaigns.CreateBatch{BatchSize: 2, StartAt: "2026-12-01T16:00:00Z"}, csvOf("to_phonenumber", numbers("+1415555", 9100, 3), nil))
	bt, err := r.svc.Start(ctx, o.userID, b.ID)
	must(t, err)
	if bt.Status() != campaign.BatchScheduled || !bt.StartedAt.Equal(clk.Now()) {
		t.Fatalf("started before start_at: %s", bt.Status())
	}
	_, err = r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil) // a tick before start_at
	must(t, err)
	time.Sleep(300 * time.Millisecond)
	if dials, _ := cr.totals(); dials != 0 {
		t.Fatalf("%d dials before start_at", dials)
	}
	if bt, _ := r.status(o, b.ID); bt.Status() != campaign.BatchScheduled {
		t.Fatalf("%s before start_at", bt.Status())
	}
	clk.Advance(time.Hour)
	_, err = r.queue.Insert(ctx, campaigns.TickJob{BatchID: b.ID}, nil)
	must(t, err)
	if c := r.waitStatus(o, b.ID, campaign.BatchCompleted); c.Of(campaign.RowCompleted) != 3 {
		t.Fatalf("counts %+v", c)
	}
}
