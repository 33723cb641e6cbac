package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/carrierguard"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

const (
	crashSID   = "AC0123456789abcdef0123456789abcdef"
	crashToken = "f00dfacef00dfacef00dfacef00dface"
)

// countingTwilio is a Twilio fake that places every call it is asked to and answers lookups;
// it counts both.
type countingTwilio struct {
	URL     string
	mu      sync.Mutex
	dials   int
	lookups int
}

func startCountingTwilio(t *testing.T) *countingTwilio {
	f := &countingTwilio{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Calls.json"):
			f.dials++
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"sid":"CA%032d","status":"queued"}`, f.dials)
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/Calls/CA"):
			f.lookups++
			fmt.Fprint(w, `{"status":"completed"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":20404,"message":"not found","status":404}`)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *countingTwilio) counts() (dials, lookups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials, f.lookups
}

func newTwilio(t *testing.T, url string) *twilioprovider.Carrier {
	t.Helper()
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: url, Timeout: 5 * time.Second,
		StatusCallbackURL: func(id string) string { return "https://kupe.example/cb/" + id },
		StreamURL:         func(createcall.DialRequest) string { return "wss://kupe.example/stream" }})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// TestCrashBetweenDialAndWrite kills a process (SIGKILL: no deferred code, no shutdown) right
// after the carrier placed its call and before create_call recorded the outcome. The session
// was written before the dial, so it is not lost; a fresh process on the same database
// reconciles it as failed, outcome unknown; and the carrier saw exactly one dial.
func TestCrashBetweenDialAndWrite(t *testing.T) {
	for name, newURL := range map[string]func(testing.TB) string{
		"sqlite": entstoretest.SQLiteURL, "postgres": entstoretest.PostgresURL,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := newURL(t)
			s := entstoretest.Open(t, dsn)
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			acc := &accounts.Accounts{Store: s}
			u, err := acc.CreateUser(ctx, "crash@example.com", money.FromUnits(10))
			if err != nil {
				t.Fatal(err)
			}
			l, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "twilio",
				Credentials: map[string]string{"account_sid": crashSID, "auth_token": crashToken}})
			if err != nil {
				t.Fatal(err)
			}
			a, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales"})
			if err != nil {
				t.Fatal(err)
			}
			if err := acc.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}); err != nil {
				t.Fatal(err)
			}
			s.Close() // the child has the database to itself, as a server would
			fake := startCountingTwilio(t)

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildProcess$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "KUPE_CRASH_CHILD=1", "KUPE_CRASH_DSN="+dsn,
				"KUPE_CRASH_TWILIO="+fake.URL, "KUPE_CRASH_USER="+u.ID)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the child was not killed: %v\n%s", err, out)
			}
			if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the child ended with %v, want killed by SIGKILL\n%s", err, out)
			}
			if dials, _ := fake.counts(); dials != 1 {
				t.Fatalf("the carrier saw %d dials before the crash, want 1", dials)
			}

			// A fresh process on the same database.
			s2 := entstoretest.Open(t, dsn)
			page, total, err := s2.ListSessions(ctx, u.ID, 0, 10)
			if err != nil || total != 1 {
				t.Fatalf("after the crash: %d sessions (%v), want the one written before the dial", total, err)
			}
			lost := page[0]
			if lost.Status() != call.StatusDialing || lost.LegID != "" || lost.To != "+14155550123" {
				t.Fatalf("the crashed session: %s leg %q to %s; want dialing, no leg id", lost.Status(), lost.LegID, call.MaskNumber(lost.To))
			}
			guarded := carrierguard.New(newTwilio(t, fake.URL), carrierguard.Config{Provider: call.ProviderTwilio}, nil)
			rec := &callevents.Reconciler{Sessions: s2, Lines: s2,
				Carriers: createcall.CarrierSet{call.ProviderTwilio: guarded},
				// As a process starting after the stale age has passed.
				Now: func() time.Time { return time.Now().Add(callevents.DefaultDialingStaleAfter + time.Second) }}
			rep, err := rec.ReconcileOnce(ctx)
			if err != nil || rep != (callevents.ReconcileReport{Failed: 1}) {
				t.Fatalf("reconcile: %+v, %v; want the session failed", rep, err)
			}
			got, err := s2.Session(ctx, lost.ID)
			if err != nil || got.Status() != call.StatusFailed || !strings.HasPrefix(got.Detail, "Outcome unknown:") || got.EndedAt.IsZero() {
				t.Fatalf("reconciled session: %+v (%v); want failed, outcome unknown", got, err)
			}
			// Again: nothing left to do.
			if rep, err := rec.ReconcileOnce(ctx); err != nil || rep != (callevents.ReconcileReport{}) {
				t.Fatalf("second run: %+v, %v", rep, err)
			}
			if dials, lookups := fake.counts(); dials != 1 || lookups != 0 {
				t.Fatalf("the carrier saw %d dials and %d lookups in all; want exactly the one dial (a session without a leg id is not looked up)",
					dials, lookups)
			}
		})
	}
}

// TestCrashChildProcess is the process TestCrashBetweenDialAndWrite kills: it places a call
// through the real Twilio adapter and dies the moment the carrier has answered.
func TestCrashChildProcess(t *testing.T) {
	if os.Getenv("KUPE_CRASH_CHILD") != "1" {
		t.Skip("run as a child process by TestCrashBetweenDialAndWrite")
	}
	s := entstoretest.Open(t, os.Getenv("KUPE_CRASH_DSN"))
	tw := newTwilio(t, os.Getenv("KUPE_CRASH_TWILIO"))
	dieAfterDial := dialFunc(func(ctx context.Context, req createcall.DialRequest) (string, error) {
		leg, err := tw.Dial(ctx, req)
		if err == nil {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return leg, err
	})
	h := &createcall.Handler{Plans: s, Sessions: s, Carriers: createcall.CarrierSet{call.ProviderTwilio: dieAfterDial}}
	res, err := h.Handle(context.Background(), createcall.Command{UserID: os.Getenv("KUPE_CRASH_USER"), To: "+14155550123"})
	t.Fatalf("the child survived the dial: %+v, %v", res, err)
}

type dialFunc func(context.Context, createcall.DialRequest) (string, error)

func (f dialFunc) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	return f(ctx, req)
}
