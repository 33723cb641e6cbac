package campaigns_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/money"
)

// Campaigns across processes: a server killed mid-campaign and started again, and two servers
// on one PostgreSQL database. Each server is this test binary run as a child
// (TestCampaignServerProcess), dialling through a carrier that logs every dial and every call's
// end to a file of its own, synced before the carrier answers: what the carrier saw outlives
// the process.

// dialLog appends "dial|end <session> <to> <unix nanos>" lines to a file.
type dialLog struct {
	mu sync.Mutex
	f  *os.File
}

func openDialLog(path string) *dialLog {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		panic(err)
	}
	return &dialLog{f: f}
}

func (l *dialLog) write(kind string, req createcall.DialRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s %s %d\n", kind, req.SessionID, req.To, time.Now().UnixNano())
	_ = l.f.Sync()
}

type logged struct {
	kind, session, to string
	at                int64
}

func readDialLog(t *testing.T, path string) []logged {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(t, err)
	defer f.Close()
	var out []logged
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		if len(p) != 4 {
			continue // a line cut by the kill
		}
		at, _ := strconv.ParseInt(p[3], 10, 64)
		out = append(out, logged{kind: p[0], session: p[1], to: p[2], at: at})
	}
	return out
}

// TestCampaignServerProcess is a campaign server, run as a child by the tests below: it works
// the campaign jobs on the database KUPE_CAMPAIGN_DSN until it is killed, or kills itself
// (SIGKILL, no shutdown) right after the carrier placed its KUPE_CAMPAIGN_KILL_AT-th call.
func TestCampaignServerProcess(t *testing.T) {
	dsn := os.Getenv("KUPE_CAMPAIGN_DSN")
	if dsn == "" {
		t.Skip("run as a child process by the multi-process campaign tests")
	}
	killAt, _ := strconv.Atoi(os.Getenv("KUPE_CAMPAIGN_KILL_AT"))
	log := openDialLog(os.Getenv("KUPE_CAMPAIGN_DIALS"))
	cr := newCarrier()
	cr.onDial = func(req createcall.DialRequest, n int) {
		log.write("dial", req)
		if n == killAt {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	cr.onEnd = func(req createcall.DialRequest) { log.write("end", req) }
	newRig(t, dsn, newClock(time.Now().UTC()), cr, rigOptions{id: os.Getenv("KUPE_CAMPAIGN_ID")})
	select {}
}

// startServer runs a child server; the child is killed when the test ends if it is still up.
func startServer(t *testing.T, dsn, dials, id string, killAt int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCampaignServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KUPE_CAMPAIGN_DSN="+dsn, "KUPE_CAMPAIGN_DIALS="+dials,
		"KUPE_CAMPAIGN_ID="+id, "KUPE_CAMPAIGN_KILL_AT="+strconv.Itoa(killAt))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server %s said:\n%s", id, out)
		}
	})
	return cmd
}

// setUp makes a started campaign of n US rows on dsn, through a queue that only records jobs.
func setUp(t *testing.T, dsn string, n, size int) (owner, *campaign.Batch, []string) {
	r := newRig(t, dsn, newClock(time.Now().UTC()), newCarrier(), rigOptions{insertOnly: true})
	o := r.owner(money.FromUnits(1000))
	nums := numbers("+1415555", 8000, n)
	b := r.batch(o, campaigns.CreateBatch{BatchSize: size}, csvOf("to_phonenumber", nums, nil))
	_, err := r.svc.Start(ctx, o.userID, b.ID)
	must(t, err)
	return o, b, nums
}

// checkDialledOnce fails unless every number was dialled exactly once, in all the logs.
func checkDialledOnce(t *testing.T, nums []string, dials map[string]int) {
	t.Helper()
	for _, n := range nums {
		if dials[n] != 1 {
			t.Errorf("a row was dialled %d times", dials[n])
		}
	}
}

// TestCampaignSurvivesSIGKILL: a server killed with SIGKILL right after the carrier placed a
// call (before create_call could record it, with other calls in flight and jobs queued) is
// started again on the same SQLite file; the campaign completes and no row is dialled twice for
// its attempt: each row the carrier placed completes, and a row whose session was written but
// whose dial never left the dead process fails with "Outcome unknown" rather than risk a
// second call. The carrier's reports of the calls the dead server placed arrive at the new one,
// as its callbacks would.
func TestCampaignSurvivesSIGKILL(t *testing.T) {
	t.Parallel() // it mostly waits for River's leader lease
	dsn := sqliteDSN(t)
	o, b, nums := setUp(t, dsn, 40, 5)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.log")
	cmd := startServer(t, dsn, first, "first", 15)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the server was not killed: %v", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the server ended with %v, want killed by SIGKILL", err)
	}
	before := readDialLog(t, first)
	dialled := map[string]int{}
	for _, l := range before {
		if l.kind == "dial" {
			dialled[l.to]++
		}
	}
	if len(dialled) != 15 {
		t.Fatalf("the first server placed %d calls before it died, want 15", len(dialled))
	}

	// Jobs the dead server was running are taken back once older than RescueAfter (2 s), by the
	// new server once it leads (the dead one's lease runs out first).
	time.Sleep(2500 * time.Millisecond)
	restart := time.Now()
	cr := newCarrier()
	r := newRig(t, dsn, newClock(time.Now().UTC()), cr, rigOptions{id: "second"})
	events := &callevents.CarrierEvents{Sessions: r.store, Lines: r.store, Ledger: r.store,
		Tariff: call.Tariff{PerMinute: money.FromUnits(1) / 100}}
	// As kupe serve's background does, the reconciler settles the sessions the dead server left
	// in dialing: those whose call never reached the carrier end failed, outcome unknown.
	rec := &callevents.Reconciler{Sessions: r.store, Lines: r.store, Carriers: createcall.CarrierSet{call.ProviderSimulated: cr},
		Now: func() time.Time { return restart.Add(callevents.DefaultDialingStaleAfter) }}
	// The carrier reports the first server's calls to the second, until the batch completes.
	done := make(chan struct{})
	go func() {
		for {
			for _, l := range before {
				if l.kind == "dial" {
					_ = events.Apply(context.Background(), callevents.CarrierEvent{SessionID: l.session,
						Provider: call.ProviderSimulated, Status: call.StatusCompleted, LegID: "SIM" + l.session, Duration: 5 * time.Second})
				}
			}
			_, _ = rec.ReconcileOnce(context.Background())
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	r.waitStatus(o, b.ID, campaign.BatchCompleted)
	close(done)
	cr.mu.Lock()
	for n, d := range cr.dials {
		dialled[n] += d
	}
	cr.mu.Unlock()
	rows, _, err := r.svc.Entries(ctx, o.userID, b.ID, "", 1, 100)
	must(t, err)
	if len(rows) != len(nums) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, e := range rows {
		switch d := dialled[e.To]; {
		case d > 1:
			t.Errorf("a row was dialled %d times for its one attempt", d)
		case e.Attempts != 1 || e.LastSessionID == "":
			t.Errorf("row after the crash: attempts %d session %q", e.Attempts, e.LastSessionID)
		case d == 1 && e.Status() != campaign.RowCompleted:
			t.Errorf("a row the carrier placed ended %s (%s)", e.Status(), e.Error)
		case d == 0 && (e.Status() != campaign.RowFailed || !strings.HasPrefix(e.Error, "Outcome unknown")):
			// Its session was written but its dial never reached the carrier: create_call, asked
			// again with the attempt's key, does not dial what it cannot know was not placed.
			t.Errorf("a row never dialled ended %s (%q), want failed, outcome unknown", e.Status(), e.Error)
		}
	}
}

// TestTwoServersShareACampaignOnPostgres: two server processes on one PostgreSQL database work
// one campaign together: it completes, each row is dialled once, both servers dial, and never
// more than batch_size calls are in flight across the two (from each dial to its end, as
// their carriers logged them).
func TestTwoServersShareACampaignOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := entstoretest.PostgresURL(t)
	const n, size = 80, 6
	o, b, nums := setUp(t, dsn, n, size)
	dir := t.TempDir()
	logs := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")}
	startServer(t, dsn, logs[0], "a", 0)
	startServer(t, dsn, logs[1], "b", 0)
	r := newRig(t, dsn, newClock(time.Now().UTC()), newCarrier(), rigOptions{insertOnly: true})
	r.waitStatus(o, b.ID, campaign.BatchCompleted)

	dialled := map[string]int{}
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for i, path := range logs {
		ls := readDialLog(t, path)
		mine := 0
		for _, l := range ls {
			switch l.kind {
			case "dial":
				dialled[l.to]++
				mine++
				edges = append(edges, edge{l.at, +1})
			case "end":
				edges = append(edges, edge{l.at, -1})
			}
		}
		if mine == 0 {
			t.Errorf("server %d dialled nothing: the campaign was not shared", i)
		}
	}
	checkDialledOnce(t, nums, dialled)
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta < edges[j].delta // an end before a dial at the same instant
	})
	inFlight, most := 0, 0
	for _, e := range edges {
		inFlight += e.delta
		most = max(most, inFlight)
	}
	if most > size || most < 2 {
		t.Fatalf("at most %d calls in flight across the servers, want 2 to %d", most, size)
	}
	_, c := r.status(o, b.ID)
	if c.Of(campaign.RowCompleted) != n {
		t.Fatalf("counts %+v", c)
	}
}
