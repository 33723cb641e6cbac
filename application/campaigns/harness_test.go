package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/campaigncalls"
	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/money"
)

var ctx = context.Background()

// clock is the campaigns' fake clock: windows, start_at and backoff read it; tests move it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Destinations the test carrier treats specially, as the simulated carrier will.
const (
	busyNumber     = "+14155550198"
	noAnswerNumber = "+14155550197"
)

// carrier is a test carrier that places every call and, a moment later, ends it through the
// carrier-event use case, as a real carrier's status callback would: busy for numbers in busy,
// no answer for those in noAnswer, completed after some talk otherwise. It counts dials per
// destination and the calls in flight (from the dial to the final event).
type carrier struct {
	events func() *callevents.CarrierEvents

	mu        sync.Mutex
	busy      map[string]bool
	noAnswer  map[string]bool
	lost      map[string]bool // calls whose end the carrier never reports
	dials     map[string]int
	active    int
	maxActive int
	wg        sync.WaitGroup
	// onDial, when set, is told of each dial once counted, before the carrier answers it.
	onDial func(req createcall.DialRequest, n int)
	// onEnd, when set, is told of each call's end, before its final event is applied.
	onEnd func(req createcall.DialRequest)
}

func newCarrier() *carrier {
	return &carrier{busy: map[string]bool{busyNumber: true}, noAnswer: map[string]bool{noAnswerNumber: true},
		lost: map[string]bool{}, dials: map[string]int{}}
}

func (c *carrier) Dial(_ context.Context, req createcall.DialRequest) (string, error) {
	c.mu.Lock()
	c.dials[req.To]++
	c.active++
	c.maxActive = max(c.maxActive, c.active)
	status := call.StatusCompleted
	switch {
	case c.busy[req.To]:
		status = call.StatusBusy
	case c.noAnswer[req.To]:
		status = call.StatusNoAnswer
	}
	lost := c.lost[req.To]
	n := 0
	for _, d := range c.dials {
		n += d
	}
	c.mu.Unlock()
	if c.onDial != nil {
		c.onDial(req, n)
	}
	leg := "SIM" + req.SessionID
	if lost {
		return leg, nil
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		if c.onEnd != nil {
			c.onEnd(req)
		}
		c.mu.Lock()
		c.active--
		c.mu.Unlock()
		ev := callevents.CarrierEvent{SessionID: req.SessionID, Provider: call.ProviderSimulated, Status: status, LegID: leg}
		if status == call.StatusCompleted {
			ev.Duration = 7 * time.Second
		}
		for i := 0; i < 50; i++ {
			if err := c.events().Apply(context.Background(), ev); err == nil || errors.Is(err, call.ErrSessionNotFound) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return leg, nil
}

func (c *carrier) dialsOf(to string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dials[to]
}

func (c *carrier) totals() (dials, maxActive int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.dials {
		dials += n
	}
	return dials, c.maxActive
}

// newRigB is an insert-only rig for benchmarks, on a new SQLite file.
func newRigB(b *testing.B) *rig {
	dsn := "file:" + b.TempDir() + "/kupe.db?_pragma=synchronous(NORMAL)"
	s := entstoretest.Open(b, dsn)
	must(b, s.Migrate(ctx))
	must(b, jobqueue.Migrate(ctx, s.DB(), s.Dialect()))
	q, err := jobqueue.New(s.DB(), s.Dialect(), nil, jobqueue.Config{})
	must(b, err)
	s.UseJobs(q)
	r := &rig{t: nil, tb: b, store: s, queue: q, acc: &accounts.Accounts{Store: s}}
	r.svc = &campaigns.Service{Store: s, Suppressions: s, Accounts: &campaigncalls.Accounts{Plans: s}, Sessions: s}
	return r
}

// rig is one server's worth of campaign machinery on a database: the store, a working job
// queue, create_call on the test carrier, and the campaign service.
type rig struct {
	t       *testing.T
	tb      testing.TB // t, or the benchmark
	store   *entstore.Store
	queue   *jobqueue.Queue
	svc     *campaigns.Service
	dnc     *campaigns.DoNotCall
	carrier *carrier
	clock   *clock
	acc     *accounts.Accounts
}

type rigOptions struct {
	workers int
	id      string
	// insertOnly makes a queue that records jobs and works none (a setup, as kupectl's).
	insertOnly bool
}

// newRig starts the machinery on the migrated database dsn.
func newRig(t *testing.T, dsn string, clk *clock, cr *carrier, o rigOptions) *rig {
	t.Helper()
	s := entstoretest.Open(t, dsn)
	must(t, s.Migrate(ctx))
	must(t, jobqueue.Migrate(ctx, s.DB(), s.Dialect()))
	r := &rig{t: t, tb: t, store: s, carrier: cr, clock: clk, acc: &accounts.Accounts{Store: s}}
	events := &callevents.CarrierEvents{Sessions: s, Lines: s, Ledger: s, Tariff: call.Tariff{PerMinute: money.FromUnits(1) / 100}}
	cr.events = func() *callevents.CarrierEvents { return events }
	cc := &createcall.Handler{Plans: s, Sessions: s, Carriers: createcall.CarrierSet{call.ProviderSimulated: cr},
		Limits: createcall.CallLimits{IdempotencyPendingTimeout: 200 * time.Millisecond}}
	r.svc = &campaigns.Service{Store: s, Suppressions: s, Accounts: &campaigncalls.Accounts{Plans: s},
		Placer: &campaigncalls.Placer{CreateCall: cc}, Sessions: s, Now: clk.Now}
	r.dnc = &campaigns.DoNotCall{Store: s, Now: clk.Now}
	if o.insertOnly {
		q, err := jobqueue.New(s.DB(), s.Dialect(), nil, jobqueue.Config{})
		must(t, err)
		s.UseJobs(q)
		r.queue = q
		return r
	}
	ws := jobqueue.NewWorkers()
	must(t, campaigncalls.Register(ws, r.svc))
	must(t, jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[callfinal.Job]) error {
		return callfinal.FanOut{r.svc}.OnCallFinal(ctx, j.Args.SessionID)
	}))
	workers := o.workers
	if workers == 0 {
		workers = 10
	}
	q, err := jobqueue.New(s.DB(), s.Dialect(), ws, jobqueue.Config{Workers: workers, ID: o.id,
		PollInterval: 100 * time.Millisecond, FetchCooldown: 5 * time.Millisecond, RescueAfter: 2 * time.Second, JobTimeout: time.Second})
	must(t, err)
	s.UseJobs(q)
	must(t, q.Start(ctx))
	r.queue = q
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
		cr.wg.Wait()
	})
	return r
}

// sqliteDSN is a new SQLite file; synchronous=NORMAL keeps thousands of commits quick, and
// loses nothing but the last commits on a power cut, which no test makes.
func sqliteDSN(t *testing.T) string {
	return entstoretest.SQLiteURL(t) + "?_pragma=synchronous(NORMAL)"
}

// owner is a user with credits, a simulated line and an agent.
type owner struct {
	userID, lineID, agentID string
}

func (r *rig) owner(credits money.Amount) owner {
	r.tb.Helper()
	u, err := r.acc.CreateUser(ctx, fmt.Sprintf("owner%d@example.com", rand.Int64()), credits)
	must(r.tb, err)
	l, err := r.acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "simulated"})
	must(r.tb, err)
	a, err := r.acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales", SystemPrompt: "Hi {{name}}"})
	must(r.tb, err)
	_, err = (&accounts.UserLimits{Store: r.store}).Set(ctx, accounts.SetLimits{UserID: u.ID, MaxConcurrentCalls: ptr(100), RequestsPerSecond: ptr(10000.0)})
	must(r.tb, err)
	return owner{userID: u.ID, lineID: l.ID, agentID: a.ID}
}

func ptr[T any](v T) *T { return &v }

// batch creates a batch for o and uploads csv to it.
func (r *rig) batch(o owner, c campaigns.CreateBatch, csv string) *campaign.Batch {
	r.t.Helper()
	c.UserID, c.AgentID, c.CallerPhoneID = o.userID, o.agentID, o.lineID
	if c.Name == "" {
		c.Name = "test"
	}
	b, err := r.svc.Create(ctx, c)
	must(r.t, err)
	res, err := r.svc.UploadCSV(ctx, o.userID, b.ID, strings.NewReader(csv))
	must(r.t, err)
	if res.FailedTotal != 0 {
		r.t.Fatalf("upload refused rows: %+v", res.Failed)
	}
	return b
}

// waitFor polls cond until it holds; it fails the test after a generous bound, which only a
// stuck campaign reaches.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) status(o owner, id string) (*campaign.Batch, campaigns.Counts) {
	r.t.Helper()
	b, c, err := r.svc.Status(ctx, o.userID, id)
	must(r.t, err)
	return b, c
}

func (r *rig) waitStatus(o owner, id string, want campaign.BatchStatus) campaigns.Counts {
	r.t.Helper()
	var c campaigns.Counts
	waitFor(r.t, "batch "+want.String(), func() bool {
		var b *campaign.Batch
		b, c = r.status(o, id)
		return b.Status() == want
	})
	return c
}

// numbers makes n distinct valid numbers with prefix (+1415555 gives US ones).
func numbers(prefix string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, from+i)
	}
	return out
}

func csvOf(header string, nums []string, extra func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i, n := range nums {
		b.WriteString(n)
		if extra != nil {
			b.WriteString("," + extra(i))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
