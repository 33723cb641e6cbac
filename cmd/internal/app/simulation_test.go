package app_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/simprovider"
)

var demoKey = regexp.MustCompile(`export KUPE_API_KEY=(\S+)`)

// simApp is kupe serve on the embedded default (a fresh SQLite file, so the demo account is
// seeded) with the simulated carrier on clock; dbURL "" makes a new database.
func simApp(t *testing.T, clock *simprovider.ManualClock, dbURL string, extra ...string) (*running, *simprovider.Carrier) {
	t.Helper()
	env := map[string]string{}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	if dbURL != "" {
		env["KUPE_DATABASE_URL"] = dbURL
	}
	var sim *simprovider.Carrier
	r := startApp(t, env, []fx.Option{fx.Provide(func() simprovider.Clock { return clock })}, []fx.Option{fx.Populate(&sim)})
	return r, sim
}

func (r *running) demoKey() string {
	r.t.Helper()
	m := demoKey.FindStringSubmatch(r.demo.String())
	if m == nil {
		r.t.Fatalf("the first run printed no demo key:\n%s", r.demo.String())
	}
	return m[1]
}

func (r *running) callLog(key, requestID string) map[string]any {
	r.t.Helper()
	a := r.do(http.MethodGet, "/api/v1/call-analytics?request_id="+requestID, key, "")
	if a.err != nil || a.status != http.StatusOK {
		r.t.Fatalf("call log: %d %s %v", a.status, a.raw, a.err)
	}
	return a.body
}

func (r *running) balance(key string) string {
	r.t.Helper()
	a := r.do(http.MethodGet, "/api/v1/billing/credit-balance", key, "")
	if a.err != nil || a.status != http.StatusOK {
		r.t.Fatalf("credit balance: %d %s %v", a.status, a.raw, a.err)
	}
	return fmt.Sprint(a.body["credit_balance"])
}

func (r *running) placed(key, to string, params ...string) answer {
	r.t.Helper()
	q := ""
	for i := 0; i+1 < len(params); i += 2 {
		q += "&" + params[i] + "=" + params[i+1]
	}
	a := r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B"+to[1:]+q, key, "")
	if a.err != nil || a.status != http.StatusOK || a.body["status"] != "success" {
		r.t.Fatalf("create_call to %s: %d %s %v", to[:6], a.status, a.raw, a.err)
	}
	return a
}

// The first run, as the README walks it: a call rings, completes with talk time and a cost, and
// the balance falls by that cost; the busy and no-answer numbers end so; a hang-up ends a call.
func TestDemoWalkthrough(t *testing.T) {
	clock := simprovider.NewManualClock(time.Now().UTC())
	r, _ := simApp(t, clock, "")
	key := r.demoKey()
	if b := r.balance(key); b != "100" {
		t.Fatalf("demo balance %s, want 100", b)
	}
	rid := r.placed(key, "+14155550123").body["request_id"].(string)
	clock.Advance(time.Second)
	if s := r.callLog(key, rid); s["status"] != "ringing" {
		t.Fatalf("after 1 s: %v", s["status"])
	}
	clock.Advance(6 * time.Second)
	s := r.callLog(key, rid)
	if s["status"] != "completed" || fmt.Sprint(s["duration_seconds"]) != "5" || fmt.Sprint(s["cost"]) != "0.05" {
		t.Fatalf("after 7 s: status %v duration %v cost %v", s["status"], s["duration_seconds"], s["cost"])
	}
	if b := r.balance(key); b != "99.95" {
		t.Fatalf("balance after the call %s, want 99.95", b)
	}

	busy := r.placed(key, "+14155550198").body["request_id"].(string)
	noAnswer := r.placed(key, "+14155550197").body["request_id"].(string)
	clock.Advance(4 * time.Second)
	if st := r.callLog(key, busy)["status"]; st != "busy" {
		t.Fatalf("busy number: %v", st)
	}
	if st := r.callLog(key, noAnswer)["status"]; st != "no_answer" {
		t.Fatalf("no-answer number: %v", st)
	}

	machine := r.placed(key, "+14155550196", "machine_detection", "detect")
	clock.Advance(3 * time.Second) // answered at 2 s, by a machine
	id := machine.body["call_session_id"].(string)
	h := r.do(http.MethodPost, "/api/v1/calls/"+id+"/hangup", key, "")
	if h.status != http.StatusOK || h.body["status"] != "completed" || h.body["answered_by"] != "machine" ||
		fmt.Sprint(h.body["duration_seconds"]) != "1" {
		t.Fatalf("hang-up: %d %s", h.status, h.raw)
	}
	if b := r.balance(key); b != "99.9" {
		t.Fatalf("balance after the hung-up call %s, want 99.9", b)
	}
	if h := r.do(http.MethodPost, "/api/v1/calls/"+id+"/hangup", key, ""); h.status != http.StatusConflict {
		t.Fatalf("second hang-up: %d %s", h.status, h.raw)
	}
}

// The demo account's cap of 20 calls at once: a 21st is refused while 20 are in play, and 25 in a
// row are all accepted once the earlier ones have ended.
func TestTwentyFiveDemoCallsInARow(t *testing.T) {
	clock := simprovider.NewManualClock(time.Now().UTC())
	// The calls go out faster than the default request rate (10 a second, a burst of 20), which
	// is not what this test is about.
	r, sim := simApp(t, clock, "", "KUPE_DEFAULT_REQUESTS_PER_SECOND", "100")
	key := r.demoKey()
	for range 20 {
		r.placed(key, "+14155550123")
	}
	if a := r.createCall(key, "+14155550123", ""); a.status != http.StatusTooManyRequests ||
		!strings.HasPrefix(fmt.Sprint(a.body["detail"]), "Concurrent call limit reached") {
		t.Fatalf("21st call while 20 are in play: %d %s", a.status, a.raw)
	}
	clock.Advance(7 * time.Second)
	if n := sim.Playing(); n != 0 {
		t.Fatalf("%d calls still in play after their end", n)
	}
	for range 5 {
		r.placed(key, "+14155550123")
	}
	clock.Advance(7 * time.Second)
	if b := r.balance(key); b != "98.75" {
		t.Fatalf("balance after 25 calls %s, want 98.75 (each charged once)", b)
	}
}

// A restart mid-call: the next run adopts the open session and plays it to its end, charging it
// once.
func TestRestartMidSimulatedCall(t *testing.T) {
	clock := simprovider.NewManualClock(time.Now().UTC())
	dbURL := "file:" + filepath.Join(t.TempDir(), "kupe.db")
	r, _ := simApp(t, clock, dbURL)
	key := r.demoKey()
	rid := r.placed(key, "+14155550123").body["request_id"].(string)
	clock.Advance(time.Second)
	if st := r.callLog(key, rid)["status"]; st != "ringing" {
		t.Fatalf("before the restart: %v", st)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	next := simprovider.NewManualClock(clock.Now())
	r2, sim := simApp(t, next, dbURL)
	// Adoption runs in the background as the server starts: wait for it (no time is asserted).
	deadline := time.Now().Add(10 * time.Second)
	for sim.Playing() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the restarted server did not pick the open call up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	next.Advance(7 * time.Second)
	s := r2.callLog(key, rid)
	if s["status"] != "completed" || fmt.Sprint(s["duration_seconds"]) != "5" || fmt.Sprint(s["cost"]) != "0.05" {
		t.Fatalf("after the restart: status %v duration %v cost %v", s["status"], s["duration_seconds"], s["cost"])
	}
	if b := r2.balance(key); b != "99.95" {
		t.Fatalf("balance %s, want 99.95: charged once", b)
	}
}
