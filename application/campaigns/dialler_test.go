package campaigns_test

import (
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
