package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

func TestParseExportRange(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		start, end string
		want       accounts.ExportRange
		detail     string
	}{
		{"2026-11-01", "2026-11-01", accounts.ExportRange{From: day("2026-11-01"), To: day("2026-11-01")}, ""},
		{" 2026-11-01 ", "2026-12-01", accounts.ExportRange{From: day("2026-11-01"), To: day("2026-12-01")}, ""}, // 31 days
		{"2026-02-28", "2026-03-30", accounts.ExportRange{From: day("2026-02-28"), To: day("2026-03-30")}, ""},
		{"2026-11-01", "2026-12-02", accounts.ExportRange{}, "an export covers at most 31 days"},
		{"2026-11-02", "2026-11-01", accounts.ExportRange{}, "end_date must not be before start_date"},
		{"", "2026-11-01", accounts.ExportRange{}, "send request_id, or start_date and end_date (YYYY-MM-DD)"},
		{"2026-11-01", "", accounts.ExportRange{}, "send request_id, or start_date and end_date (YYYY-MM-DD)"},
		{"2026-13-01", "2026-11-01", accounts.ExportRange{}, "start_date must be a date as YYYY-MM-DD"},
		{"2026-11-01", "2026-11-01T00:00:00Z", accounts.ExportRange{}, "end_date must be a date as YYYY-MM-DD"},
	} {
		got, err := accounts.ParseExportRange(tc.start, tc.end)
		var inv *fault.InvalidInputError
		switch {
		case tc.detail == "" && (err != nil || got != tc.want):
			t.Errorf("ParseExportRange(%q, %q) = %+v, %v", tc.start, tc.end, got, err)
		case tc.detail != "" && (!errors.As(err, &inv) || inv.Detail != tc.detail):
			t.Errorf("ParseExportRange(%q, %q) error = %v, want %q", tc.start, tc.end, err, tc.detail)
		}
	}
}

// An export reads every session of its days, page after page, oldest first, and none created
// from its cutoff on: its two reads hold the same sessions.
func TestExportSessionsPagesToTheCutoff(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	u := identity.User{ID: uuid.NewString(), Email: "ada@example.com", CreatedAt: time.Now()}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	now := day.Add(20 * time.Hour)
	logs := &accounts.CallLogs{Sessions: store, Now: func() time.Time { return now }}
	add := func(at time.Time) string {
		s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
			Provider: call.ProviderSimulated, From: "+14155550100", To: "+14155550123"}, at)
		if err := store.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	var want []string
	for i := range 1234 { // more than two pages
		want = append(want, add(day.Add(time.Duration(i)*time.Second)))
	}
	e, err := logs.StartExport(u.ID, "2026-11-03", "2026-11-03")
	if err != nil {
		t.Fatal(err)
	}
	add(now) // created as the export runs: after its cutoff
	read := func() []string {
		var got []string
		if err := logs.ExportSessions(ctx, e, func(s *call.Session) error { got = append(got, s.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	first, second := read(), read()
	if len(first) != len(want) || len(second) != len(want) {
		t.Fatalf("read %d and %d sessions, want %d", len(first), len(second), len(want))
	}
	for i := range want {
		if first[i] != want[i] || second[i] != want[i] {
			t.Fatalf("session %d: %s and %s, want %s", i, first[i], second[i], want[i])
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := logs.ExportSessions(ctx, e, func(*call.Session) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("an error of fn: %v after %d sessions", err, n)
	}
}
